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
from workers.worker import begin_training, end_training, gpu_gate, stopping, track, untrack

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


def _while_redis_answers(call: Any, what: str) -> Any:
    """`call()`, or None while Redis is unreachable (a restart): a training step never fails
    the job over its progress report or its cancel check; the next step tries again, and the
    commit at the end waits for Redis (`workers.recovery.fence`)."""
    try:
        return call()
    except unreachable_errors() as exc:
        log.warning("training: Redis unreachable, %s skipped at this step: %s", what, exc)
        return None


def _train(self: Any, job: dict[str, Any]) -> dict[str, Any]:
    from dataclasses import asdict

    from celery.worker import state as worker_state

    from worldmodel.train.config import build_config
    from worldmodel.train.trainer import RunAbandoned, train

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
    started = deadline = 0.0  # set once the GPU is this job's: its time starts there
    first_step: list[int] = []
    stop_reason: list[str] = []
    gate = gpu_gate()
    pushed: set[str] = set()

    def should_stop(step: int) -> bool:
        if not holds(self.request):
            # Requeued while this worker was unresponsive (another worker resumed the job):
            # leave before writing progress or a checkpoint over the new holder's.
            raise RunAbandoned(f"training job {job_id}: another worker holds it now")
        if not first_step:
            first_step.append(step - 1)
        meta = _progress(run_dir, config, step, first_step[0], started)
        _while_redis_answers(lambda: self.update_state(state="PROGRESS", meta=meta), "progress")
        checkpoints = {p.name for p in (run_dir / "checkpoints").glob("step-*")}
        if store.mirrored and checkpoints - pushed:
            store.push(job_id)
            pushed.update(checkpoints)
        if gate is not None:
            gate.yield_to_generation()
        cancelled = _while_redis_answers(lambda: is_cancelled(self.app, job_id), "cancel mark")
        if self.request.id in worker_state.revoked or cancelled:
            stop_reason.append("cancelled")
            return True
        if stopping():
            stop_reason.append("worker stopping")
            return True
        if time.monotonic() > deadline:
            stop_reason.append("time limit")
            return True
        return False

    track(self.request.id, "wm.train", job=job_id)
    if gate is not None:
        gate.acquire_for_training()
    started = time.monotonic()
    deadline = started + 0.9 * settings.train_time_limit_s
    try:
        result = train(config, should_stop=should_stop, command=f"wm submit-train ({job_id})")
    except RunAbandoned as exc:
        log.warning("%s; stopped without saving", exc)
        raise Ignore() from exc
    finally:
        if gate is not None:
            gate.release_for_training()
        untrack(self.request.id)
    store.push(job_id, final=not result.interrupted)
    summary = asdict(result) | {
        "job_id": job_id,
        "artifacts": store.location(job_id),
        # What `wm submit-query --adapter` takes; adapter_dir is the trainer's local folder.
        "adapter": store.adapter_location(job_id),
        "pulled_checkpoint": pulled,
        "worker": self.request.hostname,
    }
    if result.interrupted and stop_reason == ["cancelled"]:
        mark_revoked(
            self, f"cancelled at step {result.steps}; checkpoint in {store.location(job_id)}"
        )
        raise Ignore()
    if result.interrupted and stop_reason == ["worker stopping"]:
        # Back on the queue (acks_late: reject + requeue); any worker resumes from the checkpoint.
        raise Reject(f"worker stopping at step {result.steps}; checkpoint saved", requeue=True)
    if result.interrupted:
        raise TimeoutError(
            f"training job {job_id} reached its time limit at step {result.steps}; its "
            f"checkpoint is in {store.location(job_id)}; resubmit to continue"
        )
    return summary


def _progress(
    run_dir: Path, config: Any, step: int, first_step: int, started: float
) -> dict[str, Any]:
    last = _last_metrics(run_dir / "metrics.jsonl")
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


def _last_metrics(path: Path) -> dict[str, Any]:
    if not path.is_file():
        return {}
    for line in reversed(path.read_text().splitlines()):
        if line.strip():
            record = json.loads(line)
            if "loss" in record:
                return record
    return {}


def _total_from_checkpoint(run_dir: Path) -> int | None:
    found = sorted((run_dir / "checkpoints").glob("step-*/metrics.json"))
    if not found:
        return None
    try:
        return int(json.loads(found[-1].read_text())["result"]["total_steps"])
    except (KeyError, ValueError, json.JSONDecodeError):
        return None
