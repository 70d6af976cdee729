"""Re-sending a job step whose message vanished, so an accepted job is never lost.

kombu's Redis transport takes a message with `BRPOP` (which removes it from the queue) and only
then, in a second round trip, records it in the `unacked` hash. A worker killed between the two
loses the message: it is in no queue, not unacked, and no visibility timeout will bring it back.
`workers.recovery` cannot see it either (no one ever claimed it).

The watchdog closes that hole at the job level. Every accepted job id is in `wm:active` until it
ends. One worker at a time (a short Redis lock) walks those jobs; for each, it finds the first
step that has not succeeded. If that step never started (PENDING) and its message is in none of
its queue's lists and not in the unacked hash, on two looks at least `grace_s` apart, the step
is sent again with the same task id, with the previous step's stored result as its input (the
chain's steps are pure functions of their input), followed by the rest of the chain. Same ids
mean a step that did run after all is deduplicated (`worker_deduplicate_successful_tasks`).

Running steps are not touched here (their messages are unacked; `recovery` requeues them).
This module does not run tasks.
"""

from __future__ import annotations

import json
import logging
import re
import time
from typing import Any

from workers.chain import ACTIVE_KEY, CANCEL_PREFIX, JOB_PREFIX, job_steps, step_chain

log = logging.getLogger(__name__)

MISSING_KEY = "wm:missing"
LOCK_KEY = "wm:watchdog-lock"
FINAL_STATES = ("SUCCESS", "FAILURE", "REVOKED")


def check_once(app: Any, client: Any, grace_s: float) -> list[str]:
    """One pass over the active jobs; returns the task ids sent again."""
    if not client.set(LOCK_KEY, "1", nx=True, px=int(max(grace_s, 1) * 1000)):
        return []  # another worker is doing this pass
    resent: list[str] = []
    waiting = _waiting_ids(client)
    for raw in client.smembers(ACTIVE_KEY):
        job_id = raw.decode()
        try:
            task_id = _check_job(app, client, job_id, grace_s, waiting)
        except Exception as exc:  # one bad record must not stop the others being checked
            log.warning("watchdog could not check job %s: %s", job_id, exc)
            continue
        if task_id:
            resent.append(task_id)
    return resent


def _check_job(app: Any, client: Any, job_id: str, grace_s: float, waiting: set[str]) -> str | None:
    raw = client.get(JOB_PREFIX + job_id)
    if raw is None or client.exists(CANCEL_PREFIX + job_id):
        client.srem(ACTIVE_KEY, job_id)
        return None
    job = json.loads(raw)
    pending = job_steps(job)
    states = [app.AsyncResult(task_id).state for _, task_id, _ in pending]
    if states[-1] in FINAL_STATES or "FAILURE" in states or "REVOKED" in states:
        client.srem(ACTIVE_KEY, job_id)
        return None
    first = next(i for i, state in enumerate(states) if state != "SUCCESS")
    step, task_id, _ = pending[first]
    if states[first] != "PENDING" or task_id in waiting:
        client.hdel(MISSING_KEY, task_id)
        return None
    seen = client.hget(MISSING_KEY, task_id)
    now = time.time()
    if seen is None:
        client.hset(MISSING_KEY, task_id, now)
        return None
    if now - float(seen) < grace_s:
        return None
    previous = app.AsyncResult(pending[first - 1][1]).result if first else None
    step_chain(app, job, pending[first:], previous).apply_async()
    client.hdel(MISSING_KEY, task_id)
    log.warning("job %s: step %s was lost in transit; sent it again", job_id, step)
    return task_id


_ID = re.compile(rb'"id": ?"([^"]+)"')


def _waiting_ids(client: Any) -> set[str]:
    """Task ids of every message waiting in a queue (any priority) or held unacked."""
    from workers.settings import QUEUES

    keys = [key for queue in QUEUES for key in (queue, *(f"{queue}:{p}" for p in range(1, 10)))]
    pipe = client.pipeline()
    for key in keys:
        pipe.lrange(key, 0, -1)
    pipe.hvals("unacked")
    found: set[str] = set()
    for items in pipe.execute():
        for item in items:
            found.update(match.decode() for match in _ID.findall(item))
    return found
