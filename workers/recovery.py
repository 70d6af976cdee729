"""Who holds each taken message, and getting it back to the queue (once) when that holder is gone.

With Redis as the broker, a message a worker has taken but not acked sits in kombu's `unacked`
hash. kombu gives it to another worker only once `visibility_timeout` has passed, and that
timeout must be longer than the longest job (hours, for training), so on its own a worker killed
with `kill -9` would hold its jobs for hours. This module closes that gap:

- every worker process keeps a heartbeat key `wm:alive:<owner>` alive with a short TTL;
- a worker records `delivery_tag -> owner` in `wm:owners` in the same Redis step that takes the
  message (`workers.transport`), and again when it receives it (`claim`);
- a reaper thread in every worker looks for owners whose heartbeat has stayed expired (two
  looks half a grace period apart; never itself) and puts their messages back on their queues,
  in one WATCHed transaction that also checks the owner is still the dead one and its
  heartbeat still absent (so two reapers never requeue one message twice);
- the same reaper settles its own worker's messages that no request in this process runs any
  more, seen on two looks as far apart: a message whose step already reached a final state is
  acked, any other is requeued. That happens when an ack could not reach Redis (a Redis
  restart at the moment a step finished), or when Celery dropped a request it had received
  when its broker connection broke.

A requeued message gets a new delivery tag. Every ack, reject and requeue of a message goes
through `settle` (wired in by `workers.transport`), which acts only for the worker that holds
the message's tag now, over this module's own Redis connection, so it still works after the
consumer's connection was replaced by a reconnect. And a step commits (sends the next step of
its chain, stores its result) only after `fence` confirmed, in one Lua script, that this worker
still holds the tag, and took a short commit lease that makes reapers leave the message alone
until the commit is done. Together: a worker whose threads stalled past its heartbeat TTL (a
frozen VM, a GC pause, SIGSTOP) and whose job was meanwhile requeued and taken by another
worker finds its tag gone when it wakes up: it neither commits nor acks, and the step's effects
happen once, from the worker that holds it. (A redelivered step that had in fact finished is
deduplicated by `worker_deduplicate_successful_tasks`.)

The owner is `<hostname>/<pid>/<random>`, so a worker restarted under the same name is a new
owner and its predecessor's jobs are still recovered. A message taken in the instant before its
owner entry is written is requeued once it has been unowned for two heartbeat TTLs, counted in
Redis time: the take is stamped by Redis (`workers.transport`), the reaper reads Redis's clock
(`workers.clock`), so no worker's wrong clock shortens that grace. Owner
entries are removed with their ack, or by the reaper once the message is gone. The limit of the
fence is its lease: a worker that stalls for longer than the lease (`COMMIT_LEASE_TTLS`
heartbeat TTLs) inside its commit, the milliseconds between `fence` and its stored result, can
still commit a step that a second worker runs too.
Each step also has an idempotency key, `wm:step:<task id>` (the task id names the job and the
step, `workers.chain`), claimed atomically before the step does anything (`claim_step`): it
names the delivery tag of the one message copy allowed to run the step. A second copy of a
step's message (Celery publishes the next step before it stores the current one as done, so a
step rerun after a kill in between publishes its next step twice; the watchdog may resend a
step whose message was only slow) finds the key held by a message that is still taken, or the
step already ended, and is dropped without effect. A copy whose holder's message is gone
(requeued by a reaper, or acked) may take the key over. This module does not decide what a task
does when rerun (tasks are pure functions of their input; see `workers.tasks`).
"""

from __future__ import annotations

import logging
import os
import secrets
import threading
import time
import uuid
from typing import Any

from celery import Task
from celery.exceptions import Ignore, Reject, Retry

from workers.clock import server_time
from workers.watchdog import FINAL_STATES, check_once

log = logging.getLogger(__name__)

OWNERS_KEY = "wm:owners"
ALIVE_PREFIX = "wm:alive:"
COMMIT_PREFIX = "wm:commit:"
STEP_PREFIX = "wm:step:"
"""`wm:step:<task id>`: the delivery tag of the message copy that runs that step (`claim_step`)."""
UNACKED_KEY = "unacked"
UNACKED_INDEX_KEY = "unacked_index"
"""kombu's Redis transport keys (its defaults; the workers never change them)."""

COMMIT_LEASE_TTLS = 4
"""A commit lease lasts this many heartbeat TTLs: far longer than a commit (one publish, one
result write, one ack), short enough that a worker killed mid-commit delays its job little."""

FENCE_WAIT_TTLS = 4
"""How long (in heartbeat TTLs) a finished step waits for an unreachable Redis before handing
its message back: a Redis restart takes seconds, and without Redis nothing can commit anyway."""

_FORGET = """
if redis.call('HGET', KEYS[1], ARGV[1]) == ARGV[2] then
  return redis.call('HDEL', KEYS[1], ARGV[1])
end
return 0
"""

_FENCE = """
-- KEYS: owners, unacked, commit lease; ARGV: tag, owner, lease ms.
-- The tag must still be taken (not requeued, not acked) and held by this worker.
if redis.call('HEXISTS', KEYS[2], ARGV[1]) == 0 then return 0 end
local holder = redis.call('HGET', KEYS[1], ARGV[1])
if holder == false then
  -- taken before this worker was ready and its claim's write failed: ours
  redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
elseif holder ~= ARGV[2] then
  return 0
end
redis.call('SET', KEYS[3], ARGV[2], 'PX', ARGV[3])
return 1
"""

_CLAIM_STEP = """
-- KEYS: step key, unacked; ARGV: tag, ttl s. Refused while another copy is taken (running).
local holder = redis.call('GET', KEYS[1])
if holder and holder ~= ARGV[1] and redis.call('HEXISTS', KEYS[2], holder) == 1 then
  return 0
end
redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2])
return 1
"""

_ACK = """
-- KEYS: owners, unacked, unacked index, commit lease; ARGV: tag, owner.
local holder = redis.call('HGET', KEYS[1], ARGV[1])
if holder ~= false and holder ~= ARGV[2] then return 0 end
redis.call('HDEL', KEYS[1], ARGV[1])
redis.call('HDEL', KEYS[2], ARGV[1])
redis.call('ZREM', KEYS[3], ARGV[1])
if redis.call('GET', KEYS[4]) == ARGV[2] then redis.call('DEL', KEYS[4]) end
return 1
"""

_state: dict[str, Any] = {"owner": None, "stop": None, "client": None, "app": None, "ttl": None}


def owner_id() -> str | None:
    """This process's owner id (None before the worker is ready)."""
    return _state["owner"]


def start(app: Any, hostname: str, ttl_s: float) -> None:
    """Start the heartbeat and reaper threads of this worker process."""
    import redis

    if _state["owner"] is not None:
        return
    owner = f"{hostname}/{os.getpid()}/{secrets.token_hex(4)}"
    client = redis.Redis.from_url(app.conf.broker_url, socket_connect_timeout=5, socket_timeout=10)
    stop = threading.Event()
    _state.update(owner=owner, stop=stop, client=client, app=app, ttl=ttl_s)
    _beat(client, owner, ttl_s)
    threading.Thread(
        target=_heartbeat_loop,
        args=(client, owner, ttl_s, stop),
        daemon=True,
        name="wm-heartbeat",
    ).start()
    threading.Thread(
        target=_reaper_loop, args=(app, client, ttl_s, stop), daemon=True, name="wm-reaper"
    ).start()
    log.info("worker owner %s: heartbeat every %.1f s, reaper started", owner, ttl_s / 3)


def stop() -> None:
    """Stop beating; a clean stop removes the heartbeat so nothing waits for its TTL."""
    event, client, owner = _state["stop"], _state["client"], _state["owner"]
    if event is None:
        return
    event.set()
    try:
        client.delete(ALIVE_PREFIX + owner)
    except Exception as exc:  # Redis may already be gone at shutdown; the TTL covers it
        log.warning("could not remove heartbeat %s: %s", owner, exc)


def claim(request: Any) -> None:
    """Record that this worker holds the request's unacked message."""
    tag = _delivery_tag(request)
    owner, client = _state["owner"], _state["client"]
    if tag is None or owner is None:
        return
    try:
        client.hset(OWNERS_KEY, tag, owner)
    except Exception as exc:  # `fence` claims it before the commit, or a reaper requeues it
        log.warning("could not record owner of %s: %s", tag, exc)


class FencedTask(Task):
    """The base of every task: an outcome commits only while this worker holds the message.

    Celery sends the next step of a chain and stores the result right after the task body
    returns (and stores a failure right after it raises), so the check sits in between: `fence`
    either confirms that this worker still holds the message's delivery tag (and takes the
    commit lease), or ends the task without any effect. Celery's control exceptions pass
    unfenced: `Reject(requeue=True)` hands the message back through `settle`, which is fenced
    itself, and `Ignore` stores nothing (a cancelled step stores REVOKED first, the same for
    every run); no task here retries. A task called directly (not from a message) has nothing
    to fence.
    """

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if self.request.called_directly:
            return super().__call__(*args, **kwargs)
        # Not super().__call__: it would push a second, empty request context over the one
        # the worker set up, and the task body reads its id and hostname from that one.
        claim_step(self)  # raises Ignore for a second copy of a step that runs or ran
        try:
            result = self.run(*args, **kwargs)
        except (Ignore, Reject, Retry):
            raise
        except unreachable_errors() as exc:
            # Redis went away under the step (a restart): the job is not at fault. Hand the
            # message back; if even that cannot reach Redis, the reaper requeues it later.
            log.warning(
                "%s[%s]: Redis unreachable mid-step, handing it back: %s", *_who(self.request), exc
            )
            raise Reject(f"Redis unreachable: {exc}", requeue=True) from exc
        except Exception:
            fence(self.request)  # a failure commits too: its result, the job's end
            raise
        fence(self.request)
        return result


def claim_step(task: Any) -> None:
    """Take the step's idempotency key for this message copy, or end the copy without effect.

    Raises `Ignore` (nothing stored, nothing sent; the message is acked) when another copy of
    the step's message is taken right now, or when the step already reached a final state;
    `Reject(requeue=True)` when Redis stays unreachable (as `fence`).
    """
    request = task.request
    tag = (getattr(request, "properties", None) or {}).get("delivery_tag")
    if tag is None:
        return  # not a message from the broker (an eager call): nothing can duplicate it
    _, client, _ = _started()
    expires = task.app.conf.result_expires
    ttl_s = int(getattr(expires, "total_seconds", lambda: expires)() or 86400)
    key = STEP_PREFIX + request.id
    claimed = _waiting(request, lambda: client.eval(_CLAIM_STEP, 2, key, UNACKED_KEY, tag, ttl_s))
    if not claimed:
        log.warning(
            "%s[%s]: another copy of this step's message is running; dropping this copy",
            *_who(request),
        )
        raise Ignore()
    state = _waiting(request, lambda: task.app.AsyncResult(request.id).state)
    if state in FINAL_STATES:
        log.warning(
            "%s[%s]: this step already ended (%s); dropping this copy", *_who(request), state
        )
        raise Ignore()


def unreachable_errors() -> tuple[type[BaseException], ...]:
    """What a call raises when Redis cannot be reached (a restart, a network cut): redis-py's
    own errors, and `BrokerUnavailable` from the job helpers (`workers.jobs`) that wrap them."""
    import redis

    from workers.jobs import BrokerUnavailable

    return (redis.ConnectionError, redis.TimeoutError, BrokerUnavailable)


def _waiting(request: Any, call: Any) -> Any:
    """`call()`, waiting out a Redis restart for `FENCE_WAIT_TTLS` heartbeat TTLs, then handing
    the message back (`Reject(requeue=True)`): without Redis nothing can commit."""
    deadline = time.monotonic() + FENCE_WAIT_TTLS * _state["ttl"]
    while True:
        try:
            return call()
        except unreachable_errors() as exc:
            if time.monotonic() > deadline:
                log.error("%s[%s]: Redis unreachable, handing it back: %s", *_who(request), exc)
                raise Reject(f"could not confirm ownership: {exc}", requeue=True) from exc
            time.sleep(0.5)


def fence(request: Any) -> None:
    """Let the step commit only if this worker still holds its message; else end it quietly.

    Raises `Ignore` (nothing stored, nothing sent; the ack that follows is a no-op because the
    tag is no longer ours) when the message was requeued to someone else while this worker was
    unresponsive, and `Reject(requeue=True)` when Redis stays unreachable for
    `FENCE_WAIT_TTLS` heartbeat TTLs (the message goes back, or, if even that cannot reach
    Redis, the reaper requeues it once Redis is back).
    """

    tag = (getattr(request, "properties", None) or {}).get("delivery_tag")
    if tag is None:
        return  # not a message from the broker (an eager call): there is nothing to fence
    owner, client, ttl = _started()
    lease_ms = int(COMMIT_LEASE_TTLS * ttl * 1000)
    lease = COMMIT_PREFIX + str(tag)
    held = _waiting(
        request,
        lambda: client.eval(_FENCE, 3, OWNERS_KEY, UNACKED_KEY, lease, tag, owner, lease_ms),
    )
    if not held:
        log.warning(
            "%s[%s]: this worker no longer holds its message (requeued while the worker was "
            "unresponsive); dropping this run's result, the worker that holds it commits",
            *_who(request),
        )
        raise Ignore()


def holds(request: Any) -> bool:
    """Whether this worker still holds the request's message, for long tasks to ask as they go.

    False only when Redis answers that another worker holds it, or that it was requeued; an
    unreachable Redis answers True (the commit `fence` decides in the end).
    """
    tag = (getattr(request, "properties", None) or {}).get("delivery_tag")
    if tag is None:
        return True
    owner, client, _ = _started()
    try:
        pipe = client.pipeline(transaction=True)
        pipe.hget(OWNERS_KEY, tag)
        pipe.hexists(UNACKED_KEY, tag)
        holder, taken = pipe.execute()
    except unreachable_errors() as exc:
        log.warning("could not check the holder of %s, going on: %s", tag, exc)
        return True
    return holder.decode() == owner if holder is not None else bool(taken)


def settle(tag: str, *, requeue: bool) -> bool:
    """Ack (remove) or requeue one message, only if this worker holds it (or nobody does).

    Called by the transport for every ack and reject (`workers.transport`). It uses this
    module's Redis connection (and, to requeue, a fresh broker connection), never the channel
    the message came on, which a broker reconnect closes while its jobs still run. Returns
    whether anything changed: False when another worker holds the tag now, or it is gone.
    """
    owner, client, _ = _started()
    if not requeue:
        done = bool(
            client.eval(
                _ACK, 4, OWNERS_KEY, UNACKED_KEY, UNACKED_INDEX_KEY, COMMIT_PREFIX + tag, tag, owner
            )
        )
        if not done:
            log.warning("not acking %s: another worker holds it now", tag)
        return done
    with _state["app"].connection_for_write() as connection:
        return _restore(connection.default_channel, tag, holders=(owner, None))


def reap_once(app: Any, client: Any, grace_s: float) -> list[str]:
    """One reaper pass; returns the delivery tags requeued.

    Requeues every message whose owner's heartbeat expired, every message that has had no owner
    for `grace_s` (its worker died between taking it and recording the claim, a window of
    milliseconds), and every message this worker holds but runs nothing for (acking it instead
    when its step already finished).
    """
    owners = {k.decode(): v.decode() for k, v in client.hgetall(OWNERS_KEY).items()}
    held = {tag.decode() for tag in client.hkeys(UNACKED_KEY)}
    for tag, owner in list(owners.items()):
        if tag not in held:  # acked: forget it, unless someone claimed it since we looked
            client.eval(_FORGET, 1, OWNERS_KEY, tag, owner)
            del owners[tag]
    dead = _confirmed_dead(client, set(owners.values()), confirm_s=grace_s / 2)
    unowned = [
        tag.decode()
        for tag in client.zrangebyscore(UNACKED_INDEX_KEY, 0, server_time(client) - grace_s)
        if tag.decode() not in owners
    ]
    orphans = _confirmed_orphans(owners, confirm_s=grace_s / 2)
    restored: list[str] = []
    if not dead and not unowned and not orphans:
        return restored
    with app.connection_for_write() as connection:
        channel = connection.default_channel
        for tag, owner in [
            *((t, o) for t, o in owners.items() if o in dead),
            *((t, None) for t in unowned),
        ]:
            if _restore(channel, tag, holders=(owner,), dead_owner=owner):
                restored.append(tag)
                log.warning("requeued job %s of dead worker %s", tag, owner or "(unclaimed)")
        for tag in orphans:
            if _settle_orphan(app, client, channel, tag):
                restored.append(tag)
    return restored


_suspects: dict[str, float] = {}
"""Owner -> when its heartbeat was first seen missing (monotonic seconds)."""

_orphans_seen: dict[str, float] = {}
"""Delivery tag (held by this worker, run by no request here) -> when first seen so."""


def _confirmed_dead(client: Any, owners: set[str], confirm_s: float) -> set[str]:
    """Owners whose heartbeat has been missing on looks at least `confirm_s` apart.

    One missing heartbeat is not enough: a worker whose threads were starved for a moment (a
    long import holding the GIL on a loaded box) would otherwise have its running jobs handed
    to a second worker. This process never counts itself as dead: it is running this code.
    """
    now = time.monotonic()
    dead = set()
    for owner in owners:
        if owner == _state["owner"] or client.exists(ALIVE_PREFIX + owner):
            _suspects.pop(owner, None)
            continue
        first = _suspects.setdefault(owner, now)
        if now - first >= confirm_s:
            dead.add(owner)
    return dead


def _confirmed_orphans(owners: dict[str, str], confirm_s: float) -> set[str]:
    """Tags this worker holds (unacked, claimed by it) that no request here has, on looks at
    least `confirm_s` apart: two looks, because a request is briefly in neither of Celery's
    sets between its message arriving and being reserved, and between finishing and the ack."""
    me = _state["owner"]
    mine = {tag for tag, owner in owners.items() if owner == me}
    running = _running_tags()
    now = time.monotonic()
    for tag in list(_orphans_seen):
        if tag not in mine or tag in running:
            del _orphans_seen[tag]
    orphans = set()
    for tag in mine - running:
        if now - _orphans_seen.setdefault(tag, now) >= confirm_s:
            orphans.add(tag)
    return orphans


def _running_tags() -> set[str]:
    """Delivery tags of the requests this worker process has received and not yet finished."""
    from celery.worker import state as worker_state

    for _ in range(5):  # the consumer thread may add a request while we copy the weak sets
        try:
            requests = [*worker_state.active_requests, *worker_state.reserved_requests]
        except RuntimeError:
            time.sleep(0.01)
            continue
        return {tag for tag in map(_delivery_tag, requests) if tag is not None}
    raise RuntimeError("could not read this worker's running requests")


def _settle_orphan(app: Any, client: Any, channel: Any, tag: str) -> bool:
    """Ack an orphaned message whose step already ended; requeue any other. True if requeued."""
    from kombu.utils.json import loads

    payload = client.hget(UNACKED_KEY, tag)
    if payload is None:
        return False
    task_id = loads(payload)[0]["headers"]["id"]
    state = app.AsyncResult(task_id).state
    if state in FINAL_STATES:
        if settle(tag, requeue=False):
            log.warning("acked %s (%s, %s): its own ack never reached Redis", tag, task_id, state)
        return False
    if _restore(channel, tag, holders=(_state["owner"],)):
        log.warning(
            "requeued job %s (%s): this worker holds it but no longer runs it", tag, task_id
        )
        return True
    return False


def _restore(
    channel: Any, tag: str, *, holders: tuple[str | None, ...], dead_owner: str | None = None
) -> bool:
    """Put one message back on its queue, under a new delivery tag, if one of `holders` (None:
    nobody) still holds it and no other worker is committing it.

    The unacked hash, the owner map and the commit lease are WATCHed: if another reaper requeued
    the message first and a live worker took it again, the owner differs and we leave it. With
    `dead_owner`, a heartbeat of that owner appearing meanwhile also aborts the requeue. The
    new tag makes any ack or commit the previous holder still attempts a no-op (see `fence`).
    """
    from kombu.utils.json import loads

    me = _state["owner"]
    lease = COMMIT_PREFIX + tag
    restored: list[bool] = []

    def transaction(pipe: Any) -> None:
        restored.clear()
        holder = pipe.hget(OWNERS_KEY, tag)
        payload = pipe.hget(channel.unacked_key, tag)
        committing = pipe.get(lease)
        revived = dead_owner is not None and pipe.exists(ALIVE_PREFIX + dead_owner)
        pipe.multi()
        if revived or (holder.decode() if holder is not None else None) not in holders:
            return
        if committing is not None and committing.decode() != me:
            return  # its holder is between `fence` and its ack: leave it to finish
        pipe.hdel(OWNERS_KEY, tag)
        pipe.zrem(channel.unacked_index_key, tag)
        pipe.hdel(channel.unacked_key, tag)
        pipe.delete(lease)
        if payload is not None:
            message, exchange, routing_key = loads(payload)
            message["properties"]["delivery_tag"] = str(uuid.uuid4())
            # leftmost: the job goes back to the head of its queue, not behind new work
            channel._do_restore_message(message, exchange, routing_key, pipe, leftmost=True)
            restored.append(True)

    with channel.conn_or_acquire() as redis_client:
        watched = [channel.unacked_key, OWNERS_KEY, lease]
        if dead_owner is not None:
            watched.append(ALIVE_PREFIX + dead_owner)  # a heartbeat now aborts the requeue
        redis_client.transaction(transaction, *watched)
    return bool(restored)


def _started() -> tuple[str, Any, float]:
    owner, client, ttl = _state["owner"], _state["client"], _state["ttl"]
    if owner is None:
        raise RuntimeError(
            "workers.recovery is not started in this process (it starts when the worker is "
            "ready), so it cannot tell who holds a message"
        )
    return owner, client, ttl


def _who(request: Any) -> tuple[str, str]:
    return getattr(request, "task", None) or "task", getattr(request, "id", None) or "?"


def _delivery_tag(request: Any) -> str | None:
    message = getattr(request, "message", None)
    tag = getattr(message, "delivery_tag", None)
    return str(tag) if tag is not None else None


def _beat(client: Any, owner: str, ttl_s: float) -> None:
    client.set(ALIVE_PREFIX + owner, "1", px=int(ttl_s * 1000))


def _heartbeat_loop(client: Any, owner: str, ttl_s: float, stop: threading.Event) -> None:
    while not stop.wait(ttl_s / 3):
        try:
            _beat(client, owner, ttl_s)
        except Exception as exc:  # Redis restarting: keep trying, the TTL decides
            log.warning("heartbeat failed: %s", exc)


def _reaper_loop(app: Any, client: Any, ttl_s: float, stop: threading.Event) -> None:
    while not stop.wait(max(1.0, ttl_s / 2)):
        try:
            reap_once(app, client, grace_s=2 * ttl_s)
            check_once(app, client, grace_s=2 * ttl_s)
        except Exception as exc:
            log.warning("reaper pass failed: %s", exc)
