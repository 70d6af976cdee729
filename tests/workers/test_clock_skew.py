"""Workers whose clocks disagree: every time the reaper and the watchdog compare is Redis's.

One worker's clock is set off by ten heartbeat TTLs (time.time monkeypatched in this process,
for the one worker the test plays), against a real redis-server; the other worker's clock is
right. A message taken and not yet claimed, or a step seen missing once, must still get its
full grace period, whichever of the two clocks is wrong.
"""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from kombu.transport import redis as kombu_redis

from workers import recovery, watchdog
from workers.chain import ACTIVE_KEY, JOB_PREFIX
from workers.transport import SettlingQoS

pytestmark = [pytest.mark.integration]

TTL_S = 3.0
SKEW_S = 10 * TTL_S
REAL_TIME = time.time


def _off_clock(monkeypatch: pytest.MonkeyPatch, target: Any, offset_s: float) -> None:
    monkeypatch.setattr(target, "time", lambda: REAL_TIME() + offset_s)


def _as_worker_b(monkeypatch: pytest.MonkeyPatch, app: Any, client: Any) -> None:
    """This process plays the reaper of worker B (which holds nothing)."""
    state = {"owner": "b/1/bbbb", "stop": None, "client": client, "app": app, "ttl": TTL_S}
    monkeypatch.setattr(recovery, "_state", state)
    monkeypatch.setattr(recovery, "_running_tags", lambda: set())


def _take(app: Any, queue: str) -> str:
    """Take one message as worker A's consumer does (BRPOP, then unacked); no claim yet."""
    with app.connection_for_write() as connection:
        message = connection.default_channel.basic_get(queue)
        assert message is not None
        return str(message.delivery_tag)


@pytest.mark.parametrize("wrong", ["taker", "reaper"])
def test_a_wrong_clock_does_not_requeue_a_message_before_its_first_claim(
    cluster, monkeypatch, wrong
):
    app = cluster.app
    redis = cluster.redis.client()
    monkeypatch.setattr(kombu_redis.Channel, "QoS", SettlingQoS)  # as in every worker
    _as_worker_b(monkeypatch, app, redis)
    app.send_task(
        "wm.train", args=({"job_id": "j1", "kind": "train"},), task_id="j1", queue="train"
    )
    if wrong == "taker":  # worker A's clock is behind: kombu stamps the take with it
        _off_clock(monkeypatch, kombu_redis, -SKEW_S)
        tag = _take(app, "train")
        monkeypatch.setattr(kombu_redis, "time", REAL_TIME)
    else:  # worker B's clock is ahead: its reaper thinks the take is old
        tag = _take(app, "train")
        _off_clock(monkeypatch, time, SKEW_S)
    # Milliseconds after the take, before worker A's claim: not B's to requeue.
    assert recovery.reap_once(app, redis, grace_s=2 * TTL_S) == []
    assert redis.hexists("unacked", tag) and redis.llen("train") == 0
    # A's claim lands, A is alive: still not requeued.
    redis.hset(recovery.OWNERS_KEY, tag, "a/1/aaaa")
    redis.set(recovery.ALIVE_PREFIX + "a/1/aaaa", "1", px=int(TTL_S * 1000))
    assert recovery.reap_once(app, redis, grace_s=2 * TTL_S) == []
    assert redis.hexists("unacked", tag)


def test_a_message_never_claimed_is_still_requeued_after_its_grace_in_redis_time(
    cluster, monkeypatch
):
    app = cluster.app
    redis = cluster.redis.client()
    monkeypatch.setattr(kombu_redis.Channel, "QoS", SettlingQoS)
    _as_worker_b(monkeypatch, app, redis)
    app.send_task(
        "wm.train", args=({"job_id": "j2", "kind": "train"},), task_id="j2", queue="train"
    )
    _off_clock(monkeypatch, kombu_redis, SKEW_S)  # the taker's clock is ahead, this time
    tag = _take(app, "train")
    assert recovery.reap_once(app, redis, grace_s=1.0) == []
    time.sleep(1.2)
    [requeued] = recovery.reap_once(app, redis, grace_s=1.0)
    assert requeued == tag and redis.llen("train") == 1


@pytest.mark.parametrize("behind", ["first look", "second look"])
def test_a_wrong_clock_does_not_cut_the_watchdogs_grace_period(cluster, monkeypatch, behind):
    app = cluster.app
    redis = cluster.redis.client()
    job = {"job_id": "t1", "kind": "train", "data": "d", "base": "b", "config": {}}
    redis.set(JOB_PREFIX + "t1", json.dumps(job))
    redis.sadd(ACTIVE_KEY, "t1")
    # One worker's watchdog takes the first look, another's the second, at once.
    offsets = (-SKEW_S, 0.0) if behind == "first look" else (0.0, SKEW_S)
    for offset in offsets:
        _off_clock(monkeypatch, time, offset)
        assert watchdog.check_once(app, redis, grace_s=2 * TTL_S) == []
    assert redis.llen("train") == 0
