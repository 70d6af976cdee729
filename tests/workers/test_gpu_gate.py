"""The box-level GPU gate between processes: all-or-nothing claims, no deadlock, release on death.

Every claimant is a real separate process (the lock files are shared between processes, not
threads), started with `multiprocessing` (fork) on a lock folder under the test's temp folder.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import time
from pathlib import Path

import pytest

from workers.gpus import BoxGate, GpuClaimStopped, box_gpus
from worldmodel.errors import ConfigError

fork = multiprocessing.get_context("fork")


def _hold(folder: Path, gpus: list[int], ready: object, forever: bool) -> None:
    """Child: claim exactly `gpus`, say so, then hold them until killed (or exit at once)."""
    gate = BoxGate(folder)
    claim = gate.claim(len(gpus), gpus)
    ready.set()  # type: ignore[attr-defined]
    while forever:
        time.sleep(1)
    claim.release()


def _holder(folder: Path, gpus: list[int]) -> multiprocessing.process.BaseProcess:
    ready = fork.Event()
    child = fork.Process(target=_hold, args=(folder, gpus, ready, True), daemon=True)
    child.start()
    assert ready.wait(10), "the holding process did not claim its GPUs"
    return child


def _claim_loop(folder: Path, order: list[int], rounds: int, done: object) -> None:
    """Child: claim both GPUs `rounds` times, naming them in `order`, briefly using them."""
    gate = BoxGate(folder)
    for _ in range(rounds):
        with gate.claim(2, order):
            time.sleep(0.001)
    done.put(os.getpid())  # type: ignore[attr-defined]


def test_a_claim_is_all_or_nothing(tmp_path: Path) -> None:
    gate = BoxGate(tmp_path)
    holder = _holder(tmp_path, [1])
    try:
        # GPU 1 is busy: a claim of two of {0, 1} gets nothing, and leaves GPU 0 free.
        assert gate.try_claim(2, [0, 1]) is None
        with gate.claim(1, [0]) as only:
            assert only.gpus == [0]
        # Two of {0, 1, 2}: the free ones, in index order.
        with gate.claim(2, [0, 1, 2]) as pair:
            assert pair.gpus == [0, 2]
    finally:
        holder.kill()
        holder.join()


def test_two_claimants_naming_their_gpus_in_opposite_orders_never_deadlock(
    tmp_path: Path,
) -> None:
    done = fork.Queue()
    children = [
        fork.Process(target=_claim_loop, args=(tmp_path, order, 150, done), daemon=True)
        for order in ([0, 1], [1, 0])
    ]
    for child in children:
        child.start()
    finished = sorted(done.get(timeout=60) for _ in children)
    assert finished == sorted(c.pid for c in children if c.pid is not None)
    for child in children:
        child.join(10)
        assert child.exitcode == 0


def test_a_claim_is_released_when_its_process_dies(tmp_path: Path) -> None:
    gate = BoxGate(tmp_path)
    holder = _holder(tmp_path, [0, 1])
    assert gate.try_claim(1, [0]) is None and gate.try_claim(1, [1]) is None
    os.kill(holder.pid or 0, signal.SIGKILL)
    holder.join(10)
    with gate.claim(2, [0, 1]) as claim:  # no lock survives kill -9
        assert claim.gpus == [0, 1]


def test_generation_waits_while_its_gpu_is_claimed(tmp_path: Path) -> None:
    gate = BoxGate(tmp_path)
    holder = _holder(tmp_path, [0])
    entered = fork.Event()

    def generate() -> None:
        with BoxGate(tmp_path).shared(0):
            entered.set()

    batch = fork.Process(target=generate, daemon=True)
    batch.start()
    time.sleep(0.5)
    assert not entered.is_set()  # the batch waits for the claim
    with gate.shared(1):  # another GPU of the box is free for generation
        pass
    holder.kill()
    holder.join()
    assert entered.wait(10)  # and runs once the claim is gone
    batch.join(10)


def test_a_claim_waits_for_busy_gpus_until_told_to_give_up(tmp_path: Path) -> None:
    gate = BoxGate(tmp_path)
    holder = _holder(tmp_path, [1])
    asked = []
    try:
        with pytest.raises(GpuClaimStopped):
            gate.claim(2, [0, 1], give_up=lambda: asked.append(1) or len(asked) > 3)
        assert len(asked) == 4
        assert gate.try_claim(1, [0]) is not None  # nothing was left held
    finally:
        holder.kill()
        holder.join()


def test_asking_for_more_gpus_than_the_box_has_fails_at_once(tmp_path: Path) -> None:
    started = time.monotonic()
    with pytest.raises(ConfigError, match=r"asks for 3 GPUs of one box, but this box has 2"):
        BoxGate(tmp_path).claim(3, [0, 1])
    assert time.monotonic() - started < 1


def test_box_gpus_reads_the_worker_setting() -> None:
    assert box_gpus({"WM_BOX_GPUS": "2,0,1"}) == [0, 1, 2]
    assert box_gpus({}) == []
    with pytest.raises(ConfigError, match="WM_BOX_GPUS"):
        box_gpus({"WM_BOX_GPUS": "0,x"})


def test_a_gpu_worker_learns_the_box_gpus_before_it_is_pinned_to_one(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from workers.settings import WorkerSettings
    from workers.worker import gpu_worker_command

    monkeypatch.delenv("WM_BOX_GPUS", raising=False)
    monkeypatch.delenv("HIP_VISIBLE_DEVICES", raising=False)
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "2,3")
    settings = WorkerSettings(broker_url="redis://:pw@127.0.0.1:6379/0")
    _, env = gpu_worker_command(settings, gpu=3, host="box")
    assert env["WM_BOX_GPUS"] == "2,3"
    assert env["CUDA_VISIBLE_DEVICES"] == env["HIP_VISIBLE_DEVICES"] == "3"
    monkeypatch.setenv("WM_BOX_GPUS", "0,1,2,3")  # set by the user: kept
    _, env = gpu_worker_command(settings, gpu=3, host="box")
    assert env["WM_BOX_GPUS"] == "0,1,2,3"
