"""Human output for the CLI: answers as rich panels on a terminal, plain text when piped.

Only presentation lives here; what is printed comes from library values (`Answer`).
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta

import click
from rich.console import Console, Group
from rich.panel import Panel
from rich.syntax import Syntax
from rich.table import Table
from rich.text import Text

from worldmodel.pipeline import Answer

_STATUS_STYLE = {"verified": "bold green", "mismatch": "bold red", "unverifiable": "bold yellow"}


def console() -> Console:
    # Plain text when piped: no colours, no box-drawing wider than the content needs.
    return Console(highlight=False, soft_wrap=False)


def print_answer(answer: Answer, out: Console | None = None) -> None:
    """Print one answer: reasoning, code, execution output, answer, verification, timings."""
    out = out or console()
    parts: list = []
    response = answer.response
    if response and response.reasoning:
        parts.append(Text("Reasoning", style="bold"))
        parts.append(Text(response.reasoning.strip()))
    for index, code in enumerate(response.code if response else (), start=1):
        parts.append(Text(f"\nCode block {index}", style="bold"))
        parts.append(Syntax(code, "python", line_numbers=False, word_wrap=True))
        if index <= len(answer.executions):
            result = answer.executions[index - 1]
            status = "ok" if result.ok else "failed"
            accel = result.details.get("accelerator")
            where = f"{result.backend}" + (f", {accel}" if accel else "")
            parts.append(
                Text(f"Output ({where}, {status}, {result.duration_s:.2f}s)", style="bold")
            )
            shown = result.stdout.rstrip() or "(no output)"
            parts.append(Text(shown))
            if result.stderr.strip() and not result.ok:
                parts.append(Text(result.stderr.strip()[-2000:], style="red"))
            if result.timed_out:
                parts.append(Text("timed out", style="red"))
    if response and response.requirements:
        parts.append(Text("\nRequires: " + ", ".join(str(r) for r in response.requirements)))
    table = Table.grid(padding=(0, 2))
    table.add_column(style="bold")
    table.add_column()
    table.add_row("Answer", answer.final if answer.final is not None else "(no executed value)")
    table.add_row("Model said", answer.claim or "(nothing)")
    status = answer.verification.status
    table.add_row(
        "Verification",
        Text(f"{status}: {answer.verification.reason}", style=_STATUS_STYLE.get(status, "")),
    )
    if answer.vote:
        vote = answer.vote
        tally = " | ".join(f"{_short(value)} x{count}" for value, count in vote.tally)
        table.add_row(
            "Vote",
            f"{vote.agreeing} of {vote.samples} candidates agree "
            f"(candidate {vote.chosen}; {tally or 'none ran'})",
        )
    table.add_row("Backend", answer.backend or "(none)")
    table.add_row("Mode", answer.mode)
    timings = answer.timings.items()
    table.add_row("Timings", ", ".join(f"{k.removesuffix('_s')} {v:.2f}s" for k, v in timings))
    parts.append(Text(""))
    parts.append(table)
    if answer.problems:
        parts.append(Text("\nProblems", style="bold yellow"))
        for problem in answer.problems:
            parts.append(Text(f"- {problem}", style="yellow"))
    out.print(Panel(Group(*parts), title=answer.question, title_align="left", expand=False))


def _short(value: str, width: int = 40) -> str:
    return value if len(value) <= width else value[: width - 3] + "..."


@contextmanager
def progress_lines(label: str, every_s: float = 60.0) -> Iterator[Callable[[int, int], None]]:
    """Progress for a log, where no bar can be drawn: a line on stderr at most every `every_s`
    seconds (and when done) with the count, the seconds per item and the time left."""
    started = time.monotonic()
    state = {"shown": started, "first": -1}

    def update(done: int, total: int) -> None:
        now = time.monotonic()
        if state["first"] < 0:
            state["first"] = done  # resumed items cost no time in this run
            state["shown"] = now
            if done:
                click.echo(f"{label}: {done}/{total} already scored", err=True)
            return
        if now - state["shown"] < every_s and done < total:
            return
        state["shown"] = now
        new = done - state["first"]
        each = (now - started) / new if new else 0.0
        left = timedelta(seconds=round(each * (total - done)))
        click.echo(f"{label}: {done}/{total}, {each:.1f} s each, {left} left", err=True)

    yield update


@contextmanager
def progress_bar(label: str, enabled: bool) -> Iterator[Callable[[int, int], None] | None]:
    """A rich progress bar on a TTY; nothing when output is piped or --json is asked."""
    if not enabled or not sys.stdout.isatty():
        yield None
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

    with Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
    ) as bar:
        task = bar.add_task(label, total=None)

        def update(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        yield update
