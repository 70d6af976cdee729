"""Pieces of `wm stack` that need no running stack.

Which GPU workers `up` starts: the *_VISIBLE_DEVICES variables decide first (a user who hides
GPUs gets a CPU worker); the physical indices they name are kept, because
`wm worker gpu --gpu N` pins that same index. And `up` does not wait out its timeout for a
worker that has already exited.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import pytest

from workers.stack import visible_gpus, workers_ready
from workers.supervisor import is_alive, spawn
from worldmodel.errors import ConfigError


@pytest.mark.parametrize(
    ("hip", "cuda", "expected"),
    [
        ("2,3", None, [2, 3]),
        ("", "0,1", []),  # HIP set but empty: every GPU hidden, CUDA is not consulted
        (None, "1", [1]),
        (None, "", []),
    ],
)
def test_visible_devices_variables_choose_the_gpus(
    monkeypatch: pytest.MonkeyPatch, hip: str | None, cuda: str | None, expected: list[int]
) -> None:
    for name, value in (("HIP_VISIBLE_DEVICES", hip), ("CUDA_VISIBLE_DEVICES", cuda)):
        if value is None:
            monkeypatch.delenv(name, raising=False)
        else:
            monkeypatch.setenv(name, value)
    assert visible_gpus() == expected


def test_a_device_name_instead_of_an_index_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HIP_VISIBLE_DEVICES", "GPU-6f3a")
    with pytest.raises(ConfigError, match="expected GPU indices"):
        visible_gpus()


def test_waiting_for_workers_stops_at_once_when_one_has_exited(tmp_path: Path) -> None:
    for sub in ("logs", "pids"):
        (tmp_path / sub).mkdir()
    proc = spawn("worker-x", "worker", [sys.executable, "-c", "pass"], os.environ, tmp_path)
    deadline = time.monotonic() + 10
    while is_alive(proc) and time.monotonic() < deadline:
        time.sleep(0.05)
    started = time.monotonic()
    missing, _ = workers_ready(["x@box"], [proc], os.environ, timeout_s=60)
    assert missing == ["x@box"]
    assert time.monotonic() - started < 5
