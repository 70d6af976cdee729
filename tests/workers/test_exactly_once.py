"""Exactly once: a second copy of a step's message, and kombu's own visibility sweep.

Against a real redis-server. Two windows of `workers.recovery` and `workers.transport`:

- kombu's Redis transport requeues, about every 100 s, every message unacked past its
  visibility timeout, under its old delivery tag and around the owner map: the worker that
  still runs it could then ack or commit the new delivery's entry. The sweep is off, the take
  records its holder in the same Redis step, and the fence and the ack check the tag is held.
- a step's message sent twice (Celery publishes the next step before it stores the current
  one, so a step rerun after a kill in between publishes it twice; the watchdog can resend a
  step that was only slow): the step's idempotency key lets one copy run, the other is dropped.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from types import SimpleNamespace
from typing import Any

import pytest
from celery.exceptions import Ignore
from harness import wait_for
from kombu.transport import redis as kombu_redis

from workers import jobs, recovery
from workers.chain import JOB_PREFIX, job_steps, query_task_ids, step_chain
from workers.transport import SettlingQoS

pytestmark = [pytest.mark.integration]

TTL_S = 3.0


def _as_worker(monkeypatch: pytest.MonkeyPatch, app: Any, client: Any, owner: str) -> None:
    """This process plays worker `owner` (its recovery state; it runs no requests)."""
    state = {"owner": owner, "stop": None, "client": client, "app": app, "ttl": TTL_S}
    monkeypatch.setattr(recovery, "_state", state)
    monkeypatch.setattr(recovery, "_running_tags", lambda: set())


def _send_train(app: Any, job_id: str) -> None:
    app.send_task(
        "wm.train", args=({"job_id": job_id, "kind": "train"},), task_id=job_id, queue="train"
    )


def test_kombus_visibility_sweep_leaves_a_message_its_worker_holds_alone(cluster, monkeypatch):
    app, redis = cluster.app, cluster.redis.client()
    monkeypatch.setattr(kombu_redis.Channel, "QoS", SettlingQoS)  # as in every worker
    _as_worker(monkeypatch, app, redis, "a/1/aaaa")
    _send_train(app, "j1")
    with app.connection_for_write() as connection:
        channel = connection.default_channel
        message = channel.basic_get("train")
        tag = str(message.delivery_tag)
        assert redis.hget(recovery.OWNERS_KEY, tag) == b"a/1/aaaa"  # recorded with the take
        time.sleep(0.05)
        monkeypatch.setattr(channel, "visibility_timeout", 0)  # the job ran past it
        channel.qos.restore_visible(num=10, interval=1)
    assert redis.llen("train") == 0 and redis.hexists("unacked", tag)


def test_the_old_holders_fence_and_ack_leave_a_message_taken_again_under_its_tag(
    cluster, monkeypatch
):
    # A message requeued under its old tag (kombu's restore, by a worker of another version
    # or a hand-run sweep) and taken again by worker b: a, which still runs it, must neither
    # commit nor ack b's delivery.
    app, redis = cluster.app, cluster.redis.client()
    monkeypatch.setattr(kombu_redis.Channel, "QoS", SettlingQoS)
    _as_worker(monkeypatch, app, redis, "a/1/aaaa")
    _send_train(app, "j2")
    with app.connection_for_write() as connection:
        channel = connection.default_channel
        tag = str(channel.basic_get("train").delivery_tag)
        kombu_redis.QoS.restore_by_tag(channel.qos, tag)  # back on the queue, same tag
        request = SimpleNamespace(properties={"delivery_tag": tag}, task="wm.train", id="j2")
        with pytest.raises(Ignore):  # queued again, not taken: not a's to commit
            recovery.fence(request)
        _as_worker(monkeypatch, app, redis, "b/1/bbbb")
        assert str(channel.basic_get("train").delivery_tag) == tag
    _as_worker(monkeypatch, app, redis, "a/1/aaaa")
    assert recovery.settle(tag, requeue=False) is False
    assert redis.hexists("unacked", tag) and redis.hget(recovery.OWNERS_KEY, tag) == b"b/1/bbbb"


def _successes(cluster: Any) -> Counter:
    return Counter((s["task"], s["id"]) for s in cluster.successes() if s["event"] == "success")


def _send_from_sandbox_step(app: Any, redis: Any, job_id: str) -> None:
    """Send the job's sandbox and compose steps again, as a rerun generate step or the
    watchdog would: the same task ids, the generate step's stored result as input."""
    job = json.loads(redis.get(JOB_PREFIX + job_id))
    previous = app.AsyncResult(query_task_ids(job_id)["generate"]).result
    step_chain(app, job, job_steps(job)[1:], previous).apply_async()


@pytest.mark.slow
def test_a_second_copy_of_a_step_runs_nothing_whether_the_first_runs_or_ended(cluster):
    cluster.start_pair("a", sandbox=("--pool-size", "2"))
    app, redis = cluster.app, cluster.redis.client()
    job_id = jobs.submit_query(app, "What is 6 + 7, slowly?")  # a 1.5-s sandbox step
    ids = query_task_ids(job_id)
    wait_for(
        lambda: (
            app.AsyncResult(ids["sandbox"]).state == "STARTED"
            or any(s["id"] == ids["sandbox"] for s in cluster.successes())
        ),
        30,
        "the sandbox step to start",
    )
    _send_from_sandbox_step(app, redis, job_id)  # while the first copy runs
    assert jobs.result(app, job_id, wait=True, timeout_s=60)["final"] == "13"
    _send_from_sandbox_step(app, redis, job_id)  # after the job ended
    sandbox_log = cluster.workers[1].log
    wait_for(
        lambda: "this step already ended" in sandbox_log.read_text(), 30, "the late copy to go"
    )
    time.sleep(1.0)  # a compose copy, had the sandbox copy run, would be done by now
    counted = _successes(cluster)
    assert [counted[("wm." + step, task_id)] for step, task_id in ids.items()] == [1, 1, 1]
    assert "another copy of this step's message is running" in sandbox_log.read_text()
    assert redis.hlen("unacked") == 0
