"""`wm eval`: measure a model on questions with gold answers, in one or both answer modes, one
report per questions' file."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from worldmodel.cli.errors import library_errors
from worldmodel.cli.group import wm
from worldmodel.cli.options import device_options, sandbox_option, voting_options
from worldmodel.cli.render import progress_bar, progress_lines
from worldmodel.data.record import HOLDOUTS, holdout_label
from worldmodel.format import MODES, is_mode
from worldmodel.generate import DEFAULT_MAX_NEW_TOKENS

if TYPE_CHECKING:
    from worldmodel.eval_run import EvalSettings
    from worldmodel.evaluate import EvalReport

_COLUMNS = (
    ("structure", "3/3 tags"),
    ("code_parses", "code parses"),
    ("executed", "ran ok"),
    ("correct", "accuracy"),
    ("verified", "verified"),
)


DEFAULT_FILE = Path("data/test.jsonl")


@wm.command("eval")
@click.argument(
    "files",
    nargs=-1,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
)
@click.option(
    "--mode",
    type=click.Choice([*MODES, "both"]),
    default="both",
    show_default=True,
    help="Answer mode to measure; 'both' runs each and compares them.",
)
@click.option(
    "--limit",
    type=int,
    help="Evaluate at most N questions of each file (stratified by family, hold-out and steps).",
)
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
@device_options()
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
    files: tuple[Path, ...],
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
    device: str,
    precision: str,
    threads: int | None,
    out: Path | None,
    resume: bool,
    record_default: bool,
    as_json: bool,
) -> None:
    """Evaluate a model on FILES (data splits, the development set data/dev/, or GSM8K-style
    question/answer JSONL; default data/test.jsonl), with one report per file.

    Example: wm eval data/test.jsonl data/dev/word_problems.jsonl --limit 100 --sandbox process
    """
    from worldmodel import eval_run

    if not files:
        if not DEFAULT_FILE.is_file():
            raise click.BadParameter(
                f"no FILES given and {DEFAULT_FILE} does not exist here", param_hint="FILES"
            )
        files = (DEFAULT_FILE,)
    if record_default and samples > 1:
        raise click.UsageError(
            "--record-default records the mode measured on greedy answers; drop --samples"
        )
    if record_default and len(files) > 1:
        raise click.UsageError(
            "--record-default records the mode measured on one file; give only that FILE"
        )
    if record_default and holdout:
        raise click.UsageError(
            "--record-default records the mode measured on the whole file; drop --holdout"
        )
    if resume and out is None:
        raise click.UsageError("--resume continues the journal kept beside --out: give that --out")
    settings = eval_run.EvalSettings(
        model_dir=model_dir,
        adapter_dir=adapter_dir,
        sandbox=sandbox,
        modes=(mode,) if is_mode(mode) else MODES,  # the choice is one mode or "both"
        batch_size=batch_size,
        max_new_tokens=max_new_tokens,
        loop_guard=loop_guard,
        samples=samples,
        temperature=vote_temperature,
        device=device,
        precision=precision,
        threads=threads,
    )
    bar = sys.stdout.isatty() and not as_json
    run = eval_run.run_eval(
        files,
        settings,
        limit=limit,
        holdout=holdout,
        out=out,
        resume=resume,
        progress=lambda each: progress_bar(each, True) if bar else progress_lines(each),
        notify=lambda line: click.echo(line, err=True),
    )
    if record_default:
        measured_by = _measured_by(files[0], limit, settings)
        eval_run.record_default(run, measured_by=measured_by, report=out)
    if as_json:
        for report in run.summary["reports"]:
            report.pop("items", None)
        click.echo(json.dumps(run.summary, indent=2))
        return
    _print_reports(run.reports, run.summary)


def _measured_by(file: Path, limit: int | None, settings: EvalSettings) -> str:
    """The `wm eval` command line recorded with a default: what a reader needs to re-measure."""
    command = ["wm eval", str(file), f"--limit {limit}", f"--sandbox {settings.sandbox}"]
    if settings.adapter_dir:
        command.append(f"--adapter {settings.adapter_dir}")
    if settings.max_new_tokens != DEFAULT_MAX_NEW_TOKENS:
        command.append(f"--max-new-tokens {settings.max_new_tokens}")
    if not settings.loop_guard:
        command.append("--no-loop-guard")
    return " ".join(command)


def _print_reports(reports: list[EvalReport], summary: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console(highlight=False)
    modes = len({report.mode for report in reports})
    for number, report in enumerate(reports):
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
        if set(report.by_holdout) != {"none"}:  # a file without hold-outs: the row is "all"
            rows += [(f"holdout {k}", v) for k, v in report.by_holdout.items()]
        rows += [(f"{k} step{'s' if k != '1' else ''}", v) for k, v in report.by_steps.items()]
        rows += [(f"{k} agree", v) for k, v in report.by_agreement.items()]
        for name, rates in rows:
            table.add_row(
                name, str(int(rates["count"])), *(f"{rates[key]:.1%}" for key, _ in _COLUMNS)
            )
        console.print(table)
        console.print(f"mean latency {report.mean_latency_s:.2f}s per question")
        counts = summary["reports"][number]["steered"]
        console.print(
            f"generator steered {counts.get('think_cut', 0)} reasoning(s) past the think "
            f"budget and ended {counts.get('looped', 0)} loop(s) (worldmodel.loops)"
        )
        if modes > 1 and (number + 1) % modes == 0:  # the last mode of this file
            best = summary["better_mode_by_file"][report.source]
            console.print(f"better mode on {report.source} (verified rate): [bold]{best}[/bold]")
