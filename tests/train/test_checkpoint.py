"""Trainer state in a checkpoint: stored without pickle, read back exactly, and a pickle refused
unopened (a checkpoint can come from a job-chosen artifact URL)."""

from __future__ import annotations

import json
import os
import pickle
import random
from pathlib import Path

import pytest
import torch

from worldmodel.errors import CheckpointError
from worldmodel.train import checkpoint as ckpt
from worldmodel.train.trainer import train


class _Exploit:
    """Unpickling this creates the marker file: a stand-in for any code a crafted file runs."""

    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def _trainer_state() -> dict:
    model = torch.nn.Linear(3, 2)
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-2)
    model(torch.ones(1, 3)).sum().backward()
    optimizer.step()
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: 0.5)
    return {
        "optimizer": optimizer.state_dict(),
        "scheduler": scheduler.state_dict(),
        "scaler": torch.amp.GradScaler("cpu").state_dict(),
        "rng": ckpt.rng_state(),
    }


def _same(a, b) -> bool:
    if isinstance(a, torch.Tensor):
        return isinstance(b, torch.Tensor) and a.dtype == b.dtype and torch.equal(a, b)
    if isinstance(a, dict):
        return type(b) is dict and a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)):
        return type(a) is type(b) and len(a) == len(b) and all(map(_same, a, b))
    return type(a) is type(b) and a == b


def test_trainer_state_round_trips_exactly_through_json_and_safetensors(tmp_path):
    state = _trainer_state()
    ckpt.write_trainer_state(tmp_path, state)
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "trainer_state.json",
        "trainer_state.safetensors",
    ]
    back = ckpt.read_trainer_state(tmp_path)
    assert _same(state, back)  # int keys, tuples (betas, the Python RNG state), tensors
    random.random()
    ckpt.restore_rng(back["rng"])
    assert random.getstate() == state["rng"]["python"]


def test_a_value_without_an_encoding_is_refused_at_save(tmp_path):
    with pytest.raises(TypeError, match=r"trainer state extra: cannot store a set"):
        ckpt.write_trainer_state(tmp_path, {"extra": {1, 2}})


def _checkpoint_with_pickle(run: Path, marker: Path) -> Path:
    folder = ckpt.checkpoint_dir(run, 2)
    folder.mkdir(parents=True)
    (folder / "trainer_state.pt").write_bytes(pickle.dumps({"optimizer": _Exploit(marker)}))
    (folder / "config.json").write_text("{}")
    (folder / "state.json").write_text(json.dumps({"step": 2}))
    return folder


def test_a_pickled_trainer_state_is_refused_and_never_unpickled(tmp_path):
    marker = tmp_path / "pwned"
    assert not marker.exists()
    folder = _checkpoint_with_pickle(tmp_path / "run", marker)
    with pytest.raises(CheckpointError) as refused:
        ckpt.load_checkpoint(folder)
    message = str(refused.value)
    assert str(folder / "trainer_state.pt") in message
    assert "pickle" in message and "start the run over" in message
    assert not marker.exists()


@pytest.mark.slow
def test_resume_refuses_a_pickled_checkpoint_before_loading_anything(tiny_train_config, tmp_path):
    marker = tmp_path / "pwned"
    run = tmp_path / "run"
    _checkpoint_with_pickle(run, marker)
    refused = r"trainer_state\.pt: trainer state in the old pickle format"
    with pytest.raises(CheckpointError, match=refused):
        train(tiny_train_config(run, max_steps=4, resume=True))
    assert not marker.exists()


def test_damaged_trainer_state_is_refused_by_name(tmp_path):
    ckpt.write_trainer_state(tmp_path, _trainer_state())
    saved = json.loads((tmp_path / "trainer_state.json").read_text())
    saved["state"]["rng"]["torch"] = {"$type": "object", "module": "os", "name": "system"}
    (tmp_path / "trainer_state.json").write_text(json.dumps(saved))
    with pytest.raises(CheckpointError, match=r"trainer_state\.json: unknown or malformed"):
        ckpt.read_trainer_state(tmp_path)
    (tmp_path / "trainer_state.safetensors").unlink()
    with pytest.raises(CheckpointError, match=r"trainer_state\.safetensors: missing"):
        ckpt.read_trainer_state(tmp_path)
