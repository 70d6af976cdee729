"""The watchdog against a real redis-server, with no worker running: lost steps are written
straight into Redis (an accepted job's record, nothing in any queue) and the watchdog's passes
are run from the test, so that what it sends can be counted in the queues themselves.
"""

from __future__ import annotations

import json
import re
import threading
import time
import uuid
from collections import Counter
from typing import Any

import pytest

from workers import watchdog
from workers.chain import ACTIVE_KEY, JOB_PREFIX

pytestmark = [pytest.mark.integration]

_ID = re.compile(rb'"id": ?"([^"]+)"')


def _lose_training_jobs(redis: Any, count: int) -> list[str]:
    """`count` accepted training jobs whose only message was lost in transit."""
    ids = [uuid.uuid4().hex for _ in range(count)]
    for job_id in ids:
        job = {"job_id": job_id, "kind": "train", "data": "d", "base": "b", "config": {}}
        redis.set(JOB_PREFIX + job_id, json.dumps(job))
        redis.sadd(ACTIVE_KEY, job_id)
    return ids


def _sent(redis: Any) -> Counter[str]:
    """Task id -> how many messages for it wait on the train queue."""
    return Counter(m.decode() for item in redis.lrange("train", 0, -1) for m in _ID.findall(item))


def _slow_sends(monkeypatch: pytest.MonkeyPatch, delay_s: float) -> None:
    """Each resend takes `delay_s` (a busy Redis, a large message), then publishes for real."""
    real = watchdog.step_chain

    def slow_chain(*args: Any, **kwargs: Any) -> Any:
        chain = real(*args, **kwargs)
        send = chain.apply_async

        def apply_async(*a: Any, **k: Any) -> Any:
            time.sleep(delay_s)
            return send(*a, **k)

        chain.apply_async = apply_async
        return chain

    monkeypatch.setattr(watchdog, "step_chain", slow_chain)


def test_a_pass_longer_than_the_grace_period_is_not_overlapped_by_a_second_one(
    cluster, monkeypatch
):
    redis = cluster.redis.client()
    ids = _lose_training_jobs(redis, 40)
    assert watchdog.check_once(cluster.app, redis, grace_s=1.0) == []  # first look
    time.sleep(1.1)
    # 40 resends of 0.1 s: the pass runs 4 s, four times the grace period the lock used to last.
    _slow_sends(monkeypatch, 0.1)
    resent: list[list[str]] = []

    def one_pass() -> None:
        resent.append(watchdog.check_once(cluster.app, cluster.redis.client(), grace_s=1.0))

    first = threading.Thread(target=one_pass)
    first.start()
    time.sleep(1.5)
    second = threading.Thread(target=one_pass)  # another worker's reaper, its turn come round
    second.start()
    first.join()
    second.join()
    assert _sent(redis) == Counter(ids), "each lost job must be sent again exactly once"
    assert sorted(task_id for found in resent for task_id in found) == sorted(ids)
    assert not redis.exists(watchdog.LOCK_KEY)  # released at the end of the pass


def test_a_pass_resends_a_bounded_number_and_the_next_pass_goes_on_from_there(cluster):
    redis = cluster.redis.client()
    ids = _lose_training_jobs(redis, 30)

    def one_pass() -> list[str]:
        return watchdog.check_once(cluster.app, redis, grace_s=2.0, max_examined=10, max_resent=4)

    # First looks, at most 10 jobs a pass: three passes to have seen every job once.
    assert [one_pass(), one_pass(), one_pass()] == [[], [], []]
    assert redis.hlen(watchdog.MISSING_KEY) == 30
    time.sleep(2.1)
    sent = []
    for _ in range(8):  # 30 lost jobs at 4 a pass
        found = one_pass()
        assert len(found) <= 4
        sent.extend(found)
    assert sorted(sent) == sorted(ids)
    assert _sent(redis) == Counter(ids)
