"""How a worker settles a message it took: through `workers.recovery`, never the message's channel.

kombu's Redis transport acks a message by removing it from the `unacked` hash over the channel
the message arrived on, and restores every unacked message of a channel when that channel
closes. Both go wrong when a Redis restart breaks a worker's broker connection while a job runs
(seen with kombu 5.7 and Celery 5.7; `tests/workers/test_faults.py` reproduces it):

- Celery's reconnect first detaches the transport from the broken connection (`collect`), then
  closes the channel; the close tries to restore the running job's message and, the channel's
  connection details being gone by then, raises AttributeError, which stops the whole worker;
- had that restore worked, the job would be queued again while it still runs here (a thread
  pool cannot cancel a job), and it would run twice;
- the job's ack, sent when it ends, goes to that dead channel and raises the same
  AttributeError in the worker's event loop, which stops the worker too.

kombu also sweeps, about every 100 s, for messages unacked past the visibility timeout and
requeues them under their old delivery tag; `SettlingQoS` turns that sweep off (the reaper
requeues what a dead worker held, under a new tag), and records who holds a message in the
same Redis step that takes it, so no window is left where a message is taken and unowned.

`SettlingQoS` replaces all of these behaviours. A closing channel restores nothing: a message
whose job still runs here is acked when the job ends, one that nothing here runs any more is
requeued by the reaper (`workers.recovery`). And every ack and reject goes to
`recovery.settle`, which uses a connection of its own (it survives the consumer's reconnect)
and acts only while this worker holds the message. It also stamps each message it takes with
Redis's time, not this worker's, since the reaper of another worker compares that stamp with
the time (`workers.clock`).
`install` sets it as kombu's Redis channel QoS class in a worker process
(`worker_init`); clients never take messages, so they keep kombu's. It is installed rather
than configured as a `broker_transport` class because kombu would then describe the broker as
`workers.transport:...://host`, a URL Flower's queue view cannot read.
"""

from __future__ import annotations

from typing import Any

from kombu.transport import redis as kombu_redis
from kombu.transport import virtual
from kombu.utils.json import dumps

from workers import recovery

_TAKE = """
-- KEYS: unacked index, unacked, owners; ARGV: tag, payload, owner ('' before the worker is
-- ready). The take is stamped with Redis's clock, and its holder recorded in the same step.
local now = redis.call('TIME')
redis.call('ZADD', KEYS[1], now[1] + now[2] / 1000000, ARGV[1])
redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
if ARGV[3] ~= '' then redis.call('HSET', KEYS[3], ARGV[1], ARGV[3]) end
return 1
"""


class SettlingQoS(kombu_redis.QoS):
    """kombu's Redis QoS, with acks and rejects made by `recovery.settle`, no restore when
    the channel closes, and a taken message stamped with Redis's time rather than this
    worker's. Prefetch accounting (which messages this channel has out) is kombu's."""

    restore_at_shutdown = False

    def restore_visible(self, start: int = 0, num: int = 10, interval: int = 10) -> None:
        """Never: the reaper (`workers.recovery`) requeues what a dead worker held.

        kombu's sweep would requeue every message unacked past the visibility timeout, a live
        worker's long job included, under its old delivery tag and around the owner map, the
        heartbeats and the commit lease: the old holder's ack or commit could then settle the
        new delivery's entry, and the job would be stuck or run twice."""

    def append(self, message: Any, delivery_tag: Any) -> None:
        # kombu stamps the take (the unacked index score) with this worker's clock; the reaper
        # of another worker compares it with its own, so one wrong clock would requeue a job
        # just taken, before its claim (`workers.clock`).
        delivery = message.delivery_info
        payload = dumps([message._raw, delivery["exchange"], delivery["routing_key"]])
        channel: Any = self.channel  # conn_or_acquire: kombu's, not in its type stubs
        owner = recovery.owner_id() or ""
        with channel.conn_or_acquire() as client:
            client.eval(
                _TAKE,
                3,
                self.unacked_index_key,
                self.unacked_key,
                recovery.OWNERS_KEY,
                delivery_tag,
                payload,
                owner,
            )
        virtual.QoS.append(self, message, delivery_tag)

    def ack(self, delivery_tag: Any) -> None:
        try:
            recovery.settle(str(delivery_tag), requeue=False)
        finally:
            # This channel no longer counts the message against its prefetch, even when Redis
            # was unreachable: the reaper settles what the ack could not.
            virtual.QoS.ack(self, delivery_tag)

    def reject(self, delivery_tag: Any, requeue: bool = False) -> None:
        try:
            recovery.settle(str(delivery_tag), requeue=requeue)
        finally:
            virtual.QoS.ack(self, delivery_tag)


# What this module and workers.recovery use of kombu's Redis transport beyond its public API.
_KOMBU_INTERNALS = {
    kombu_redis.Channel: (
        "QoS",
        "_do_restore_message",
        "conn_or_acquire",
        "unacked_key",
        "unacked_index_key",
    ),
    kombu_redis.QoS: ("ack", "append", "reject", "restore_at_shutdown", "restore_visible"),
}


def install() -> None:
    """Make this process's kombu Redis channels settle messages through `workers.recovery`.

    Refuses to start (RuntimeError naming what is missing) on a kombu whose Redis transport
    lacks what the settling relies on, rather than losing acks silently."""
    missing = [
        f"{owner.__name__}.{name}"
        for owner, names in _KOMBU_INTERNALS.items()
        for name in names
        if not hasattr(owner, name)
    ]
    if missing:
        from importlib.metadata import version

        raise RuntimeError(
            f"kombu {version('kombu')} lacks {', '.join(missing)}, which workers/transport.py "
            "needs; install the kombu version pyproject.toml names"
        )
    kombu_redis.Channel.QoS = SettlingQoS
