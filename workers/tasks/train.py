"""The training job: LoRA training on a generation worker, with progress, cancel and resume.

The task calls `worldmodel.train.trainer.train` with `resume=True` and the job's run folder in
the artifact store (`workers.artifacts`), so a job redelivered after its worker died continues
from the newest checkpoint that worker wrote. The trainer's `should_stop(step)` hook, asked
after every optimizer step, is where this task:

- publishes progress as task state `PROGRESS` (step, total, epoch, loss, tokens/s, ETA),
  read from the run's `metrics.jsonl` (the trainer writes it every `log_every` steps);
- pushes new checkpoints to a mirrored store;
- lets waiting generation batches use the GPU (`GpuGate.yield_to_generation`);
- runs alone: a worker trains one job at a time (`workers.worker.begin_training`) and hands
  back a second one it took in the moment before it paused its `train` queue, so no training
  job waits on a GPU gate while its time runs; a job's time limit counts from when it has the
  GPU;
- stops, with a checkpoint, when the job is cancelled (`wm cancel`), near its time limit, or
  when its worker is asked to stop (SIGTERM): then the job goes back on the queue (`Reject`
  with requeue) and any worker resumes it from that checkpoint;
- stops without progress, push or result when this worker no longer holds the job's message
  (`recovery.holds`): it was requeued while this worker was unresponsive, and the worker that
  took it over resumed it.

The total step count is `max_steps` when set, else read from the first checkpoint's summary;
before that, ETA is unknown (None). This module does not generate or execute.
"""

from __future__ import annotations

import contextlib
import json
import logging
import time
from pathlib import Path
from typing import Any

from celery.exceptions import Ignore, Reject

from workers.app import app, settings
from workers.artifacts import ArtifactStore
from workers.jobs import is_cancelled
from workers.recovery import holds, unreachable_errors
from workers.tasks import mark_revoked, stop_if_cancelled
from workers.worker import (
    begin_training,
    box_gate,
    end_training,
    gpu_gate,
    own_gpu,
    stopping,
    track,
    untrack,
)
from worldmodel.train.resume import last_metrics

log = logging.getLogger(__name__)


@app.task(name="wm.train", bind=True)
def train_job(self: Any, job: dict[str, Any]) -> dict[str, Any]:
    """Train (or resume) the job's LoRA adapter; return where it is and how training went."""
    job_id = job["job_id"]
    stop_if_cancelled(self, job_id)
    if not begin_training():
        # Taken in the moment before this worker paused its train queue: back to the queue,
        # for this worker once its running job ends, or for any other worker before that. It
        # is queued, not started (`wm status`; the watchdog resends only a PENDING step whose
        # message vanished).
        self.backend.store_result(self.request.id, None, "PENDING", request=self.request)
        raise Reject(f"training job {job_id}: this worker runs another; handed back", requeue=True)
    try:
        return _train(self, job)
    finally:
        end_training()


def _train(self: Any, job: dict[str, Any]) -> dict[str, Any]:
    from dataclasses import asdict

    from worldmodel.train.config import build_config

    job_id = job["job_id"]
    store = ArtifactStore(
        job.get("artifacts") or settings.artifact_url(),
        stores=settings.allowed_stores(),
        known_hosts=settings.ssh_known_hosts,
    )
    run_dir = store.run_dir(job_id)
    pulled = store.pull(job_id)
    layers = dict(job.get("config") or {})
    layers.update(
        model=job["base"],
        train_file=job["data"],
        validation_file=job.get("validation"),
        output_dir=str(run_dir),
        resume=True,
        progress=False,
    )
    config = build_config(layers)
    gpus = int(job.get("gpus") or 1)
    watch = Watch(self, job_id, config, store)
    if gpus > 1:
        from workers.tasks.train_ranks import train_on_gpus

        result = train_on_gpus(self, job_id, layers, config, gpus, watch)
    else:
        result = _train_here(self, job_id, config, watch)
    store.push(job_id, final=not result.interrupted)
    summary = asdict(result) | {
        "job_id": job_id,
        "artifacts": store.location(job_id),
        # What `wm submit-query --adapter` takes; adapter_dir is the trainer's local folder.
        "adapter": store.adapter_location(job_id),
        "pulled_checkpoint": pulled,
        "worker": self.request.hostname,
    }
    if result.interrupted and watch.reason == "cancelled":
        mark_revoked(
            self, f"cancelled at step {result.steps}; checkpoint in {store.location(job_id)}"
        )
        raise Ignore()
    if result.interrupted and watch.reason == "worker stopping":
        # Back on the queue (acks_late: reject + requeue); any worker resumes from the checkpoint.
        raise Reject(f"worker stopping at step {result.steps}; checkpoint saved", requeue=True)
    if result.interrupted:
        raise TimeoutError(
            f"training job {job_id} reached its time limit at step {result.steps}; its "
            f"checkpoint is in {store.location(job_id)}; resubmit to continue"
        )
    return summary


def _while_redis_answers(call: Any, what: str) -> Any:
    """`call()`, or None while Redis is unreachable (a restart): a training step never fails
    the job over its progress report or its cancel check; the next step tries again, and the
    commit at the end waits for Redis (`workers.recovery.fence`)."""
    try:
        return call()
    except unreachable_errors() as exc:
        log.warning("training: Redis unreachable, %s skipped at this step: %s", what, exc)
        return None


class Watch:
    """What a training job checks after every optimizer step, whichever way it trains.

    `check(step)` publishes progress, pushes new checkpoints to a mirrored store and says
    whether to stop (cancelled, worker stopping, near the time limit: `reason` says which); it
    raises `RunAbandoned` when this worker no longer holds the job's message. The time limit
    counts from `start()`, when the job has its GPU(s). `ranks` (world size, GPUs, box) goes
    into the progress of a data-parallel job.
    """

    def __init__(self, task: Any, job_id: str, config: Any, store: ArtifactStore):
        self.task = task
        self.job_id = job_id
        self.config = config
        self.store = store
        self.run_dir = store.run_dir(job_id)
        self.started = self.deadline = 0.0
        self.first_step: int | None = None
        self.reason: str | None = None
        self.ranks: dict[str, Any] | None = None
        self._pushed: set[str] = set()

    def start(self) -> None:
        self.started = time.monotonic()
        self.deadline = self.started + 0.9 * settings.train_time_limit_s

    def check(self, step: int) -> bool:
        from celery.worker import state as worker_state

        from worldmodel.train.trainer import RunAbandoned

        request = self.task.request
        if not holds(request):
            # Requeued while this worker was unresponsive (another worker resumed the job):
            # leave before writing progress or a checkpoint over the new holder's.
            raise RunAbandoned(f"training job {self.job_id}: another worker holds it now")
        if self.first_step is None:
            self.first_step = step - 1
        progress = _progress(self.run_dir, self.config, step, self.first_step, self.started)
        if self.ranks is not None:
            progress["ranks"] = self.ranks
        _while_redis_answers(
            lambda: self.task.update_state(state="PROGRESS", meta=progress), "progress"
        )
        checkpoints = {p.name for p in (self.run_dir / "checkpoints").glob("step-*")}
        if self.store.mirrored and checkpoints - self._pushed:
            self.store.push(self.job_id)
            self._pushed.update(checkpoints)
        cancelled = _while_redis_answers(
            lambda: is_cancelled(self.task.app, self.job_id), "cancel mark"
        )
        if request.id in worker_state.revoked or cancelled:
            self.reason = "cancelled"
        elif stopping():
            self.reason = "worker stopping"
        elif time.monotonic() > self.deadline:
            self.reason = "time limit"
        return self.reason is not None


def _train_here(task: Any, job_id: str, config: Any, watch: Watch) -> Any:
    """Train in this worker process, on its one GPU (or the CPU), sharing it with generation."""
    from worldmodel.train.trainer import RunAbandoned, train

    gate = gpu_gate()
    gpu = own_gpu()

    def should_stop(step: int) -> bool:
        stop = watch.check(step)
        if gate is not None and not stop:
            gate.yield_to_generation()
        return stop

    track(task.request.id, "wm.train", job=job_id)
    try:
        # Shared on the box, as generation holds it: a data-parallel job's claim of this GPU
        # waits for this run, and this run waits for one that holds it.
        with box_gate().shared(gpu) if gpu is not None else contextlib.nullcontext():
            if gate is not None:
                gate.acquire_for_training()
            watch.start()
            try:
                command = f"wm submit-train ({job_id})"
                return train(config, should_stop=should_stop, command=command)
            except RunAbandoned as exc:
                log.warning("%s; stopped without saving", exc)
                raise Ignore() from exc
            finally:
                if gate is not None:
                    gate.release_for_training()
    finally:
        untrack(task.request.id)


def _progress(
    run_dir: Path, config: Any, step: int, first_step: int, started: float
) -> dict[str, Any]:
    last = last_metrics(run_dir / "metrics.jsonl")
    total = config.max_steps or _total_from_checkpoint(run_dir)
    done_here = step - first_step
    elapsed = time.monotonic() - started
    eta = None
    if total and done_here > 0:
        eta = round(elapsed / done_here * max(total - step, 0), 1)
    return {
        "step": step,
        "total_steps": total,
        "epoch": last.get("epoch"),
        "loss": last.get("loss"),
        "tokens_per_s": last.get("tokens_per_s"),
        "eta_s": eta,
        "elapsed_s": round(elapsed, 1),
    }


def _total_from_checkpoint(run_dir: Path) -> int | None:
    found = sorted((run_dir / "checkpoints").glob("step-*/metrics.json"))
    if not found:
        return None
    try:
        return int(json.loads(found[-1].read_text())["result"]["total_steps"])
    except (KeyError, ValueError, json.JSONDecodeError):
        return None
