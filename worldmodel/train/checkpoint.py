"""Numbered training checkpoints, and finding the one to resume from.

A checkpoint is a folder `checkpoints/step-NNNNNNN/` in the run folder holding:

- `adapter/`: the PEFT adapter at that step (loadable by peft and by `wm query --adapter`);
- `trainer_state.pt`: optimizer, LR schedule, grad scaler and every RNG state;
- `config.json`: the resolved training config; `metrics.json`: the metrics so far;
- `state.json`: step, epoch, position in the epoch's data plan, early-stopping state.

It is written into a hidden temporary folder and renamed into place, and `state.json` is written
last, so a run killed mid-save leaves either a complete checkpoint or none: a killed run loses at
most one checkpoint interval. Only the newest `keep` checkpoints are kept.

This module does not decide when to save (see `trainer`).
"""

from __future__ import annotations

import json
import random
import shutil
from pathlib import Path
from typing import Any

CHECKPOINTS = "checkpoints"
STATE_FILE = "state.json"


def checkpoint_dir(run_dir: Path, step: int) -> Path:
    return run_dir / CHECKPOINTS / f"step-{step:07d}"


def list_checkpoints(run_dir: Path) -> list[Path]:
    """Complete checkpoints in the run folder, oldest first."""
    root = run_dir / CHECKPOINTS
    if not root.is_dir():
        return []
    found = [p for p in root.glob("step-*") if (p / STATE_FILE).is_file()]
    return sorted(found, key=lambda p: int(p.name.split("-")[1]))


def latest_checkpoint(run_dir: Path) -> Path | None:
    found = list_checkpoints(run_dir)
    return found[-1] if found else None


def rng_state() -> dict[str, Any]:
    """Every RNG the loop draws from (dropout uses torch's global generator)."""
    import torch

    state: dict[str, Any] = {"python": random.getstate(), "torch": torch.get_rng_state()}
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def restore_rng(state: dict[str, Any]) -> None:
    import torch

    random.setstate(state["python"])
    torch.set_rng_state(state["torch"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def save_checkpoint(
    run_dir: Path,
    step: int,
    *,
    model: Any,
    trainer_state: dict[str, Any],
    state: dict[str, Any],
    config: dict[str, Any],
    metrics: dict[str, Any],
    keep: int,
) -> Path:
    """Write checkpoint `step` atomically, prune old ones, and return its folder."""
    import torch

    final = checkpoint_dir(run_dir, step)
    staging = final.parent / f".tmp-{final.name}"
    if staging.exists():
        shutil.rmtree(staging)
    staging.mkdir(parents=True)
    model.save_pretrained(staging / "adapter")
    torch.save(trainer_state, staging / "trainer_state.pt")
    _write_json(staging / "config.json", config)
    _write_json(staging / "metrics.json", metrics)
    _write_json(staging / STATE_FILE, state)  # last: marks the checkpoint complete
    if final.exists():
        shutil.rmtree(final)
    staging.rename(final)
    for old in list_checkpoints(run_dir)[:-keep]:
        shutil.rmtree(old)
    return final


def load_checkpoint(path: Path) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """(state, trainer_state, config) of a checkpoint folder."""
    import torch

    state = json.loads((path / STATE_FILE).read_text())
    config = json.loads((path / "config.json").read_text())
    # weights_only=False: the file holds optimizer state and Python RNG tuples that we wrote.
    # On the CPU: a data-parallel run sends it from rank 0 to ranks on other GPUs, and the
    # optimizer moves its state to its parameters' device when loading it.
    trainer_state = torch.load(path / "trainer_state.pt", weights_only=False, map_location="cpu")
    return state, trainer_state, config


def _write_json(path: Path, value: dict[str, Any]) -> None:
    path.write_text(json.dumps(value, indent=2, sort_keys=True) + "\n")
