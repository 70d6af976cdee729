"""Getting a dead worker's jobs back to the queue in seconds, not after the visibility timeout.

With Redis as the broker, a message a worker has taken but not acked sits in kombu's `unacked`
hash. kombu gives it to another worker only once `visibility_timeout` has passed, and that
timeout must be longer than the longest job (hours, for training), so on its own a worker killed
with `kill -9` would hold its jobs for hours. This module closes that gap:

- every worker process keeps a heartbeat key `wm:alive:<owner>` alive with a short TTL;
- when a worker receives a message it records `delivery_tag -> owner` in `wm:owners`;
- a reaper thread in every worker looks for owners whose heartbeat has stayed expired (two
  looks half a grace period apart; never itself) and puts their messages back on their queues,
  in one WATCHed transaction that also checks the owner is still the dead one and its
  heartbeat still absent (so two reapers never requeue one message twice). The message is
  marked redelivered, so a step that had in fact finished is deduplicated by
  `worker_deduplicate_successful_tasks`.

The owner is `<hostname>/<pid>/<random>`, so a worker restarted under the same name is a new
owner and its predecessor's jobs are still recovered. A message taken in the instant before its
owner entry is written is requeued once it has been unowned for two heartbeat TTLs. Owner
entries are removed by the reaper once their message is acked (not when the task ends: between
the end and the ack the message would look unowned). This module does not decide what a task
does when rerun (tasks are idempotent by id; see `workers.tasks`).
"""

from __future__ import annotations

import logging
import os
import secrets
import threading
import time
from typing import Any

from workers.watchdog import check_once

log = logging.getLogger(__name__)

OWNERS_KEY = "wm:owners"
_FORGET = """
if redis.call('HGET', KEYS[1], ARGV[1]) == ARGV[2] then
  return redis.call('HDEL', KEYS[1], ARGV[1])
end
return 0
"""
ALIVE_PREFIX = "wm:alive:"

_state: dict[str, Any] = {"owner": None, "stop": None, "client": None, "app": None}


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
    _state.update(owner=owner, stop=stop, client=client, app=app)
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
    except Exception as exc:  # the visibility timeout still covers this message
        log.warning("could not record owner of %s: %s", tag, exc)


def reap_once(app: Any, client: Any, grace_s: float) -> list[str]:
    """Requeue every message whose owner's heartbeat expired, and every message that has had
    no owner for `grace_s` (its worker died between taking it and recording the claim, a
    window of milliseconds). Returns the delivery tags requeued."""
    owners = {k.decode(): v.decode() for k, v in client.hgetall(OWNERS_KEY).items()}
    held = {tag.decode() for tag in client.hkeys("unacked")}
    for tag, owner in list(owners.items()):
        if tag not in held:  # acked: forget it, unless someone claimed it since we looked
            client.eval(_FORGET, 1, OWNERS_KEY, tag, owner)
            del owners[tag]
    dead = _confirmed_dead(client, set(owners.values()), confirm_s=grace_s / 2)
    unowned = [
        tag.decode()
        for tag in client.zrangebyscore("unacked_index", 0, time.time() - grace_s)
        if tag.decode() not in owners
    ]
    restored: list[str] = []
    if not dead and not unowned:
        return restored
    with app.connection_for_write() as connection:
        channel = connection.default_channel
        for tag, owner in [
            *((t, o) for t, o in owners.items() if o in dead),
            *((t, None) for t in unowned),
        ]:
            if _restore(channel, tag, owner):
                restored.append(tag)
                log.warning("requeued job %s of dead worker %s", tag, owner or "(unclaimed)")
    return restored


_suspects: dict[str, float] = {}
"""Owner -> when its heartbeat was first seen missing (monotonic seconds)."""


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


def _restore(channel: Any, tag: str, dead_owner: str | None) -> bool:
    """Put one message back on its queue if `dead_owner` (None: nobody) still holds it.

    Both the unacked hash and the owner map are WATCHed: if another reaper requeued the message
    first and a live worker took it again (same delivery tag), the owner differs and we leave it.
    """
    from kombu.utils.json import loads

    restored: list[bool] = []

    def transaction(pipe: Any) -> None:
        restored.clear()
        holder = pipe.hget(OWNERS_KEY, tag)
        payload = pipe.hget(channel.unacked_key, tag)
        revived = dead_owner is not None and pipe.exists(ALIVE_PREFIX + dead_owner)
        pipe.multi()
        if revived or (holder.decode() if holder is not None else None) != dead_owner:
            return
        pipe.hdel(OWNERS_KEY, tag)
        pipe.zrem(channel.unacked_index_key, tag)
        pipe.hdel(channel.unacked_key, tag)
        if payload is not None:
            message, exchange, routing_key = loads(payload)
            # leftmost: the job goes back to the head of its queue, not behind new work
            channel._do_restore_message(message, exchange, routing_key, pipe, leftmost=True)
            restored.append(True)

    with channel.conn_or_acquire() as redis_client:
        watched = [channel.unacked_key, OWNERS_KEY]
        if dead_owner is not None:
            watched.append(ALIVE_PREFIX + dead_owner)  # a heartbeat now aborts the requeue
        redis_client.transaction(transaction, *watched)
    return bool(restored)


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
