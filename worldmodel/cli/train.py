"""`wm train` (LoRA fine-tuning) and `wm export` (an adapter merged, or packaged to share).

Thin commands: they build a `TrainConfig` from defaults < `--config` YAML < flags, call
`worldmodel.train.trainer.train`, and print the result. Ctrl-C stops at the next step boundary
after saving a checkpoint; `--resume` continues from it bit-for-bit, or, with a larger
`--epochs`/`max_steps`, trains a stopped or finished run longer in the same data order.

`--gpus N` trains data-parallel on N devices of this box: the command re-launches itself through
`torch.distributed.run` (torchrun) with N processes, each running this same command (see
`worldmodel.train.distributed`); Ctrl-C reaches them through torchrun, once.
"""

from __future__ import annotations

import json
import os
import shlex
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import click

from worldmodel.cli.errors import library_errors
from worldmodel.cli.group import wm
from worldmodel.cli.options import device_options
from worldmodel.train.package import DTYPES

# Flag name -> TrainConfig field, for the settings people change most; anything else: --set.
_FLAGS = {
    "model": "model",
    "train_file": "train_file",
    "validation_file": "validation_file",
    "output_dir": "output_dir",
    "epochs": "epochs",
    "max_steps": "max_steps",
    "learning_rate": "learning_rate",
    "batch_size": "batch_size",
    "max_seq_len": "max_seq_len",
    "device": "device",
    "precision": "precision",
    "threads": "threads",
    "with_output": "with_output",
    "max_train_examples": "max_train_examples",
}


@wm.command()
@click.option(
    "--config",
    "config_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="YAML file of settings (see configs/).",
)
@click.option(
    "--set",
    "overrides",
    multiple=True,
    metavar="KEY=VALUE",
    help="Override any setting, e.g. --set lora_r=8 (repeatable).",
)
@click.option("--model", help="Base model directory, or 'bundled' (default).")
@click.option("--train-file", help="Training JSONL (default data/train.jsonl).")
@click.option("--validation-file", help="Validation JSONL for per-epoch loss.")
@click.option("--output-dir", help="Run folder (default <WM_HOME>/runs/<run_name>).")
@click.option("--epochs", type=int, help="Passes over the training data.")
@click.option("--max-steps", type=int, help="Stop after this many optimizer steps.")
@click.option("--learning-rate", type=float, help="Peak learning rate.")
@click.option("--batch-size", type=int, help="Packed rows per micro-batch.")
@click.option("--max-seq-len", type=int, help="Tokens per packed row.")
@device_options(default=None)
@click.option(
    "--gpus",
    type=click.IntRange(min=1),
    help="Train data-parallel on N devices of this box, one process each (torchrun); with "
    "--device cpu, N CPU processes. Global batch: batch size x N x grad_accum.",
)
@click.option("--max-train-examples", type=int, help="Use only the first N training records.")
@click.option(
    "--with-output/--plain",
    default=None,
    help="Train the answer-after-execution variant (<output> block, no loss on it).",
)
@click.option(
    "--resume",
    is_flag=True,
    help="Continue from the run folder's last checkpoint (a larger --epochs/max_steps extends it).",
)
@click.option("--no-progress", is_flag=True, help="No progress bar (metrics still go to JSONL).")
@click.option("--help-config", is_flag=True, help="List every setting with its help and exit.")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@library_errors
def train(
    config_file: Path | None,
    overrides: tuple[str, ...],
    resume: bool,
    no_progress: bool,
    help_config: bool,
    as_json: bool,
    gpus: int | None,
    **flags: Any,
) -> None:
    """Fine-tune a LoRA adapter on WorldModel data.

    \b
    Examples:
      wm train --config configs/smollm2-cpu.yaml --set epochs=1
      wm train --config configs/qwen3-0.6b-cuda.yaml --gpus 4
    """
    from worldmodel.train.config import build_config, field_help, load_yaml, parse_overrides

    if help_config:
        for name, text in field_help().items():
            click.echo(f"{name:26} {text}")
        return
    layers: list[dict[str, Any]] = [load_yaml(config_file)] if config_file else []
    layers.append(parse_overrides(list(overrides)))
    named = {_FLAGS[k]: v for k, v in flags.items() if v is not None}
    if resume:
        named["resume"] = True
    if no_progress:
        named["progress"] = False
    layers.append(named)
    config = build_config(*layers)
    if gpus is not None and gpus > 1 and "LOCAL_RANK" not in os.environ:
        code = _relaunch(gpus)
        if code not in (0, 130):
            from worldmodel.train.resume import after_failed_ranks

            click.echo(after_failed_ranks(config, code), err=True)
        sys.exit(code)
    if gpus is not None and "LOCAL_WORLD_SIZE" in os.environ:
        started = int(os.environ["LOCAL_WORLD_SIZE"])
        if started != gpus:
            raise click.UsageError(f"--gpus {gpus}, but torchrun started {started} processes here")
    main_process = os.environ.get("RANK", "0") == "0"

    from worldmodel.train.trainer import train as run_training

    stop_requested = {"flag": False}

    def on_interrupt(signum: int, frame: Any) -> None:
        if stop_requested["flag"]:
            raise KeyboardInterrupt
        stop_requested["flag"] = True
        click.echo("\nstopping after this step (Ctrl-C again to abort without saving)", err=True)

    previous = signal.signal(signal.SIGINT, on_interrupt)
    try:
        result = run_training(
            config,
            should_stop=lambda step: stop_requested["flag"],
            command=_command_line(config_file, overrides, flags, resume, gpus),
        )
    finally:
        signal.signal(signal.SIGINT, previous)
    from dataclasses import asdict

    if not main_process:  # rank 0 reports for the whole run
        sys.exit(130 if result.interrupted else 0)
    if as_json:
        click.echo(json.dumps(asdict(result), indent=2))
    elif result.interrupted:
        click.echo(f"stopped at step {result.steps}; continue with the same command plus --resume")
    else:
        click.echo(f"adapter: {result.adapter_dir}")
        click.echo(
            f"steps: {result.steps}  last loss: {result.last_loss}  "
            f"val losses: {result.val_losses}  tokens/s: {result.tokens_per_s}"
        )
        if result.dropped_examples:
            click.echo(f"dropped {result.dropped_examples} example(s) longer than max_seq_len")
    if result.interrupted:
        sys.exit(130)


def _relaunch(processes: int) -> int:
    """Run this very command as `processes` processes under torchrun on this box; its exit code.

    torchrun runs in a session of its own so that Ctrl-C in the terminal reaches the training
    processes once, forwarded by torchrun (which stops them if they have not stopped ~30 s
    later), rather than twice (terminal and torchrun), which would abort them without saving.
    """
    command = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--standalone",  # a rendezvous on a free local port
        f"--nproc-per-node={processes}",
        "-m",
        "worldmodel",
        *sys.argv[1:],
    ]
    launcher = subprocess.Popen(command, start_new_session=True)
    interrupted = {"flag": False}

    def forward(signum: int, frame: Any) -> None:
        interrupted["flag"] = interrupted["flag"] or signum == signal.SIGINT
        launcher.send_signal(signum)

    previous = {sig: signal.signal(sig, forward) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        code = launcher.wait()
        # torchrun ends with an error of its own when signalled; the ranks said how they ended.
        return 130 if interrupted["flag"] else code
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _command_line(
    config_file: Path | None,
    overrides: tuple[str, ...],
    flags: dict[str, Any],
    resume: bool,
    gpus: int | None = None,
) -> str:
    """The command that reproduces this run's settings (recorded in metrics.json)."""
    words = ["wm", "train"]
    if config_file:
        words += ["--config", str(config_file)]
    for pair in overrides:
        words += ["--set", pair]
    for name, value in flags.items():
        if value is None:
            continue
        option = "--" + name.replace("_", "-")
        if isinstance(value, bool):
            words.append(option if value else "--plain")
        else:
            words += [option, str(value)]
    if gpus is not None:
        words += ["--gpus", str(gpus)]
    if resume:
        words.append("--resume")
    return shlex.join(words)


@wm.command()
@click.option("--merge", is_flag=True, help="Fold --adapter into the --model base weights.")
@click.option(
    "--package",
    "run_dir",
    type=click.Path(path_type=Path),
    help="Package the finished run in RUN_DIR: its adapter with config, metrics and log.",
)
@click.option(
    "--model",
    "model_dir",
    default="bundled",
    show_default=True,
    help="Base model directory, or 'bundled' (--merge).",
)
@click.option("--adapter", "adapter_dir", help="LoRA adapter directory (--merge).")
@click.option(
    "--dtype",
    type=click.Choice(DTYPES),
    default=DTYPES[0],
    show_default=True,
    help="Weight dtype of a package (--package).",
)
@click.option(
    "--out",
    "out_dir",
    required=True,
    type=click.Path(path_type=Path),
    help="Folder to write: new for --merge; for --package, files it does not write stay.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@library_errors
def export(
    merge: bool,
    run_dir: Path | None,
    model_dir: str,
    adapter_dir: str | None,
    dtype: str,
    out_dir: Path,
    as_json: bool,
) -> None:
    """Export a trained adapter: merged into its base model, or packaged with its provenance.

    \b
    Examples:
      wm export --merge --adapter runs/worldmodel-lora/adapter --out merged/
      wm export --package ~/.local/share/worldmodel/runs/smollm2-cpu --out my-adapter/
    """
    if merge == (run_dir is not None):
        raise click.UsageError("choose one of --merge (with --adapter) or --package RUN_DIR")
    if run_dir is None:  # --merge
        if not adapter_dir:
            raise click.UsageError("--merge needs --adapter DIR")
        from worldmodel.model.loading import merge_adapter

        result = {"merged_model_dir": str(merge_adapter(model_dir, adapter_dir, out_dir))}
    else:
        from worldmodel.train.package import package_run

        result = package_run(run_dir, out_dir, dtype=dtype)
    if as_json:
        click.echo(json.dumps(result))
    elif merge:
        click.echo(f"merged model: {result['merged_model_dir']}")
    else:
        click.echo(
            f"packaged {result['parameters']:,} adapter parameters ({dtype}) into "
            f"{result['package']}"
        )
