"""A job's steps, the Celery chain that runs them, and the Redis keys its record lives under.

A query is the chain generate -> sandbox -> compose; a training job is one `train` step. Each
step's task id is derived from the job id (`<id>.generate`, `<id>.sandbox`, and `<id>` for the
last step, whose result is the job's result), and its queue and priority come from the job's
class (`workers.routes`). The first step takes the job record; each later one takes the result
of the step before it.

Two modules send these chains and must agree on every detail: `workers.jobs` sends a whole
chain when a job is submitted, and `workers.watchdog` sends the rest of one again from the step
whose message was lost. Both build it here, from the same keys, ids and options.

Not covered here: submitting, looking up and cancelling jobs (jobs.py), finding lost steps
(watchdog.py), the tasks themselves (tasks/).
"""

from __future__ import annotations

from typing import Any

from workers.routes import step_options

JOB_PREFIX = "wm:job:"
"""`wm:job:<id>`: the job's submitted record (JSON), expiring with the results."""
JOBS_KEY = "wm:jobs"
"""Sorted set of job ids by submit time, for `wm jobs`."""
CANCEL_PREFIX = "wm:cancel:"
"""`wm:cancel:<id>` exists once the job is cancelled."""
ACTIVE_KEY = "wm:active"
"""Set of the ids of accepted jobs that have not ended; the watchdog walks it."""

QUERY_STEPS = ("generate", "sandbox", "compose")

Step = tuple[str, str, dict[str, Any]]
"""One step of a job: its name (task `wm.<name>`), its task id and its send options."""


def query_task_ids(job_id: str) -> dict[str, str]:
    return {"generate": f"{job_id}.generate", "sandbox": f"{job_id}.sandbox", "compose": job_id}


def job_steps(job: dict[str, Any]) -> list[Step]:
    """Every step of `job` in order; `ValueError` for an unknown job class."""
    job_id = job["job_id"]
    if job["kind"] == "train":
        return [("train", job_id, {"queue": "train"})]
    ids = query_task_ids(job_id)
    job_class = job.get("job_class", "interactive")
    return [(step, ids[step], step_options(f"wm.{step}", job_class)) for step in QUERY_STEPS]


def step_signatures(
    app: Any, job: dict[str, Any], steps: list[Step], previous: Any = None
) -> list[Any]:
    """Signatures for `steps`; the first takes the job (generate, train) or `previous`."""
    signatures = []
    for index, (step, task_id, options) in enumerate(steps):
        first = (job,) if step in ("generate", "train") else (previous,)
        args = first if index == 0 else ()
        signatures.append(
            app.signature(f"wm.{step}", args=args, options={"task_id": task_id, **options})
        )
    return signatures


def step_chain(app: Any, job: dict[str, Any], steps: list[Step], previous: Any = None) -> Any:
    """The Celery chain that runs `steps` in order (not sent)."""
    from celery import chain

    return chain(*step_signatures(app, job, steps, previous))
