"""Resuming a run: which checkpoint it continues from, and putting the loop back where it was.

`resume_point` decides, on the process that reads the run folder, whether a run starts fresh
or continues its newest checkpoint, refusing a run folder with checkpoints unless resuming, a
resume with changed settings (only the run's length may change) and a resume at another world
size. `restore` loads that checkpoint's adapter weights, optimizer, schedule, grad scaler and
this rank's RNG state, and returns the loop's position, so the run continues bit-for-bit.

This module does not write checkpoints (see `checkpoint`) nor decide when to (see `trainer`).
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from worldmodel.errors import ConfigError
from worldmodel.model.loading import ADAPTER_WEIGHTS
from worldmodel.train import checkpoint as ckpt
from worldmodel.train.config import TrainConfig, extended_settings, resume_conflicts
from worldmodel.train.distributed import World

log = logging.getLogger(__name__)


@dataclass
class ResumePoint:
    """The checkpoint a run continues from and what it holds; all None for a fresh run."""

    checkpoint: Path | None = None
    state: dict[str, Any] | None = None
    """The loop's position and history (`state.json`)."""
    trainer_state: dict[str, Any] | None = None
    """Optimizer, schedule, grad scaler and RNG states."""
    config: dict[str, Any] | None = None
    """The resolved config the checkpoint was written with."""


@dataclass
class Position:
    """Where the training loop stands: step, epoch, step group within it, validation history."""

    step: int = 0
    epoch: int = 0
    group: int = 0
    best_val: float | None = None
    bad_epochs: int = 0
    val_losses: list[float] = field(default_factory=list)


def resume_point(config: TrainConfig, run_dir: Path, world_size: int = 1) -> ResumePoint:
    """The checkpoint to resume from (`ResumePoint()` for a fresh run).

    Refuses to overwrite a run that has checkpoints unless resuming, and refuses to resume with
    settings that would break continuation (only the run's length may change) or with another
    number of processes than wrote the checkpoint (`world_size`).
    """
    start = ckpt.latest_checkpoint(run_dir)
    if start is not None and not config.resume:
        raise ConfigError(
            f"run folder {run_dir} already has checkpoints; pass --resume to continue it, or "
            "choose another output_dir/run_name"
        )
    if not config.resume:
        return ResumePoint()
    if start is None:
        log.warning("resume: no checkpoint in %s, starting from step 0", run_dir)
        return ResumePoint()
    state, trainer_state, saved_config = ckpt.load_checkpoint(start)
    saved_size = state.get("world_size", 1)  # checkpoints from before data parallelism: 1
    if saved_size != world_size:
        raise ConfigError(
            f"cannot resume {start} with {world_size} process(es): it was written by a run on "
            f"{saved_size}. Each step's examples are split over the processes, so only "
            f"{saved_size} continue that run: resume with --gpus {saved_size} (torchrun: "
            f"{saved_size} processes in all)" + (" or without --gpus" if saved_size == 1 else "")
        )
    conflicts = resume_conflicts(saved_config, config)
    if conflicts:
        raise ConfigError(
            "cannot resume bit-for-bit with changed settings:\n  " + "\n  ".join(conflicts)
        )
    return ResumePoint(start, state, trainer_state, saved_config)


def after_failed_ranks(config: TrainConfig, exit_code: int) -> str:
    """What a user reads after a data-parallel run whose processes failed (one was killed, ran
    out of memory, lost its GPU): where the run stands and how to go on."""
    from worldmodel.train.checkpoint import latest_checkpoint

    run_dir = Path(config.output_dir)
    last = latest_checkpoint(run_dir)
    where = (
        f"its last checkpoint is {last} and nothing was written after it; fix the cause (the "
        "report above names the rank that failed first) and run the same command with --resume"
        if last is not None
        else "it had written no checkpoint yet; fix the cause (the report above names the "
        "rank that failed first) and run the same command again"
    )
    return f"wm train: a training process failed (exit {exit_code}) in {run_dir}: {where}"


def last_metrics(path: Path) -> dict[str, Any]:
    """The newest step record (with a loss) of a run's `metrics.jsonl`; {} before the first."""
    if not path.is_file():
        return {}
    for line in reversed(path.read_text().splitlines()):
        if line.strip():
            record = json.loads(line)
            if "loss" in record:
                return record
    return {}


def truncate_metrics(path: Path, step: int) -> None:
    """Drop metric lines written after the checkpoint we resume from (they will be redone)."""
    if not path.is_file():
        return
    kept = [
        line
        for line in path.read_text().splitlines()
        if line.strip() and json.loads(line).get("step", 0) <= step
    ]
    path.write_text("".join(line + "\n" for line in kept))


def restore(
    point: ResumePoint,
    *,
    model: Any,
    optimizer: Any,
    scheduler: Any,
    scaler: Any,
    world: World,
    config: TrainConfig,
    total_steps: int,
    metrics_path: Path,
) -> Position:
    """Load `point` into the run's model (rank 0; DDP hands the weights to the other ranks),
    optimizer, schedule, scaler and this rank's RNG; the position to continue from.

    A run made longer (`extended_settings`) keeps its batches and moves its learning rate onto
    the new schedule; one whose checkpoint is past the new end is refused."""
    from peft import set_peft_model_state_dict
    from safetensors.torch import load_file

    if point.checkpoint is None or point.state is None or point.trainer_state is None:
        return Position()
    saved, trainer_state = point.state, point.trainer_state
    if world.is_main:  # the other ranks receive these weights when DDP starts
        weights = load_file(str(point.checkpoint / "adapter" / ADAPTER_WEIGHTS))
        set_peft_model_state_dict(model, weights)
    optimizer.load_state_dict(trainer_state["optimizer"])
    scheduler.load_state_dict(trainer_state["scheduler"])
    if scaler is not None and trainer_state.get("scaler"):
        scaler.load_state_dict(trainer_state["scaler"])
    ckpt.restore_rng(
        trainer_state["rng_by_rank"][world.rank] if world.distributed else trainer_state["rng"]
    )
    position = Position(
        step=saved["step"],
        epoch=saved["epoch"],
        group=saved["group"],
        best_val=saved["best_val"],
        bad_epochs=saved["bad_epochs"],
        val_losses=list(saved["val_losses"]),
    )
    extended = extended_settings(point.config or {}, config)
    if position.step > total_steps:
        why = ", ".join(extended) or "the training data now"
        raise ConfigError(
            f"the checkpoint is at step {position.step}, but {why} leaves only {total_steps} "
            "steps; resume with at least as many"
        )
    if extended:
        # Same batches from here on; the rate follows the schedule of the new length.
        scheduler.last_epoch = position.step - 1
        scheduler.step()
        log.warning(
            "run length changed (%s): %d steps in all, learning rate now %.3g",
            "; ".join(extended),
            total_steps,
            scheduler.get_last_lr()[0],
        )
    if world.is_main:
        truncate_metrics(metrics_path, position.step)
    log.warning("resuming from %s (step %d)", point.checkpoint, position.step)
    return position
