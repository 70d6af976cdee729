"""`wm eval`: measure a model on questions with gold answers, in one or both answer modes."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from worldmodel.cli import wm
from worldmodel.cli.errors import library_errors
from worldmodel.cli.options import sandbox_option, voting_options
from worldmodel.cli.render import progress_bar, progress_lines
from worldmodel.data.record import HOLDOUTS, holdout_label
from worldmodel.generate import DEFAULT_MAX_NEW_TOKENS

if TYPE_CHECKING:
    from worldmodel.evaluate import EvalJournal, ItemResult, JournalPart

_COLUMNS = (
    ("structure", "3/3 tags"),
    ("code_parses", "code parses"),
    ("executed", "ran ok"),
    ("correct", "accuracy"),
    ("verified", "verified"),
)


@wm.command("eval")
@click.argument(
    "file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default="data/test.jsonl",
    required=False,
)
@click.option(
    "--mode",
    type=click.Choice(["plain", "after-execution", "both"]),
    default="both",
    show_default=True,
    help="Answer mode to measure; 'both' runs each and compares them.",
)
@click.option("--limit", type=int, help="Evaluate at most N questions (stratified by family).")
@click.option(
    "--holdout",
    type=click.Choice([holdout_label(kind) for kind in HOLDOUTS]),
    help="Only the test questions of this hold-out kind: 'phrasing' (wording never trained on), "
    "'values' (key values never trained on) or 'none' (in-distribution, GSM8K included).",
)
@click.option("--model", "model_dir", help="Base model directory (default: the bundled model).")
@click.option("--adapter", "adapter_dir", help="LoRA adapter directory (default: bundled).")
@sandbox_option(help="Where the model's code runs: a single-use VM, or a limited host process.")
@click.option("--batch-size", type=int, default=8, show_default=True, help="Questions per batch.")
@click.option("--max-new-tokens", type=int, default=DEFAULT_MAX_NEW_TOKENS, show_default=True)
@click.option(
    "--loop-guard/--no-loop-guard",
    default=True,
    show_default=True,
    help="End a reasoning, code block or prose once it repeats itself (worldmodel.loops).",
)
@voting_options
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the JSON report here. Until it is written, scored batches are kept in "
    "OUT.journal.jsonl, so a killed run can be continued with --resume.",
)
@click.option(
    "--resume",
    is_flag=True,
    help="Continue the unfinished run whose journal is beside --out: only questions it had "
    "not scored are asked. Refused if the file, model, adapter or settings changed.",
)
@click.option(
    "--record-default",
    is_flag=True,
    help="Record the better mode beside the adapter (worldmodel-defaults.json) for wm query.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@library_errors
def eval_command(
    file: Path,
    mode: str,
    limit: int | None,
    holdout: str | None,
    model_dir: str | None,
    adapter_dir: str | None,
    sandbox: str,
    batch_size: int,
    max_new_tokens: int,
    loop_guard: bool,
    samples: int,
    vote_temperature: float,
    out: Path | None,
    resume: bool,
    record_default: bool,
    as_json: bool,
) -> None:
    """Evaluate a model on FILE (a data split, or GSM8K-style question/answer JSONL).

    Example: wm eval data/test.jsonl --limit 100 --sandbox process
    """
    from sandbox.executor import SandboxError
    from sandbox.registry import get_executor
    from worldmodel.errors import WorldModelError
    from worldmodel.evaluate import (
        EvalJournal,
        JournalPart,
        better_mode,
        evaluate,
        load_items,
        run_identity,
        stratified,
    )
    from worldmodel.generate import GenerationConfig, Generator
    from worldmodel.model.defaults import resolve_model
    from worldmodel.pipeline import Pipeline

    items, problems = load_items(file)
    for problem in problems:
        click.echo(f"skipped {problem}", err=True)
    if not items:
        raise click.ClickException(f"{file} has no usable questions")
    if record_default and samples > 1:
        raise click.UsageError(
            "--record-default records the mode measured on greedy answers; drop --samples"
        )
    if record_default and holdout:
        raise click.UsageError(
            "--record-default records the mode measured on the whole file; drop --holdout"
        )
    if holdout:
        items = [item for item in items if holdout_label(item.holdout) == holdout]
        if not items:
            raise click.ClickException(
                f"{file} has no questions with holdout {holdout!r} (only a data split's test "
                "records carry a hold-out kind; see data/README.md)"
            )
    if resume and out is None:
        raise click.UsageError("--resume continues the journal kept beside --out: give that --out")
    items = stratified(items, limit)
    modes = ["plain", "after-execution"] if mode == "both" else [mode]
    try:
        choice = resolve_model(model_dir, adapter_dir, None)
        if choice.note:
            click.echo(f"note: {choice.note}", err=True)
        journal = None
        resumed: dict[str, JournalPart] = {}
        if out is not None:
            run = run_identity(
                file,
                items,
                choice.adapter_dir,
                modes=modes,
                model=choice.model_dir,
                sandbox=sandbox,
                batch_size=batch_size,
                max_new_tokens=max_new_tokens,
                loop_guard=loop_guard,
                samples=samples,
                temperature=vote_temperature if samples > 1 else None,
            )
            journal = EvalJournal(EvalJournal.beside(out), run)
            resumed = _open_journal(journal, resume)
        generator = Generator(
            choice.model_dir,
            choice.adapter_dir,
            config=GenerationConfig(
                max_new_tokens=max_new_tokens, batch_size=batch_size, loop_guard=loop_guard
            ),
        )
        executor = get_executor(sandbox)
        reports = []
        steered: dict[str, dict[str, int]] = {}
        try:
            for each in modes:
                part = resumed.get(each, JournalPart())
                before = dict(generator.steered)
                pipeline = Pipeline(
                    generator,
                    executor,
                    mode=each,  # type: ignore[arg-type]
                    samples=samples,
                    temperature=vote_temperature,
                )
                show = (
                    progress_bar(each, True)
                    if sys.stdout.isatty() and not as_json
                    else progress_lines(each)
                )
                with show as advance:
                    reports.append(
                        evaluate(
                            pipeline,
                            items,
                            batch_size=batch_size,
                            source=str(file),
                            skipped_lines=problems,
                            on_progress=advance,
                            done=part.results,
                            on_batch=_Recorder(journal, generator, each) if journal else None,
                        )
                    )
                steered[each] = {
                    k: v - before[k] + part.steered.get(k, 0) for k, v in generator.steered.items()
                }
        finally:
            executor.close()
    except (WorldModelError, SandboxError) as exc:
        raise click.ClickException(str(exc)) from exc
    best = better_mode(reports)
    summary: dict[str, Any] = {
        "model": choice.model_dir,
        "adapter": choice.adapter_dir,
        "sandbox": sandbox,
        "holdout": holdout,
        "samples": samples,
        "temperature": vote_temperature if samples > 1 else None,
        "better_mode": best,
        "max_new_tokens": max_new_tokens,
        "loop_guard": loop_guard,
        "steered": steered,
        "reports": [report.to_dict() for report in reports],
    }
    if out:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
        if journal is not None:
            journal.finish()
    if record_default:
        if not choice.adapter_dir:
            raise click.ClickException("--record-default needs an adapter to record beside")
        target = Path(choice.adapter_dir) / "worldmodel-defaults.json"
        command = ["wm eval", str(file), f"--limit {limit}", f"--sandbox {sandbox}"]
        if adapter_dir:
            command.append(f"--adapter {adapter_dir}")
        if max_new_tokens != DEFAULT_MAX_NEW_TOKENS:
            command.append(f"--max-new-tokens {max_new_tokens}")
        if not loop_guard:
            command.append("--no-loop-guard")
        recorded: dict[str, Any] = {
            "mode": best,
            "measured_by": " ".join(command),
            **{
                name: {r.mode: r.metrics[key] for r in reports}
                for name, key in (
                    ("verified", "verified"),
                    ("accuracy", "correct"),
                    ("structure", "structure"),
                )
            },
        }
        if out:
            # Beside the adapter: name it relative to it, so the record stays true when moved.
            inside = out.resolve().parent == target.parent.resolve()
            recorded["report"] = out.name if inside else str(out)
        target.write_text(json.dumps(recorded, indent=2) + "\n", encoding="utf-8")
    if as_json:
        for report in summary["reports"]:
            report.pop("items", None)
        click.echo(json.dumps(summary, indent=2))
        return
    _print_reports(reports, best, steered)


class _Recorder:
    """Writes each scored batch to the journal with what steered the generator during it."""

    def __init__(self, journal: EvalJournal, generator: Any, mode: str):
        self.journal, self.generator, self.mode = journal, generator, mode
        self.last = dict(generator.steered)

    def __call__(self, scored: list[ItemResult]) -> None:
        now = dict(self.generator.steered)
        self.journal.append(self.mode, scored, {k: v - self.last[k] for k, v in now.items()})
        self.last = now


def _open_journal(journal: EvalJournal, resume: bool) -> dict[str, JournalPart]:
    """Start `journal`, or with `resume` read back what it holds; never overwrite one unasked."""
    if journal.path.exists() and not resume:
        raise click.ClickException(
            f"{journal.path} holds the scored batches of an unfinished run of this report: add "
            "--resume to continue it, or delete the file to start over"
        )
    if not journal.path.exists():
        if resume:
            click.echo(
                f"nothing to resume at {journal.path}: starting from the first question", err=True
            )
        journal.start()
        return {}
    parts = journal.resume()
    for mode, part in parts.items():
        click.echo(f"resuming {mode}: {len(part.results)} questions already scored", err=True)
    return parts


def _print_reports(reports, best: str, steered: dict[str, dict[str, int]]) -> None:  # type: ignore[no-untyped-def]
    from rich.console import Console
    from rich.table import Table

    console = Console(highlight=False)
    for report in reports:
        voted = f", vote of {report.samples}" if report.samples > 1 else ""
        table = Table(
            title=f"{report.mode} mode{voted} — {report.count} questions from {report.source}"
        )
        table.add_column("group")
        table.add_column("n", justify="right")
        for _, heading in _COLUMNS:
            table.add_column(heading, justify="right")
        rows = [("all", report.metrics)]
        rows += [(f"family {k}", v) for k, v in report.by_family.items()]
        rows += [(f"holdout {k}", v) for k, v in report.by_holdout.items()]
        rows += [(f"{k} agree", v) for k, v in report.by_agreement.items()]
        for name, rates in rows:
            table.add_row(
                name, str(int(rates["count"])), *(f"{rates[key]:.1%}" for key, _ in _COLUMNS)
            )
        console.print(table)
        console.print(f"mean latency {report.mean_latency_s:.2f}s per question")
        counts = steered.get(report.mode, {})
        console.print(
            f"generator steered {counts.get('think_cut', 0)} reasoning(s) past the think "
            f"budget and ended {counts.get('looped', 0)} loop(s) (worldmodel.loops)"
        )
    if len(reports) > 1:
        console.print(f"better mode (verified rate): [bold]{best}[/bold]")
