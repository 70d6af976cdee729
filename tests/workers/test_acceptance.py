"""What `wm submit-*` tells the user is the truth: a job said NOT to be accepted never runs.

The publish is broken at the one moment that matters, between the job's record being written
and its message being sent, against a real redis-server: the send fails after its message got
through (the reply lost), or it fails and Redis goes away before the client can withdraw the
job. Whether anything runs is seen in the queues, through the watchdog and a real worker.
"""

from __future__ import annotations

import time
from typing import Any

import pytest
import redis as redis_py
from harness import wait_for

from workers import jobs, watchdog
from workers.chain import ACTIVE_KEY

pytestmark = [pytest.mark.integration]


def _break_send(
    monkeypatch: pytest.MonkeyPatch, app: Any, before: Any, *, deliver: bool
) -> list[str]:
    """The next send runs `before`, delivers its message if `deliver`, then fails; returns the
    list the task ids it was asked to send go to."""
    real = app.send_task
    asked: list[str] = []

    def send_task(*args: Any, **kwargs: Any) -> Any:
        asked.append(kwargs["task_id"])
        before()
        if deliver:
            real(*args, **kwargs)
        raise redis_py.ConnectionError("connection reset by peer")

    monkeypatch.setattr(app, "send_task", send_task)
    return asked


def test_a_job_that_could_not_be_withdrawn_is_never_sent_by_the_watchdog(cluster, monkeypatch):
    app = cluster.app
    # The send fails, and Redis is gone when the client tries to withdraw the job.
    _break_send(monkeypatch, app, cluster.redis.stop, deliver=False)
    with pytest.raises(jobs.BrokerUnavailable) as refused:
        jobs.submit_train(app, data="data/train.jsonl", base="bundled")
    monkeypatch.undo()
    cluster.redis.start()
    redis = cluster.redis.client()
    message = str(refused.value)
    # Whatever the client said, the watchdog's looks a grace period apart send nothing.
    assert watchdog.check_once(app, redis, grace_s=0.2) == []
    time.sleep(0.3)
    assert watchdog.check_once(app, redis, grace_s=0.2) == []
    assert redis.llen("train") == 0
    assert redis.scard(ACTIVE_KEY) == 0
    # And it said that it could not tell for sure, naming the job to look at.
    assert "could not be withdrawn" in message and "wm cancel" in message, message


def test_a_job_said_not_accepted_whose_message_got_through_does_not_run(cluster, monkeypatch):
    cluster.start_pair()
    app = cluster.app
    # The message reached Redis, but the send reported a failure (its reply was lost).
    asked = _break_send(monkeypatch, app, lambda: None, deliver=True)
    with pytest.raises(jobs.BrokerUnavailable, match="NOT accepted"):
        jobs.submit_query(app, "What is 6 * 7?")
    monkeypatch.undo()
    (generate_id,) = asked
    job_id = generate_id.removesuffix(".generate")
    wait_for(
        lambda: app.AsyncResult(generate_id).state not in ("PENDING", "STARTED"),
        60,
        "the generation worker to take the message that got through",
    )
    assert app.AsyncResult(generate_id).state == "REVOKED"
    time.sleep(2)
    assert app.AsyncResult(job_id).state == "PENDING"  # no answer was ever composed
    assert not [line for line in cluster.generations() if line["event"] == "start"]
