"""Thin Celery tasks: each takes ids and small JSON, calls `worldmodel` or `sandbox`, returns JSON.

- `generate`: question -> generated text + parsed response (generation workers, batched);
- `sandbox`: runs each code block of the response (sandbox workers);
- `compose`: verifies and builds the `Answer` (after-execution mode: a second generation);
- `train`: a LoRA training job with progress as task state and resume from checkpoints.

Every task is safe to run twice for the same id (late acks can redeliver): steps are pure
functions of their input, a second copy of a step runs nothing while the first runs or once it
ended (its idempotency key, `workers.recovery.claim_step`), training resumes from its own
checkpoints, and of two runs only the one whose worker holds the message commits
(`workers.recovery.FencedTask`).
"""

from __future__ import annotations

from typing import Any


def stop_if_cancelled(task: Any, job_id: str) -> None:
    """End this step as REVOKED if the job was cancelled (`wm cancel`).

    A revoke broadcast reaches only the workers alive at that moment; the cancel mark in Redis
    also stops a step picked up later by a worker that started after the cancel.
    """
    from celery.exceptions import Ignore

    from workers.jobs import is_cancelled

    if is_cancelled(task.app, job_id):
        mark_revoked(task, "cancelled")
        raise Ignore()


def mark_revoked(task: Any, reason: str) -> None:
    """Store REVOKED for this task (Celery stores it as a `TaskRevokedError` with `reason`)."""
    task.backend.mark_as_revoked(task.request.id, reason, request=task.request)
