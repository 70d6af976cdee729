"""A data-parallel training job (`wm submit-train --gpus N`): N GPUs of one box, N ranks.

The worker that takes the job claims N GPUs of its box through the box-level gate
(`workers.gpus`: all or nothing, so no generation batch and no other training uses them while
it runs) and then runs exactly what `wm train --gpus N` runs on that box: `python -m worldmodel
train --config <the job's settings> --gpus N --json`, which re-launches itself through
`torch.distributed.run`, with HIP_VISIBLE_DEVICES and CUDA_VISIBLE_DEVICES set to the claimed
GPUs. A box with fewer GPUs than asked fails the job at once, naming the numbers.

The launcher runs in a session of its own and holds the claim's lock files too (`pass_fds`):
the GPUs stay claimed as long as the ranks run. If this worker dies, the launcher gets SIGINT
(`PR_SET_PDEATHSIG`, Linux), so the ranks checkpoint and end; the job goes back on the queue,
and the worker that takes it waits for the claim to end, then resumes from that checkpoint.
While it runs, this task polls the run's `metrics.jsonl` for the step, publishes progress with
the ranks (world size, GPUs, box) and checks for cancel, worker stop and time limit
(`train.Watch`); to stop, it sends the launcher SIGINT, which reaches every rank through
torchrun as Ctrl-C does: each finishes its step, rank 0 saves a checkpoint, all exit.

This module does not train (see `worldmodel.train`) nor decide what a finished job returns
(see `tasks.train`).
"""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, NoReturn

from celery.exceptions import Ignore, Reject

from workers.gpus import GpuClaimStopped, box_gpus, pinning_problem
from workers.jobs import is_cancelled
from workers.tasks import mark_revoked
from workers.worker import box_gate, stopping, track, untrack
from worldmodel.errors import ConfigError
from worldmodel.model.device import VISIBLE_DEVICES
from worldmodel.train.resume import last_metrics

log = logging.getLogger(__name__)

POLL_S = 0.5
"""Seconds between two looks at the ranks' progress (and at cancel, stop, time limit)."""

_ORPHAN_GUARD = """
import ctypes, os, signal, sys
if sys.platform.startswith("linux"):
    ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGINT)  # PR_SET_PDEATHSIG
    if os.getppid() != int(sys.argv[1]):
        sys.exit(130)  # the worker died before the guard was set
os.execv(sys.executable, [sys.executable, *sys.argv[2:]])
"""
"""Runs before the launcher: when the worker thread that started it dies (the worker was
killed), the launcher gets SIGINT, as from Ctrl-C, so the ranks checkpoint and end, and the
claim ends with them, instead of training on unwatched and uncancellable (Linux only)."""


def train_on_gpus(
    task: Any, job_id: str, layers: dict[str, Any], config: Any, gpus: int, watch: Any
) -> Any:
    """Claim `gpus` GPUs of this box, train the job on them, return its `TrainResult`."""
    problem = pinning_problem(config.rocm_env)
    if problem:
        raise ConfigError(problem)
    track(task.request.id, "wm.train", job=job_id, world_size=gpus, gpus=None)
    try:
        try:
            claim = box_gate().claim(gpus, box_gpus(), give_up=lambda: _leave_queue(task, job_id))
        except GpuClaimStopped as exc:
            _stop_waiting(task, job_id, gpus, exc)
        with claim:
            box = os.environ.get("WM_BOX")
            watch.ranks = {"world_size": gpus, "gpus": claim.gpus, "box": box}
            track(task.request.id, "wm.train", job=job_id, world_size=gpus, gpus=claim.gpus)
            log.info("training job %s: %d ranks on GPUs %s of %s", job_id, gpus, claim.gpus, box)
            watch.start()
            return _run_ranks(job_id, layers, claim, watch)
    finally:
        untrack(task.request.id)


def _leave_queue(task: Any, job_id: str) -> bool:
    """Whether a job waiting for busy GPUs should stop waiting (cancelled, worker stopping)."""
    from celery.worker import state as worker_state

    revoked = task.request.id in worker_state.revoked
    return revoked or is_cancelled(task.app, job_id) or stopping()


def _stop_waiting(task: Any, job_id: str, gpus: int, exc: GpuClaimStopped) -> NoReturn:
    """End a job that gave up waiting for its GPUs: REVOKED if cancelled, else requeued."""
    if stopping():
        raise Reject(f"worker stopping while job {job_id} waited for GPUs", requeue=True) from exc
    mark_revoked(task, f"cancelled while waiting for {gpus} GPUs")
    raise Ignore() from exc


def _run_ranks(job_id: str, layers: dict[str, Any], claim: Any, watch: Any) -> Any:
    """Run `wm train --gpus N` on the claimed GPUs until it ends; its `TrainResult`."""
    from worldmodel.home import home_path
    from worldmodel.train.trainer import RunAbandoned

    gpus = len(claim.gpus)
    # Under the home, not /tmp: a worker killed before it removes the folder leaves it there.
    launches = home_path("cache", "train-launch")
    with tempfile.TemporaryDirectory(prefix=f"{job_id}-", dir=launches) as folder:
        settings_file = Path(folder) / "config.json"  # JSON is YAML
        settings_file.write_text(json.dumps(layers))
        printed = Path(folder) / "result.json"
        env = dict(os.environ)
        for name in VISIBLE_DEVICES:
            env[name] = ",".join(map(str, claim.gpus))
        guard = [sys.executable, "-c", _ORPHAN_GUARD, str(os.getpid())]
        argv = [*guard, "-m", "worldmodel", "train", "--config", str(settings_file)]
        with printed.open("w") as stdout:
            launcher = subprocess.Popen(
                [*argv, "--gpus", str(gpus), "--json"],
                stdout=stdout,
                env=env,
                pass_fds=claim.fds,
                start_new_session=True,
            )
        try:
            _watch_ranks(launcher, watch)
        except RunAbandoned as exc:
            log.warning("%s; stopping its ranks without saving", exc)
            _end(launcher, signal.SIGTERM)
            raise Ignore() from exc
        except BaseException:
            _end(launcher, signal.SIGTERM)
            raise
        return _result(printed.read_text(), launcher.returncode, watch, gpus)


def _watch_ranks(launcher: subprocess.Popen[bytes], watch: Any) -> None:
    """Publish progress and check for a stop until the launcher ends; a stop sends it SIGINT."""
    asked = False
    while launcher.poll() is None:
        time.sleep(POLL_S)
        step = int(last_metrics(watch.run_dir / "metrics.jsonl").get("step") or 0)
        if not asked and watch.check(step):
            launcher.send_signal(signal.SIGINT)  # as Ctrl-C: every rank checkpoints and stops
            asked = True


def _end(launcher: subprocess.Popen[bytes], sig: int) -> None:
    if launcher.poll() is None:
        launcher.send_signal(sig)
        launcher.wait()


def _result(printed: str, code: int, watch: Any, gpus: int) -> Any:
    """The `TrainResult` rank 0 printed; when a stop came before any was printed (the ranks
    were still loading), an interrupted result at the step the run had reached."""
    from worldmodel.train.trainer import TrainResult

    start = printed.find("{")
    if start >= 0 and code in (0, 130):
        return TrainResult(**json.loads(printed[start:]))
    if watch.reason is not None:
        step = int(last_metrics(watch.run_dir / "metrics.jsonl").get("step") or 0)
        # Only `interrupted` and `steps` are read for a stopped job; it returns no summary.
        return TrainResult(
            run_dir=str(watch.run_dir),
            adapter_dir=None,
            steps=step,
            total_steps=0,
            epochs_completed=0,
            train_examples=0,
            dropped_examples=0,
            interrupted=True,
            world_size=gpus,
        )
    raise RuntimeError(
        f"`wm train --gpus {gpus}` exited with code {code} without a result; the worker's log "
        "holds its ranks' output"
    )
