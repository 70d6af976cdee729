"""`wm workflow`: data -> train -> evaluate -> sample answers, in one command."""

from __future__ import annotations

import json
from typing import Any

import click

from worldmodel.cli.errors import library_errors
from worldmodel.cli.group import wm
from worldmodel.cli.options import sandbox_option


@wm.command()
@click.option(
    "--preset",
    type=click.Choice(["quick", "full"]),
    default="quick",
    show_default=True,
    help="quick: a small dataset and a few training steps (minutes on a CPU); full: the "
    "committed data recipe and configs/smollm2-cpu.yaml (hours on a CPU).",
)
@click.option("--out", help="Run folder (default <WM_HOME>/runs/workflow-<preset>).")
@click.option("--model", help="Base model directory, or 'bundled' (default).")
@click.option("--per-template", type=int, help="Generated examples per template.")
@click.option("--gsm8k-limit", type=int, help="GSM8K problems to include (0: none).")
@click.option("--max-steps", type=int, help="Training steps (overrides the preset's config).")
@click.option("--eval-limit", type=int, help="Test questions to evaluate per answer mode.")
@click.option("--max-new-tokens", type=int, help="Generation budget per answer.")
@sandbox_option(
    default="process", help="Where verification, evaluation and sample code runs: vm or process."
)
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
@library_errors
def workflow(
    preset: str,
    out: str | None,
    model: str | None,
    per_template: int | None,
    gsm8k_limit: int | None,
    max_steps: int | None,
    eval_limit: int | None,
    max_new_tokens: int | None,
    sandbox: str,
    as_json: bool,
) -> None:
    """Run the whole workflow: build verified data, train, evaluate, sample answers.

    Example: wm workflow --preset quick
    """
    from worldmodel.home import home_path
    from worldmodel.workflow import preset as make_preset
    from worldmodel.workflow import run_workflow

    folder = out or str(home_path("runs") / f"workflow-{preset}")
    config = make_preset(
        preset,
        folder,
        model=model,
        per_template=per_template,
        gsm8k_limit=gsm8k_limit,
        eval_limit=eval_limit,
        max_new_tokens=max_new_tokens,
        sandbox=sandbox,
        train_overrides={"max_steps": max_steps} if max_steps is not None else None,
    )

    def report(name: str, result: dict[str, Any]) -> None:
        if not as_json:
            click.echo(f"[{name}] done in {result['seconds']:.1f}s", err=True)

    summary = run_workflow(config, on_stage=report)
    if as_json:
        click.echo(json.dumps(summary, indent=2))
        return
    stages = summary["stages"]
    click.echo(f"run folder: {folder}")
    click.echo(f"data: {stages['data']['written']}")
    click.echo(f"adapter: {stages['train']['adapter_dir']}")
    for mode, metrics in stages["eval"]["metrics"].items():
        click.echo(
            f"eval {mode}: structure {metrics['structure']:.0%}, accuracy "
            f"{metrics['correct']:.0%}, verified {metrics['verified']:.0%} (n={metrics['count']})"
        )
    click.echo(f"better mode: {stages['eval']['better_mode']}")
    for answer in stages["samples"]["answers"]:
        click.echo(f"- {answer['question']} -> {answer['final']} ({answer['verification']})")
