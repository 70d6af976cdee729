"""`wm data`: build, check and count the verified training dataset.

Thin wrappers over `worldmodel.data`: `build` generates and verifies the dataset, `check`
re-verifies files line by line, `stats` counts them. Human output uses rich tables (and a
progress bar on a TTY); `--json` prints one JSON object for scripts.

Exit codes: 0 success; 1 `check` found problems, or a command failed; 2 usage error.
"""

from __future__ import annotations

import functools
import json
import sys
from pathlib import Path
from typing import Any

import click

from worldmodel.cli.errors import library_errors
from worldmodel.cli.group import wm
from worldmodel.cli.options import device_options, sandbox_option
from worldmodel.cli.render import progress_bar


@wm.group("data")
def data() -> None:
    """Build, check and count the verified training dataset.

    Example: wm data build --out data/
    """


@data.command("build")
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("data"),
    show_default=True,
    help="Folder for train/validation/test.jsonl and manifest.",
)
@click.option("--seed", type=int, default=0, show_default=True, help="Generator seed.")
@click.option(
    "--per-template",
    type=click.IntRange(min=1),
    default=80,
    show_default=True,
    help="Examples asked of each template (before dedup and verification).",
)
@click.option(
    "--extra-train",
    type=click.IntRange(min=0),
    default=0,
    show_default=True,
    help="More training examples per template, from a separate stream that also uses the "
    "training-only phrasings; validation and test stay exactly as without it.",
)
@click.option(
    "--gsm8k/--no-gsm8k",
    default=True,
    show_default=True,
    help="Import GSM8K examples from data/sources/gsm8k/.",
)
@click.option(
    "--gsm8k-limit",
    type=click.IntRange(min=0),
    default=0,
    show_default=True,
    help="GSM8K examples to sample after conversion (0 = all).",
)
@click.option(
    "--gsm8k-source",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    default=None,
    help="GSM8K train.jsonl [default: data/sources/gsm8k/train.jsonl].",
)
@click.option(
    "--workers",
    type=click.IntRange(min=1),
    default=2,
    show_default=True,
    help="Examples verified in parallel in the process sandbox.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@library_errors
def build_command(
    out: Path,
    seed: int,
    per_template: int,
    extra_train: int,
    gsm8k: bool,
    gsm8k_limit: int,
    gsm8k_source: Path | None,
    workers: int,
    as_json: bool,
) -> None:
    """Generate, verify in the sandbox, split and write the dataset.

    Every example's code is run in the process sandbox and its output compared with an
    answer computed independently; failures are counted with reasons, never written.

    Example: wm data build --out data/ --seed 0 --per-template 80 --extra-train 120 --workers 2
    """
    from worldmodel.data import gsm8k as gsm8k_module
    from worldmodel.data.build import build
    from worldmodel.data.verify import default_executor

    source = gsm8k_source or gsm8k_module.SOURCE
    if gsm8k and not source.exists():
        raise click.ClickException(
            f"{source} not found; run from the repository root, pass --gsm8k-source, "
            "or use --no-gsm8k"
        )
    with progress_bar("verifying", not as_json) as progress:
        report = build(
            out,
            seed=seed,
            per_template=per_template,
            extra_train=extra_train,
            use_gsm8k=gsm8k,
            gsm8k_limit=gsm8k_limit,
            gsm8k_path=source,
            workers=workers,
            executor=default_executor(),
            progress=progress,
        )
    if as_json:
        click.echo(json.dumps({**report.to_dict(), "seconds": round(report.seconds, 2)}))
        return
    from rich.console import Console
    from rich.table import Table

    console = Console()
    table = Table(title=f"wm data build → {out} ({report.seconds:.0f} s)")
    table.add_column("what")
    table.add_column("count", justify="right")
    for split, n in report.counts.items():
        table.add_row(f"written: {split}", str(n))
    for source_name, n in report.kept.items():
        table.add_row(f"verified: {source_name}", str(n))
    for reason, n in sorted(report.rejected.items()):
        table.add_row(f"rejected: {reason}", str(n))
    table.add_row("gsm8k converted but not sampled (--gsm8k-limit)", str(report.gsm8k_not_sampled))
    table.add_row("generator shortfalls", str(len(report.shortfalls)))
    console.print(table)
    for line in report.shortfalls:
        console.print(f"  shortfall: {line}", highlight=False)


@data.command("check")
@click.argument(
    "files", nargs=-1, required=True, type=click.Path(dir_okay=False, exists=True, path_type=Path)
)
@click.option(
    "--workers",
    type=click.IntRange(min=1),
    default=2,
    show_default=True,
    help="Records run in parallel in the process sandbox.",
)
@click.option("--no-run", is_flag=True, help="Only static checks; do not execute the code.")
@click.option("--json", "as_json", is_flag=True, help="Print the problems as JSON.")
@library_errors
def check_command(files: tuple[Path, ...], workers: int, no_run: bool, as_json: bool) -> None:
    """Re-verify dataset files; report each problem as file:line and exit 1 if any.

    Checks JSON, required fields, the response tags, requirements against imports and the
    sandbox's modules, that the code runs and prints the expected answer, and hold-out leaks.

    Example: wm data check data/train.jsonl data/validation.jsonl data/test.jsonl
    """
    from worldmodel.data.check import check_files
    from worldmodel.data.verify import default_executor

    executor = None if no_run else default_executor()
    try:
        with progress_bar("checking", not as_json) as progress:
            result = check_files(
                list(files),
                executor,
                workers=workers,
                run_code=not no_run,
                progress=progress,
            )
    finally:
        if executor is not None:
            executor.close()
    if as_json:
        click.echo(
            json.dumps(
                {
                    "lines": result.lines,
                    "ok": result.ok,
                    "problems": [p.to_dict() for p in result.problems],
                }
            )
        )
    else:
        for problem in result.problems:
            click.echo(str(problem))
        status = "ok" if result.ok else f"{len(result.problems)} problem(s)"
        click.echo(f"checked {result.lines} line(s) in {len(files)} file(s): {status}")
    if not result.ok:
        sys.exit(1)


@data.command("self-train")
@click.argument(
    "file", default="data/train.jsonl", type=click.Path(exists=True, dir_okay=False, path_type=Path)
)
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    default="data/self/train.jsonl",
    show_default=True,
    help="The self-training stream to write (train with extra_train_files: [this file]).",
)
@click.option("--family", "families", multiple=True, help="Only this family (repeatable).")
@click.option(
    "--source", "sources", multiple=True, help="Only this source, e.g. gsm8k (repeatable)."
)
@click.option("--limit", type=click.IntRange(min=1), help="Ask a seeded sample of N questions.")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of --limit's sample.")
@click.option(
    "--samples",
    type=click.IntRange(min=2, max=16),
    default=4,
    show_default=True,
    help="Candidates per question: the greedy one and K-1 sampled.",
)
@click.option(
    "--temperature",
    type=click.FloatRange(min=0, min_open=True),
    default=0.7,
    show_default=True,
    help="Sampling temperature of the sampled candidates.",
)
@click.option(
    "--keep",
    type=click.IntRange(min=1),
    default=2,
    show_default=True,
    help="Most distinct verified programs kept per question.",
)
@click.option("--model", "model_dir", help="Base model directory (default: the bundled model).")
@click.option("--adapter", "adapter_dir", help="LoRA adapter directory (default: bundled).")
@sandbox_option()
@click.option("--batch-size", type=click.IntRange(min=1), default=8, show_default=True)
@device_options()
@click.option(
    "--queue",
    is_flag=True,
    help="Through the job system (WM_BROKER_URL): each question is a batch query job with "
    "--samples candidates on the generation and sandbox workers; kept candidates are verified "
    "again here in --sandbox.",
)
@click.option("--timeout", type=float, help="With --queue: seconds to wait for each job.")
@click.option("--resume", is_flag=True, help="Continue the run whose --out and progress exist.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@library_errors
def self_train_command(
    file: Path,
    out: Path,
    families: tuple[str, ...],
    sources: tuple[str, ...],
    limit: int | None,
    seed: int,
    samples: int,
    temperature: float,
    keep: int,
    model_dir: str | None,
    adapter_dir: str | None,
    sandbox: str,
    batch_size: int,
    device: str,
    precision: str,
    threads: int | None,
    queue: bool,
    timeout: float | None,
    resume: bool,
    as_json: bool,
) -> None:
    """Sample candidates for training questions, run each in the sandbox and keep those that
    print the gold answer: a separate, labelled training stream (source "self").

    Example: wm data self-train --source gsm8k --limit 200 --samples 4 --sandbox process
    """
    from sandbox.registry import get_executor
    from worldmodel.data import self_train
    from worldmodel.generate import GenerationConfig

    questions, skipped = self_train.select_questions(
        file, families=families, sources=sources, limit=limit, seed=seed
    )
    if not questions:
        raise click.UsageError(f"no training question of {file} matches --family/--source")
    executor = get_executor(sandbox)
    try:
        if queue:
            from workers import jobs
            from worldmodel.cli.jobs import _app

            app = _app()
            adapter = str(Path(adapter_dir).resolve()) if adapter_dir else None

            attempt: self_train.Attempt = functools.partial(
                jobs.attempt_via_queue,
                app,
                samples=samples,
                temperature=temperature,
                adapter=adapter,
                timeout_s=timeout,
            )
            provenance: dict[str, Any] = {
                "model": "the workers'",
                "adapter": adapter_dir or "the workers'",
                "samples": samples,
                "temperature": temperature,
                "via": "queue",
            }
        else:
            config = GenerationConfig(
                batch_size=batch_size, device=device, precision=precision, threads=threads
            )
            attempt, provenance = self_train.local_attempt(
                model_dir,
                adapter_dir,
                executor,
                samples=samples,
                temperature=temperature,
                config=config,
            )
        with progress_bar("self-train", sys.stderr.isatty() and not as_json) as advance:
            report = self_train.self_train(
                questions,
                attempt,
                executor,
                out,
                provenance=provenance,
                batch_size=batch_size,
                keep_per_question=keep,
                resume=resume,
                on_batch=advance,
            )
    finally:
        executor.close()
    report.skipped = skipped
    if as_json:
        click.echo(json.dumps(report.to_dict() | {"out": str(out)}, indent=2))
        return
    click.echo(
        f"{report.questions} questions: {report.solved} gained a verified solution "
        f"({report.solved_greedy} by the greedy answer, {report.gained_by_sampling} only by "
        f"sampling); {report.kept} records in {out}"
    )
    click.echo("candidates: " + ", ".join(f"{k} {v}" for k, v in report.outcomes.most_common()))


@data.command("stats")
@click.argument("targets", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print the counts as JSON.")
@library_errors
def stats_command(targets: tuple[Path, ...], as_json: bool) -> None:
    """Count records per family, template, split, hold-out and source.

    Example: wm data stats data/
    """
    from worldmodel.data.stats import DIMENSIONS, count, dataset_files

    files = dataset_files(list(targets))
    if not files:
        raise click.ClickException("no .jsonl files found in the given paths")
    counts = count(files)
    if as_json:
        click.echo(json.dumps(counts))
        return
    from rich.console import Console
    from rich.table import Table

    console = Console()
    console.print(
        f"{counts['total']} records in {len(files)} file(s); {counts['bad_lines']} bad line(s)"
    )
    for dimension in DIMENSIONS:
        table = Table(title=dimension)
        table.add_column(dimension)
        table.add_column("records", justify="right")
        for value, n in counts[dimension].items():
            table.add_row(value, str(n))
        console.print(table)
