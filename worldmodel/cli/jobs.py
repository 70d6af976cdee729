"""`wm submit-query`, `wm submit-train`, `wm status`, `wm result`, `wm cancel`, `wm jobs`,
`wm workers`: the client of the distributed job system.

Each command is thin: it imports the Celery app (which reads the worker settings: broker URL and
password from `WM_BROKER_URL` or the workers config), calls `workers.jobs`, and prints plain
text, a rich table/progress bar on a terminal, or `--json`. An unreachable broker is an error
(exit 1) that says the job was NOT accepted, or, when Redis went away midway, that it may run
and how to settle it. This module does not run jobs.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

import click

from worldmodel.cli.errors import library_errors
from worldmodel.cli.group import wm
from worldmodel.cli.options import voting_options
from worldmodel.format import MODES


def _app() -> Any:
    """The Celery app (its settings errors name the setting to change)."""
    try:
        from workers.app import app
    except ImportError as exc:
        raise click.ClickException(
            f"the job system is not installed ({exc}); pip install 'worldmodel[workers]'"
        ) from exc
    return app


def _echo_json(value: Any) -> None:
    click.echo(json.dumps(value, indent=2, ensure_ascii=False, default=str))


@wm.command("submit-query")
@click.argument("question")
@click.option("--wait", is_flag=True, help="Wait for the answer and print it.")
@click.option(
    "--timeout",
    type=float,
    default=600.0,
    show_default=True,
    help="Seconds --wait waits before giving up (the job keeps running).",
)
@click.option(
    "--mode",
    type=click.Choice(MODES),
    default=None,
    help="Answer mode (default: the workers' `mode` setting, else the mode recorded beside "
    "the adapter that answers, as for `wm query`).",
)
@click.option(
    "--batch",
    "batch",
    is_flag=True,
    help="Bulk/evaluation priority: waits behind interactive queries.",
)
@click.option(
    "--adapter",
    help="LoRA adapter to answer with: a path the workers can read, or the artifact URL a "
    "training job's result names under 'adapter' (default: the workers' own).",
)
@voting_options
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@library_errors
def submit_query(
    question: str,
    wait: bool,
    timeout: float,
    mode: str | None,
    batch: bool,
    adapter: str | None,
    samples: int,
    vote_temperature: float,
    as_json: bool,
) -> None:
    """Submit QUESTION to the workers; print its job id (or, with --wait, the answer).

    Example: wm submit-query "What is 15% of 200?" --wait
    """
    from workers import jobs

    if adapter and "://" not in adapter and Path(adapter).exists():
        # A folder this machine sees: check it now rather than fail on a worker later.
        from worldmodel.model.loading import ADAPTER_CONFIG

        if not (Path(adapter) / ADAPTER_CONFIG).is_file():
            raise click.UsageError(
                f"--adapter {adapter} has no {ADAPTER_CONFIG}; pass the adapter folder "
                "(a training job's result names it under 'adapter')"
            )
        adapter = str(Path(adapter).resolve())
    app = _app()
    job_id = jobs.submit_query(
        app,
        question,
        mode=mode,
        job_class="batch" if batch else "interactive",
        adapter=adapter,
        samples=samples,
        temperature=vote_temperature,
    )
    if not wait:
        _echo_json({"job_id": job_id}) if as_json else click.echo(job_id)
        return
    click.echo(f"job {job_id} accepted; waiting", err=True)
    answer = jobs.result(app, job_id, wait=True, timeout_s=timeout)
    _print_answer(answer, as_json)


@wm.command("submit-train")
@click.option("--data", required=True, help="Training JSONL (a path every worker can read).")
@click.option("--base", required=True, help="Base model directory, or 'bundled'.")
@click.option(
    "--config",
    "config_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Training config YAML (see `wm train --help-config`).",
)
@click.option("--validation", help="Validation JSONL (default: none).")
@click.option("--artifacts", help="Artifact store path or fsspec URL (default: workers setting).")
@click.option(
    "--gpus",
    type=click.IntRange(min=1),
    default=1,
    show_default=True,
    help="Train data-parallel on N GPUs of one box (the worker claims them all; a box with "
    "fewer fails the job at once).",
)
@click.option(
    "--set",
    "overrides",
    multiple=True,
    metavar="KEY=VALUE",
    help="Override one training setting (repeatable).",
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@library_errors
def submit_train(
    data: str,
    base: str,
    config_file: Path | None,
    validation: str | None,
    artifacts: str | None,
    gpus: int,
    overrides: tuple[str, ...],
    as_json: bool,
) -> None:
    """Submit a LoRA training job; print its job id. Follow it with `wm status ID`.

    \b
    Examples:
      wm submit-train --data data/train.jsonl --base bundled --set max_steps=100
      wm submit-train --data data/train.jsonl --base bundled --gpus 4
    """
    from workers import jobs
    from worldmodel.train.config import build_config, load_yaml, parse_overrides

    config: dict[str, Any] = {}
    if config_file is not None:
        config.update(load_yaml(config_file))
    config.update(parse_overrides(list(overrides)))
    if isinstance(config.get("extra_train_files"), list):  # as the worker will read them
        config["extra_train_files"] = [
            str(Path(p).resolve()) if Path(str(p)).exists() else p
            for p in config["extra_train_files"]
        ]
    # Validate here so a typo fails now, not on a worker an hour later.
    built = build_config(
        config | {"model": base, "train_file": data, "validation_file": validation}
    )
    if gpus > 1:
        from workers.gpus import pinning_problem

        problem = pinning_problem(built.rocm_env)
        if problem:
            raise click.UsageError(problem)
    app = _app()
    job_id = jobs.submit_train(
        app,
        data=str(Path(data).resolve()) if Path(data).exists() else data,
        base=base,
        config=config,
        validation=validation,
        artifacts=artifacts,
        gpus=gpus,
    )
    _echo_json({"job_id": job_id}) if as_json else click.echo(job_id)


@wm.command("status")
@click.argument("job_id")
@click.option(
    "--follow/--no-follow",
    default=None,
    help="Keep a live progress bar until the job ends (default: on a terminal, for training).",
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@library_errors
def status(job_id: str, follow: bool | None, as_json: bool) -> None:
    """Show a job's state (and training progress).

    Example: wm status 3f2c...
    """
    from workers import jobs

    app = _app()
    current = jobs.status(app, job_id)
    if as_json:
        _echo_json(current)
        return
    if follow is None:
        follow = sys.stdout.isatty() and current["kind"] == "train"
    if follow and current["kind"] == "train":
        _follow_training(app, job_id, current)
        return
    click.echo(f"{job_id}  {current['kind']}  {current['state']}")
    for step, state in current["steps"].items():
        click.echo(f"  {step}: {state}")
    if current["progress"]:
        click.echo("  " + _progress_line(current["progress"]))


@wm.command("result")
@click.argument("job_id")
@click.option("--wait", is_flag=True, help="Wait until the job finishes.")
@click.option("--timeout", type=float, default=None, help="Seconds to wait (default: forever).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@library_errors
def result(job_id: str, wait: bool, timeout: float | None, as_json: bool) -> None:
    """Print a finished job's result: the verified answer, or the training summary.

    Example: wm result 3f2c... --json
    """
    from workers import jobs

    app = _app()
    value = jobs.result(app, job_id, wait=wait, timeout_s=timeout)
    if isinstance(value, dict) and "verification" in value:
        _print_answer(value, as_json)
    else:
        _echo_json(value) if as_json else _print_mapping(value)


@wm.command("cancel")
@click.argument("job_id")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@library_errors
def cancel(job_id: str, as_json: bool) -> None:
    """Cancel a job: queued steps never run; training stops at its next step (GPU freed).

    Example: wm cancel 3f2c...
    """
    from workers import jobs

    current = jobs.cancel(_app(), job_id)
    _echo_json(current) if as_json else click.echo(f"{job_id} cancelled ({current['state']})")


@wm.command("jobs")
@click.option("--limit", type=int, default=20, show_default=True, help="How many recent jobs.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@library_errors
def list_jobs(limit: int, as_json: bool) -> None:
    """List recent and active jobs, newest first.

    Example: wm jobs --limit 5
    """
    from rich.table import Table

    from workers import jobs
    from worldmodel.cli.render import console

    found = jobs.recent(_app(), limit)
    if as_json:
        _echo_json(found)
        return
    table = Table("job", "kind", "state", "submitted", "what")
    for item in found:
        job = item["job"]
        what = job.get("question") or f"{job.get('data')} on {job.get('base')}"
        submitted = time.strftime("%H:%M:%S", time.localtime(job["submitted_at"]))
        table.add_row(item["job_id"], item["kind"], item["state"], submitted, what[:60])
    console().print(table)


@wm.command("workers")
@click.option(
    "--timeout",
    type=float,
    default=1.5,
    show_default=True,
    help="Seconds to wait for workers to answer.",
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@library_errors
def list_workers(timeout: float, as_json: bool) -> None:
    """List live workers: box, GPU, queues, current jobs.

    Example: wm workers
    """
    from rich.table import Table

    from workers import jobs
    from worldmodel.cli.render import console

    found = jobs.workers(_app(), timeout)
    if as_json:
        _echo_json(found)
        return
    if not found:
        click.echo("no workers answered (start one with `wm worker gpu` / `wm worker sandbox`)")
        return
    table = Table("worker", "box", "kind", "gpu", "queues", "answers with", "current")
    for item in found:
        facts = {c["id"]: c for c in item.get("current", [])}  # what the worker tracks
        current = ", ".join(_activity(facts.get(a["id"], {}) | a) for a in item["active"]) or "-"
        table.add_row(
            item["name"],
            str(item.get("host", "?")),
            str(item.get("kind", "?")),
            str(item.get("gpu") or "cpu"),
            ",".join(item["queues"]),
            _answers_with(item.get("answers_with")),
            current,
        )
    console().print(table)


def _activity(task: dict[str, Any]) -> str:
    """One running task in `wm workers`: name and id, and a data-parallel job's ranks."""
    text = f"{task['task']} {task['id'][:12]}"
    if task.get("world_size", 1) > 1:
        gpus = task.get("gpus")
        where = f"GPUs {','.join(map(str, gpus))}" if gpus else "waiting for GPUs"
        text += f" ({task['world_size']} ranks, {where})"
    return text


def _ranks_line(ranks: dict[str, Any]) -> str:
    gpus = ",".join(map(str, ranks.get("gpus") or []))
    return f"ranks: {ranks.get('world_size')} on {ranks.get('box')}, GPUs {gpus}"


def _answers_with(choice: dict[str, Any] | None) -> str:
    if not choice:
        return "-"
    adapter = Path(choice["adapter"]).name if choice.get("adapter") else "no adapter"
    return f"{Path(choice['model']).name} + {adapter}, {choice['mode']}"


def _print_answer(answer: dict[str, Any], as_json: bool) -> None:
    if as_json:
        _echo_json(answer)
        return
    from worldmodel.cli.render import print_answer
    from worldmodel.pipeline import Answer

    print_answer(Answer.from_dict(answer))
    click.echo(f"job {answer.get('job_id')}  workers: {answer.get('workers')}")


def _print_mapping(value: Any) -> None:
    if not isinstance(value, dict):
        click.echo(value)
        return
    for key, item in value.items():
        click.echo(f"{key}: {item}")


def _progress_line(progress: dict[str, Any]) -> str:
    total = progress.get("total_steps") or "?"
    eta = progress.get("eta_s")
    line = (
        f"step {progress.get('step')}/{total}  epoch {progress.get('epoch')}  "
        f"loss {progress.get('loss')}  {progress.get('tokens_per_s')} tok/s  "
        f"ETA {'?' if eta is None else f'{eta:.0f} s'}"
    )
    if progress.get("ranks"):  # a data-parallel job (`submit-train --gpus N`)
        line += "  " + _ranks_line(progress["ranks"])
    return line


def _follow_training(app: Any, job_id: str, current: dict[str, Any]) -> None:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    from workers import jobs

    with Progress(
        TextColumn("[bold]train"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[detail]}"),
    ) as bar:
        task = bar.add_task(job_id, total=None, detail=current["state"])
        while current["state"] not in ("SUCCESS", "FAILURE", "REVOKED"):
            progress = current["progress"] or {}
            bar.update(
                task,
                total=progress.get("total_steps"),
                completed=progress.get("step") or 0,
                detail=_progress_line(progress) if progress else current["state"],
            )
            time.sleep(1.0)
            current = jobs.status(app, job_id)
    click.echo(f"{job_id}: {current['state']}")
