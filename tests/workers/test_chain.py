"""The chain a job is sent as, and the part of it the watchdog sends again (no Redis needed)."""

from __future__ import annotations

import pytest
from celery import Celery

from workers.chain import job_steps, step_chain


def _sent(chain) -> list[tuple[str, tuple, dict]]:
    return [(sig.task, tuple(sig.args), dict(sig.options)) for sig in chain.tasks]


def test_a_batch_query_is_three_steps_routed_by_class_with_ids_from_the_job() -> None:
    app = Celery("test-chain", set_as_current=False)
    job = {"job_id": "j1", "kind": "query", "job_class": "batch"}
    assert _sent(step_chain(app, job, job_steps(job))) == [
        (
            "wm.generate",
            (job,),
            {"task_id": "j1.generate", "queue": "generate-batch", "priority": 6},
        ),
        ("wm.sandbox", (), {"task_id": "j1.sandbox", "queue": "sandbox", "priority": 6}),
        ("wm.compose", (), {"task_id": "j1", "queue": "generate-batch", "priority": 6}),
    ]


def test_the_resent_rest_of_a_chain_matches_the_first_send_and_starts_from_the_stored_result():
    app = Celery("test-chain", set_as_current=False)
    job = {"job_id": "j2", "kind": "query", "job_class": "interactive"}
    steps = job_steps(job)
    first = _sent(step_chain(app, job, steps))
    resent = _sent(step_chain(app, job, steps[1:], previous={"response": "r"}))
    assert resent[0] == (first[1][0], ({"response": "r"},), first[1][2])
    assert resent[1:] == first[2:]


def test_a_training_job_is_one_step_on_the_train_queue() -> None:
    job = {"job_id": "t1", "kind": "train"}
    assert job_steps(job) == [("train", "t1", {"queue": "train"})]


def test_an_unknown_job_class_is_refused_before_anything_is_sent() -> None:
    with pytest.raises(ValueError, match="unknown job class"):
        job_steps({"job_id": "j3", "kind": "query", "job_class": "urgent"})
