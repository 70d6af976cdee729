"""The box-level GPU gate: which process may use which GPU of this box, across processes.

Each GPU worker is pinned to one GPU and has an in-process gate (`batching.GpuGate`) between
its generation batches and its own training. A data-parallel training job (`wm submit-train
--gpus N`) needs N GPUs of one box, some of them pinned to other workers' processes, so it
claims them here, on a lock file per GPU index: `<WM_HOME>/gpu-locks/<box>/gpu<N>.lock`, held
with `fcntl.flock`.

- A training job takes an exclusive lock on each GPU it claims (`BoxGate.claim`). It is
  all-or-nothing: it tries the GPUs in index order without blocking and, when one is busy,
  lets go of those it took and tries again later. It never holds some GPUs while it waits for
  others, so two claimants cannot deadlock, whatever order they name their GPUs in.
- A generation worker takes a shared lock on its own GPU around every batch
  (`BoxGate.shared`): batches of different workers never block each other, but a batch waits
  while a training job has claimed that GPU, and a claim waits for the running batch.
- The kernel drops a lock when the process holding it dies, however it dies (kill -9
  included), so a crashed worker never leaves a GPU claimed.

The folder is per box, so a WM_HOME shared between boxes (NFS) never makes one box's jobs wait
for another's. The GPUs a box has come from `WM_BOX_GPUS`, which `wm worker gpu` sets from the
GPUs it sees before pinning the worker to one. This module does not start training (see
`tasks.train_ranks`).
"""

from __future__ import annotations

import fcntl
import os
import socket
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from worldmodel.errors import ConfigError, WorldModelError
from worldmodel.model.device import VISIBLE_DEVICES

BOX_GPUS_ENV = "WM_BOX_GPUS"
"""Comma-separated GPU indices of this box (set by `wm worker gpu` before it pins a worker)."""

RETRY_S = 0.2
"""Seconds between two tries of a claim that found a GPU busy."""


class GpuClaimStopped(WorldModelError):
    """A claim stopped waiting for busy GPUs because its caller asked it to (cancel, stop)."""


def box_gpus(environ: dict[str, str] | None = None) -> list[int]:
    """The GPU indices of this box, from `WM_BOX_GPUS` (none when it is unset or empty)."""
    text = (os.environ if environ is None else environ).get(BOX_GPUS_ENV, "").strip()
    try:
        return sorted({int(part) for part in text.split(",") if part.strip()})
    except ValueError as exc:
        raise ConfigError(f"{BOX_GPUS_ENV}={text!r}: expected GPU indices like 0,1,2,3") from exc


def pinning_problem(rocm_env: Mapping[str, Any]) -> str | None:
    """Why a training config cannot run as a --gpus job: its `rocm_env` picks the GPUs, which
    the worker's claim decides; None when it does not."""
    pinned = sorted(set(rocm_env) & set(VISIBLE_DEVICES))
    if not pinned:
        return None
    return (
        f"rocm_env: {', '.join(pinned)} is set, but a --gpus job runs on the GPUs its worker "
        "claims; remove it from the job's config"
    )


def lock_folder(home: Path, box: str | None = None) -> Path:
    """Where this box's GPU lock files live under the WorldModel home `home`."""
    return home / "gpu-locks" / (box or socket.gethostname())


class Claim:
    """GPUs held exclusively by this process until `release` (or until the process dies)."""

    def __init__(self, gpus: list[int], fds: list[int]):
        self.gpus = gpus
        self.fds = fds
        """Open lock files; a child process given them (`pass_fds`) keeps the claim alive."""

    def release(self) -> None:
        for fd in self.fds:
            os.close(fd)  # closing the last copy of the file drops its lock
        self.fds = []

    def __enter__(self) -> Claim:
        return self

    def __exit__(self, *_: object) -> None:
        self.release()


class BoxGate:
    """The GPU lock files of one box."""

    def __init__(self, folder: Path):
        self.folder = folder

    def claim(
        self,
        count: int,
        available: Sequence[int],
        *,
        give_up: Callable[[], bool] = lambda: False,
    ) -> Claim:
        """Claim `count` of the `available` GPUs (the lowest free indices), all or none.

        Fails at once (`ConfigError`) when `available` has fewer than `count` GPUs: waiting
        could never help. While too few are free it waits, asking `give_up()` between tries;
        when that answers True it raises `GpuClaimStopped` holding nothing."""
        gpus = sorted(set(available))
        if count > len(gpus):
            raise ConfigError(
                f"the job asks for {count} GPUs of one box, but this box has {len(gpus)} "
                f"({BOX_GPUS_ENV}={','.join(map(str, gpus)) or 'none'}); submit it with "
                f"--gpus {len(gpus)} or fewer, or run it on a box with {count}"
            )
        while True:
            claim = self.try_claim(count, gpus)
            if claim is not None:
                return claim
            if give_up():
                raise GpuClaimStopped(f"stopped waiting for {count} free GPUs of {gpus}")
            time.sleep(RETRY_S)

    def try_claim(self, count: int, gpus: Sequence[int]) -> Claim | None:
        """One try: `count` free GPUs of `gpus` taken in index order, or None holding none."""
        held: list[int] = []
        fds: list[int] = []
        for gpu in sorted(gpus):
            fd = self._open(gpu)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                continue
            held.append(gpu)
            fds.append(fd)
            if len(held) == count:
                return Claim(held, fds)
        Claim(held, fds).release()
        return None

    @contextmanager
    def shared(self, gpu: int) -> Iterator[None]:
        """Use `gpu` beside other shared users (generation batches); waits while it is claimed."""
        fd = self._open(gpu)
        try:
            fcntl.flock(fd, fcntl.LOCK_SH)
            yield
        finally:
            os.close(fd)

    def _open(self, gpu: int) -> int:
        self.folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        return os.open(self.folder / f"gpu{gpu}.lock", os.O_RDWR | os.O_CREAT, 0o600)
