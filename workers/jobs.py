"""The client side of the job system: submit, look up, wait for, cancel and list jobs.

A job is what a user submits (`wm submit-query`, `wm submit-train`). Its record lives in Redis
(`wm:job:<id>`, JSON, expiring with the results) and the id is also listed in `wm:jobs` (a
sorted set by submit time) for `wm jobs`. A query is a chain of three tasks with ids derived
from the job id (`<id>.generate`, `<id>.sandbox`, and `<id>` for the final compose step, whose
result is the answer); a training job is one task whose id is the job id. The keys, ids and
chains are defined in `workers.chain`, which the watchdog shares.

Accepted means published: the record is written, the chain's first message is in Redis, and
then the job is recorded as accepted (`wm:active`, which the watchdog walks) before `submit_*`
returns. If Redis cannot be reached (connect timeout from settings, a couple of quick publish
retries), `BrokerUnavailable` says the job was NOT accepted, and that is the truth: a job whose
send failed is withdrawn with a mark every step checks, so even a message that reached Redis
never runs. When Redis went away before the withdrawal, `AcceptanceUnknown` says so and names
the job to look at or cancel. Nothing is retried behind the user's back. This module prints
nothing (the CLI does).
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Sequence
from typing import Any

from workers.chain import (
    ACTIVE_KEY,
    CANCEL_PREFIX,
    JOB_PREFIX,
    JOBS_KEY,
    job_steps,
    query_task_ids,
    step_chain,
    step_signatures,
)
from worldmodel.errors import ConfigError, WorldModelError
from worldmodel.format import check_question
from worldmodel.pipeline import DEFAULT_VOTE_TEMPERATURE, Answer, voting_problem


class JobError(WorldModelError):
    """A job cannot be found, or asked for something it cannot do."""


class BrokerUnavailable(WorldModelError):
    """Redis could not be reached; the message says whether a job was accepted."""


class AcceptanceUnknown(BrokerUnavailable):
    """A submit failed midway and Redis was gone before the job could be withdrawn: the job
    may run. Its id is `job_id`; `status` tells once Redis is back, `cancel` settles it."""

    def __init__(self, job_id: str, message: str) -> None:
        super().__init__(message)
        self.job_id = job_id


NOT_ACCEPTED = "not-accepted"
"""The cancel mark's value for a job withdrawn at submit (any other value: `wm cancel`)."""


def submit_query(
    app: Any,
    question: str,
    *,
    mode: str | None = None,
    job_class: str = "interactive",
    block_timeout_s: float | None = None,
    adapter: str | None = None,
    samples: int = 1,
    temperature: float = DEFAULT_VOTE_TEMPERATURE,
) -> str:
    """Publish the generate -> sandbox -> compose chain for `question`; return the job id.

    `adapter`: a LoRA adapter to answer with instead of the workers' own (a path every
    generation worker can read, or an artifact-store URL such as a training job's `adapter`).
    `samples` > 1: answer by a vote over that many candidates, the greedy one and the rest
    sampled at `temperature` (`worldmodel.pipeline.choose`).
    """
    question = check_question(question)  # the same limits as `wm query`, before anything is sent
    problem = voting_problem(samples, temperature)
    if problem:
        raise ConfigError(problem)

    job_id = uuid.uuid4().hex
    job = {
        "job_id": job_id,
        "kind": "query",
        "question": question,
        # None: the generation worker decides, as `wm query` would (`tasks.generate.job_choice`).
        "mode": mode,
        "job_class": job_class,
        "block_timeout_s": block_timeout_s,
        "adapter": adapter,
        "samples": samples,
        "temperature": temperature,
        "submitted_at": time.time(),
    }
    chain = step_chain(app, job, job_steps(job))  # an unknown job class fails here, unsent
    _publish(app, job, chain.apply_async)
    return job_id


def submit_train(
    app: Any,
    *,
    data: str,
    base: str,
    config: dict[str, Any] | None = None,
    validation: str | None = None,
    artifacts: str | None = None,
    gpus: int = 1,
) -> str:
    """Publish one training job; return its id (also its run folder's name in the store).

    `gpus` > 1: data-parallel on that many GPUs of one box (`tasks.train_ranks`)."""
    if gpus < 1:
        raise ConfigError(f"gpus: {gpus}; a training job needs at least 1 GPU")
    settings = _settings(app)
    job_id = uuid.uuid4().hex
    job = {
        "job_id": job_id,
        "kind": "train",
        "data": data,
        "validation": validation,
        "base": base,
        "config": config or {},
        "artifacts": artifacts or settings.artifact_url(),
        "gpus": gpus,
        "submitted_at": time.time(),
    }
    [signature] = step_signatures(app, job, job_steps(job))
    _publish(app, job, signature.apply_async)
    return job_id


def record(app: Any, job_id: str) -> dict[str, Any]:
    """The job's submitted record; `JobError` if there is none (unknown or expired)."""
    raw = _call(app, lambda client: client.get(JOB_PREFIX + job_id))
    if raw is None:
        raise JobError(f"no job {job_id!r} (unknown, or its record expired)")
    return json.loads(raw)


def status(app: Any, job_id: str) -> dict[str, Any]:
    """State of the job and of each of its steps, with training progress when there is some."""
    job = record(app, job_id)
    cancelled = bool(_call(app, lambda client: client.exists(CANCEL_PREFIX + job_id)))
    if job["kind"] == "train":
        result = app.AsyncResult(job_id)
        state, info = _state(result)
        steps = {"train": state}
        progress = info if state == "PROGRESS" and isinstance(info, dict) else None
    else:
        steps = {}
        for step, task_id in query_task_ids(job_id).items():
            steps[step], _ = _state(app.AsyncResult(task_id))
        state = _overall(steps)
        progress = None
    if cancelled and state == "PENDING":
        state = "REVOKED"  # nothing runs it any more; a running job says so itself when it stops
    return {
        "job_id": job_id,
        "kind": job["kind"],
        "state": state,
        "steps": steps,
        "progress": progress,
        "cancelled": cancelled,
        "job": job,
    }


def result(app: Any, job_id: str, *, wait: bool = False, timeout_s: float | None = None) -> Any:
    """The job's result (the answer as JSON, or the training summary).

    Without `wait` an unfinished job raises `JobError` naming its state; a failed job raises
    `JobError` with the worker's error.
    """
    job = record(app, job_id)
    deadline = None if timeout_s is None else time.monotonic() + timeout_s
    while True:
        current = status(app, job_id)
        state = current["state"]
        if state == "SUCCESS":
            return _state(app.AsyncResult(job_id))[1]
        if state in ("FAILURE", "REVOKED"):
            failed = [step for step, s in current["steps"].items() if s in ("FAILURE", "REVOKED")]
            task_ids = [job_id] if job["kind"] == "train" else [query_task_ids(job_id)[failed[0]]]
            error = _state(app.AsyncResult(task_ids[0]))[1] if failed else "cancelled"
            raise JobError(f"job {job_id} {state.lower()}: {error}")
        if not wait:
            raise JobError(f"job {job_id} has no result yet (state {state})")
        if deadline is not None and time.monotonic() > deadline:
            raise JobError(f"job {job_id} did not finish within {timeout_s} s (state {state})")
        time.sleep(0.1)


def attempt_via_queue(
    app: Any,
    questions: Sequence[str],
    *,
    samples: int,
    temperature: float = DEFAULT_VOTE_TEMPERATURE,
    adapter: str | None = None,
    timeout_s: float | None = None,
) -> list[list[Answer]]:
    """Every candidate of each question, through the workers: self-training's
    `worldmodel.data.self_train.Attempt` for the job system.

    Each question is one batch-class query job in plain mode (the prose answer is part of what
    self-training keeps) with `samples` candidates; all are submitted before the first is
    awaited, so the generation workers batch them. A failed job raises `JobError`.
    """
    if samples < 2:
        raise ConfigError("self-training through the queue needs samples >= 2")
    ids = [
        submit_query(
            app,
            question,
            mode="plain",
            job_class="batch",
            adapter=adapter,
            samples=samples,
            temperature=temperature,
        )
        for question in questions
    ]
    found = []
    for job_id in ids:
        answer = result(app, job_id, wait=True, timeout_s=timeout_s)
        found.append([Answer.from_dict(candidate) for candidate in answer["candidates"]])
    return found


def cancel(app: Any, job_id: str) -> dict[str, Any]:
    """Cancel a job: queued steps never run; a training job stops at its next step.

    The cancel mark is kept in Redis (so a redelivered job sees it too) and every task of the
    job is revoked on all workers.
    """
    job = record(app, job_id)
    settings = _settings(app)
    _call(app, lambda client: client.set(CANCEL_PREFIX + job_id, "1", ex=settings.result_expires_s))
    ids = [job_id] if job["kind"] == "train" else list(query_task_ids(job_id).values())
    # No terminate: the workers run thread pools, which cannot kill one job; the training loop
    # checks the revoke/cancel mark after every optimizer step instead and frees the GPU there.
    app.control.revoke(ids)
    return status(app, job_id)


def is_cancelled(app: Any, job_id: str) -> bool:
    return bool(_call(app, lambda client: client.exists(CANCEL_PREFIX + job_id)))


def recent(app: Any, limit: int = 20) -> list[dict[str, Any]]:
    """The newest `limit` jobs with their states (expired ones are dropped from the list)."""
    ids = _call(app, lambda client: client.zrevrange(JOBS_KEY, 0, limit - 1))
    found = []
    for raw in ids:
        job_id = raw.decode()
        try:
            found.append(status(app, job_id))
        except JobError:
            _call(app, lambda client, j=job_id: client.zrem(JOBS_KEY, j))
    return found


def workers(app: Any, timeout_s: float = 1.5) -> list[dict[str, Any]]:
    """Every live worker: name, box, GPU, queues and current jobs (one inspect broadcast)."""
    try:
        replies = app.control.inspect(timeout=timeout_s)._request("wm_info") or {}
    except OSError as exc:
        raise BrokerUnavailable(f"cannot reach the broker: {exc}") from exc
    return [{"name": name, **(replies[name] or {})} for name in sorted(replies)]


def _publish(app: Any, job: dict[str, Any], send: Any) -> None:
    """Write the record, send the first message, then record the job as accepted.

    The job joins `wm:active` (where the watchdog sends lost steps again) and `wm:jobs` only
    after its send succeeded. When the send or that record fails, the job is withdrawn: marked
    not accepted (the cancel mark, which every step checks before it runs, so a message that
    reached Redis although its send reported a failure never runs) and removed. Only a
    completed withdrawal lets the error say NOT accepted; one that could not reach Redis says
    so, and how to settle it (`AcceptanceUnknown`).
    """
    settings = _settings(app)
    from workers.settings import redact

    where = redact(settings.broker_url)
    job_id = job["job_id"]
    try:
        client = _client(app)
        client.ping()
        client.set(JOB_PREFIX + job_id, json.dumps(job), ex=settings.result_expires_s)
    except Exception as exc:  # nothing was sent, and nothing unsent is ever sent by a worker
        raise BrokerUnavailable(
            f"the job was NOT accepted: cannot reach Redis at {where} ({exc}). Start it "
            "(`wm stack up`) or set WM_BROKER_URL."
        ) from exc
    try:
        send()
        pipe = client.pipeline()
        pipe.zadd(JOBS_KEY, {job_id: job["submitted_at"]})
        pipe.sadd(ACTIVE_KEY, job_id)  # accepted: watched until it ends (`workers.watchdog`)
        pipe.execute()
    except Exception as exc:
        try:
            pipe = client.pipeline()
            pipe.set(CANCEL_PREFIX + job_id, NOT_ACCEPTED, ex=settings.result_expires_s)
            pipe.srem(ACTIVE_KEY, job_id)
            pipe.zrem(JOBS_KEY, job_id)
            pipe.delete(JOB_PREFIX + job_id)
            pipe.execute()
        except Exception as withdraw_exc:
            raise AcceptanceUnknown(
                job_id,
                f"publishing job {job_id} to {where} failed ({exc}), and the job could not be "
                f"withdrawn ({withdraw_exc}): it was probably not sent, but if its message "
                f"reached Redis before the failure it may run. Once Redis is back, "
                f"`wm status {job_id}` tells, and `wm cancel {job_id}` makes sure it never runs.",
            ) from exc
        raise BrokerUnavailable(
            f"the job was NOT accepted: publishing to {where} failed ({exc})"
        ) from exc


_clients: dict[str, Any] = {}


def _client(app: Any) -> Any:
    import redis

    url = app.conf.broker_url
    if url not in _clients:
        timeout = _settings(app).connect_timeout_s
        _clients[url] = redis.Redis.from_url(
            url, socket_connect_timeout=timeout, socket_timeout=max(timeout, 5)
        )
    return _clients[url]


def _call(app: Any, fn: Any) -> Any:
    from workers.settings import redact

    try:
        return fn(_client(app))
    except OSError as exc:
        where = redact(app.conf.broker_url)
        raise BrokerUnavailable(f"cannot reach Redis at {where}: {exc}") from exc
    except Exception as exc:
        import redis

        if isinstance(exc, redis.RedisError):
            raise BrokerUnavailable(
                f"cannot reach Redis at {redact(app.conf.broker_url)}: {exc}"
            ) from exc
        raise


def _settings(app: Any) -> Any:
    return app.wm_settings


def _state(result: Any) -> tuple[str, Any]:
    try:
        return result.state, result.info
    except OSError as exc:
        raise BrokerUnavailable(f"cannot reach the result backend: {exc}") from exc


def _overall(steps: dict[str, str]) -> str:
    states = list(steps.values())
    if states[-1] == "SUCCESS":
        return "SUCCESS"
    if "FAILURE" in states:
        return "FAILURE"
    if "REVOKED" in states:
        return "REVOKED"
    if any(state in ("STARTED", "SUCCESS") for state in states):
        return "STARTED"
    return "PENDING"
