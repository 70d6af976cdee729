"""Numbered training checkpoints, and finding the one to resume from.

A checkpoint is a folder `checkpoints/step-NNNNNNN/` in the run folder holding:

- `adapter/`: the PEFT adapter at that step (loadable by peft and by `wm query --adapter`);
- `trainer_state.json` and `trainer_state.safetensors`: optimizer, LR schedule, grad scaler
  and every RNG state (see below);
- `config.json`: the resolved training config; `metrics.json`: the metrics so far;
- `state.json`: step, epoch, position in the epoch's data plan, early-stopping state.

It is written into a hidden temporary folder and renamed into place, and `state.json` is written
last, so a run killed mid-save leaves either a complete checkpoint or none: a killed run loses at
most one checkpoint interval. Only the newest `keep` checkpoints are kept.

Trainer state without pickle: a checkpoint may come from a job-chosen artifact URL, and
unpickling a crafted file runs code on the worker, so nothing here ever unpickles. Tensors
(optimizer moments, RNG state tensors) go to `trainer_state.safetensors`; everything else
(scheduler state, param-group settings, the Python RNG state, ...) to `trainer_state.json`,
where a tensor is `{"$type": "tensor", "key": ...}`, a tuple `{"$type": "tuple", ...}` and a
dict with integer keys (the optimizer's per-parameter state) `{"$type": "int_keys", ...}`.
Reading accepts exactly that, exactly (an unknown tag, a missing or unused tensor is an error);
any other trainer state, such as the `trainer_state.pt` pickle of earlier versions, is refused.

This module does not decide when to save (see `trainer`).
"""

from __future__ import annotations

import json
import random
import re
import shutil
from pathlib import Path
from typing import Any

from worldmodel.errors import CheckpointError

CHECKPOINTS = "checkpoints"
STATE_FILE = "state.json"
TRAINER_STATE = "trainer_state.json"
TRAINER_TENSORS = "trainer_state.safetensors"
LEGACY_TRAINER_STATE = "trainer_state.pt"
"""The pickle earlier versions wrote: refused, never read."""
FORMAT = "worldmodel.trainer_state"
VERSION = 1


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
    final = checkpoint_dir(run_dir, step)
    staging = final.parent / f".tmp-{final.name}"
    if staging.exists():
        shutil.rmtree(staging)
    staging.mkdir(parents=True)
    model.save_pretrained(staging / "adapter")
    write_trainer_state(staging, trainer_state)
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
    """(state, trainer_state, config) of a checkpoint folder; never unpickles anything."""
    trainer_state = read_trainer_state(path)
    state = json.loads((path / STATE_FILE).read_text())
    config = json.loads((path / "config.json").read_text())
    return state, trainer_state, config


def write_trainer_state(folder: Path, trainer_state: dict[str, Any]) -> None:
    """Write `trainer_state` as `trainer_state.json` + `trainer_state.safetensors` in `folder`.

    Raises TypeError for a value neither JSON nor a tensor can hold (a new kind of state must
    get its own encoding here, not a pickle)."""
    from safetensors.torch import save_file

    tensors: dict[str, Any] = {}
    encoded = _encode(trainer_state, "", tensors)
    # safetensors refuses tensors that share memory or are views; each is its own copy here.
    save_file(
        {key: t.detach().cpu().contiguous().clone() for key, t in tensors.items()},
        str(folder / TRAINER_TENSORS),
    )
    _write_json(folder / TRAINER_STATE, {"format": FORMAT, "version": VERSION, "state": encoded})


def read_trainer_state(folder: Path) -> dict[str, Any]:
    """The trainer state `write_trainer_state` wrote in `folder`; `CheckpointError` for
    anything else (a pickled `trainer_state.pt` above all: it is never opened)."""
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    start_over = (
        f"start the run over (remove the run folder {folder.parent.parent} or choose another "
        "output_dir/run_name); checkpoints written by this version resume"
    )
    legacy = folder / LEGACY_TRAINER_STATE
    if legacy.exists():
        raise CheckpointError(
            f"{legacy}: trainer state in the old pickle format, which this version refuses to "
            f"read (unpickling a file can run code); {start_over}"
        )
    json_file, tensor_file = folder / TRAINER_STATE, folder / TRAINER_TENSORS
    for needed in (json_file, tensor_file):
        if not needed.is_file():
            raise CheckpointError(f"{needed}: missing from the checkpoint; {start_over}")
    try:
        saved = json.loads(json_file.read_text())
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        raise CheckpointError(f"{json_file}: not JSON ({exc}); {start_over}") from exc
    if not isinstance(saved, dict) or (saved.get("format"), saved.get("version")) != (
        FORMAT,
        VERSION,
    ):
        raise CheckpointError(
            f"{json_file}: not trainer state of format {FORMAT!r} version {VERSION}; {start_over}"
        )
    try:
        tensors = load_file(str(tensor_file))
    except (SafetensorError, OSError) as exc:
        raise CheckpointError(
            f"{tensor_file}: not a safetensors file ({exc}); {start_over}"
        ) from exc
    used: set[str] = set()
    try:
        state = _decode(saved.get("state"), tensors, used)
    except (ValueError, RecursionError) as exc:
        raise CheckpointError(f"{json_file}: {exc}; {start_over}") from exc
    unused = sorted(set(tensors) - used)
    if unused:
        raise CheckpointError(
            f"{tensor_file}: holds tensors {_first_few(unused)} that {TRAINER_STATE} does "
            f"not name; {start_over}"
        )
    if not isinstance(state, dict):
        raise CheckpointError(f"{json_file}: the state is not an object; {start_over}")
    return state


def _first_few(keys: list[str]) -> str:
    return ", ".join(keys[:3]) + (f" and {len(keys) - 3} more" if len(keys) > 3 else "")


def _encode(value: Any, where: str, tensors: dict[str, Any]) -> Any:
    """`value` as JSON, its tensors moved into `tensors` under their path (`where`)."""
    import torch

    def inside(key: object) -> str:
        return f"{where}.{key}" if where else str(key)

    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, torch.Tensor):
        tensors[where] = value
        return {"$type": "tensor", "key": where}
    if isinstance(value, (list, tuple)):
        listed = [_encode(item, inside(i), tensors) for i, item in enumerate(value)]
        return listed if isinstance(value, list) else {"$type": "tuple", "items": listed}
    if isinstance(value, dict):
        if all(isinstance(key, str) for key in value):
            tagged = [key for key in value if key.startswith("$")]
            if tagged:
                raise TypeError(f"trainer state {where or '.'}: key {tagged[0]!r} starts with $")
            return {key: _encode(item, inside(key), tensors) for key, item in value.items()}
        if all(isinstance(key, int) and not isinstance(key, bool) for key in value):
            keyed = {str(k): _encode(v, inside(k), tensors) for k, v in value.items()}
            return {"$type": "int_keys", "items": keyed}
        raise TypeError(f"trainer state {where or '.'}: dict keys must be all str or all int")
    raise TypeError(f"trainer state {where or '.'}: cannot store a {type(value).__name__}")


def _decode(value: Any, tensors: dict[str, Any], used: set[str]) -> Any:
    """The inverse of `_encode`; ValueError for anything `_encode` does not write."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, list):
        return [_decode(item, tensors, used) for item in value]
    if not isinstance(value, dict):
        raise ValueError(f"unexpected {type(value).__name__}")
    kind = value.get("$type")
    if kind is None:
        if any(key.startswith("$") for key in value):
            raise ValueError(f"unknown tag among {sorted(value)}")
        return {key: _decode(item, tensors, used) for key, item in value.items()}
    if kind == "tensor" and set(value) == {"$type", "key"}:
        key = value["key"]
        if not isinstance(key, str) or key not in tensors:
            raise ValueError(f"names tensor {key!r}, which {TRAINER_TENSORS} does not hold")
        used.add(key)
        return tensors[key]
    if kind == "tuple" and set(value) == {"$type", "items"} and isinstance(value["items"], list):
        return tuple(_decode(item, tensors, used) for item in value["items"])
    if kind == "int_keys" and set(value) == {"$type", "items"} and isinstance(value["items"], dict):
        items = value["items"]
        if not all(re.fullmatch(r"-?[0-9]+", k) for k in items):
            raise ValueError(f"int_keys keys are not all integers: {sorted(items)[:3]}")
        return {int(k): _decode(v, tensors, used) for k, v in items.items()}
    raise ValueError(f"unknown or malformed tagged value {str(value)[:80]}")


def _write_json(path: Path, value: dict[str, Any]) -> None:
    path.write_text(json.dumps(value, indent=2, sort_keys=True) + "\n")
