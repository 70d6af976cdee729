"""Re-sending a job step whose message vanished, so an accepted job is never lost.

kombu's Redis transport takes a message with `BRPOP` (which removes it from the queue) and only
then, in a second round trip, records it in the `unacked` hash. A worker killed between the two
loses the message: it is in no queue, not unacked, and no visibility timeout will bring it back.
`workers.recovery` cannot see it either (no one ever claimed it).

The watchdog closes that hole at the job level. Every accepted job id is in `wm:active` until it
ends. One worker at a time walks those jobs, holding a lock with its own token for the whole
pass: the lock is renewed before each job (a pass that finds it taken over stops there) and
released only by its holder. A pass examines at most `MAX_EXAMINED` jobs and resends at most
`MAX_RESENT` steps, and the next pass goes on after the last job examined (the active ids in
order, `wm:watchdog-cursor`), so a large backlog is walked in bounded passes, not one pass that
outlives its lock.

For each job, the pass finds the first step that has not succeeded. If that step never started
(PENDING) and its message is in none of its queue's lists and not in the unacked hash, on two
looks at least `grace_s` apart in Redis's time (`workers.clock`: the looks may be two workers'),
the step is sent again with the same task id, with the previous step's stored result as its
input (the chain's steps are pure functions of their input), followed by the rest of the chain.
The resend is claimed by deleting the step's first-look entry (`HDEL` answers 1 to one caller
only), so even a pass that stalled past its lock never sends a step that another pass sent, in
the same script that checks the job's cancel mark, so a job cancelled or withdrawn at submit
(`workers.jobs`) is never sent again. Only accepted jobs are in `wm:active`: the client adds a
job once its first send succeeded. Same ids mean a step that did run after all, or runs now, is
dropped by its idempotency key (`workers.recovery.claim_step`).

Running steps are not touched here (their messages are unacked; `recovery` requeues them).
This module does not run tasks.
"""

from __future__ import annotations

import json
import logging
import re
import secrets
from bisect import bisect_right
from typing import Any

from workers.chain import ACTIVE_KEY, CANCEL_PREFIX, JOB_PREFIX, job_steps, step_chain
from workers.clock import server_time

log = logging.getLogger(__name__)

MISSING_KEY = "wm:missing"
LOCK_KEY = "wm:watchdog-lock"
CURSOR_KEY = "wm:watchdog-cursor"
"""The last job id a pass examined; the next pass starts after it."""
FINAL_STATES = ("SUCCESS", "FAILURE", "REVOKED")

MAX_EXAMINED = 500
"""Jobs one pass examines at most (three GETs each); the rest wait for the next pass."""
MAX_RESENT = 50
"""Steps one pass sends again at most; a pass stops examining once it has sent this many."""

_RENEW = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0
"""

_CLAIM = """
-- KEYS: missing, the job's cancel mark; ARGV: task id. 1: this caller sends the step again.
if redis.call('EXISTS', KEYS[2]) == 1 then return 0 end
return redis.call('HDEL', KEYS[1], ARGV[1])
"""

_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
"""


def check_once(
    app: Any,
    client: Any,
    grace_s: float,
    *,
    max_examined: int = MAX_EXAMINED,
    max_resent: int = MAX_RESENT,
) -> list[str]:
    """One pass over (part of) the active jobs; returns the task ids sent again."""
    token = secrets.token_hex(8)
    lock_ms = int(max(grace_s, 1) * 1000)
    if not client.set(LOCK_KEY, token, nx=True, px=lock_ms):
        return []  # another worker is doing this pass
    resent: list[str] = []
    try:
        waiting: set[str] | None = None  # read once, and only if some step looks lost
        for job_id in _next_jobs(client, max_examined):
            if not client.eval(_RENEW, 1, LOCK_KEY, token, lock_ms):
                log.warning("watchdog pass lost its lock (stalled past %d ms); stopping", lock_ms)
                break
            client.set(CURSOR_KEY, job_id)
            try:
                task_id, waiting = _check_job(app, client, job_id, grace_s, waiting)
            except Exception as exc:  # one bad record must not stop the others being checked
                log.warning("watchdog could not check job %s: %s", job_id, exc)
                continue
            if task_id:
                resent.append(task_id)
                if len(resent) >= max_resent:
                    break
    finally:
        client.eval(_RELEASE, 1, LOCK_KEY, token)
    return resent


def _next_jobs(client: Any, limit: int) -> list[str]:
    """Up to `limit` active job ids in order, starting after the cursor and wrapping round."""
    ids = sorted(raw.decode() for raw in client.smembers(ACTIVE_KEY))
    cursor = client.get(CURSOR_KEY)
    start = bisect_right(ids, cursor.decode()) if cursor is not None else 0
    return (ids[start:] + ids[:start])[:limit]


def _check_job(
    app: Any, client: Any, job_id: str, grace_s: float, waiting: set[str] | None
) -> tuple[str | None, set[str] | None]:
    """The task id sent again (or None), and the waiting ids read so far (read here if needed)."""
    raw = client.get(JOB_PREFIX + job_id)
    if raw is None or client.exists(CANCEL_PREFIX + job_id):
        client.srem(ACTIVE_KEY, job_id)
        return None, waiting
    job = json.loads(raw)
    pending = job_steps(job)
    states = [app.AsyncResult(task_id).state for _, task_id, _ in pending]
    if states[-1] in FINAL_STATES or "FAILURE" in states or "REVOKED" in states:
        client.srem(ACTIVE_KEY, job_id)
        return None, waiting
    first = next(i for i, state in enumerate(states) if state != "SUCCESS")
    step, task_id, _ = pending[first]
    if states[first] != "PENDING":
        client.hdel(MISSING_KEY, task_id)
        return None, waiting
    if waiting is None:
        waiting = _waiting_ids(client)
    if task_id in waiting:
        client.hdel(MISSING_KEY, task_id)
        return None, waiting
    seen = client.hget(MISSING_KEY, task_id)
    now = server_time(client)  # every worker's looks on one clock (`workers.clock`)
    if seen is None:
        client.hset(MISSING_KEY, task_id, now)
        return None, waiting
    if now - float(seen) < grace_s:
        return None, waiting
    if not client.eval(_CLAIM, 2, MISSING_KEY, CANCEL_PREFIX + job_id, task_id):
        return None, waiting  # another pass claimed this resend, or the job was withdrawn
    previous = app.AsyncResult(pending[first - 1][1]).result if first else None
    step_chain(app, job, pending[first:], previous).apply_async()
    log.warning("job %s: step %s was lost in transit; sent it again", job_id, step)
    return task_id, waiting


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
