"""Faults: workers killed with kill -9 mid-job, Redis restarted with jobs queued.

Every accepted job must still finish, and each step must have succeeded exactly once (counted
through the `sidechannel` hook and the scripted completer's log, outside the code under test).
"""

from __future__ import annotations

from collections import Counter

import pytest
from harness import wait_for
from scripted_completer import response_for

from workers import jobs

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def _assert_each_step_succeeded_once(cluster, ids: list[str]) -> None:
    done = Counter(
        (line["task"], line["id"]) for line in cluster.successes() if line["event"] == "success"
    )
    for job_id in ids:
        for task, task_id in zip(
            ("wm.generate", "wm.sandbox", "wm.compose"),
            jobs.query_task_ids(job_id).values(),
            strict=True,
        ):
            assert done[(task, task_id)] == 1, (task, task_id, done[(task, task_id)])


def test_kill9_generation_and_sandbox_workers_mid_job_loses_nothing(cluster):
    # Slow generation (0.8 s a batch) and slow code ("slowly": 1.5 s) so the kills land mid-job.
    gpu_a, sandbox_a = cluster.start_pair(
        "a", sandbox=("--pool-size", "2"), WM_TEST_DELAY_S="0.8", WM_BATCH_SIZE="2"
    )
    app = cluster.app
    questions = [f"What is {n} + 7, slowly?" for n in range(8)]
    ids = [jobs.submit_query(app, q) for q in questions]

    wait_for(
        lambda: any(g["event"] == "start" and g["pid"] == gpu_a.pid for g in cluster.generations()),
        30,
        "generation to start on worker a",
    )
    gpu_a.kill9()
    gpu_b = cluster.start_worker("gpu", box="b", WM_TEST_DELAY_S="0.8", WM_BATCH_SIZE="2")

    def sandbox_started() -> bool:
        return any(
            s["event"] == "start" and s["task"] == "wm.sandbox" and s["pid"] == sandbox_a.pid
            for s in cluster.successes()
        )

    wait_for(sandbox_started, 60, "a sandbox step to start on sandbox@a")
    sandbox_a.kill9()
    cluster.start_worker("sandbox", "--pool-size", "2", box="b")

    answers = [jobs.result(app, j, wait=True, timeout_s=120) for j in ids]
    for question, answer in zip(questions, answers, strict=True):
        assert answer["final"] == response_for(question)[1]
        assert answer["verification"]["status"] == "verified"
    _assert_each_step_succeeded_once(cluster, ids)
    # The kills really interrupted work: a batch started on a never finished, and a sandbox
    # step started on sandbox@a never succeeded there.
    gens = cluster.generations()

    def asked(event: str, pid: int) -> set[str]:
        return {q for g in gens if g["event"] == event and g["pid"] == pid for q in g["questions"]}

    assert asked("start", gpu_a.pid) - asked("done", gpu_a.pid), "gpu a was not killed mid-batch"
    started_a = {
        s["id"] for s in cluster.successes() if s["event"] == "start" and s["pid"] == sandbox_a.pid
    }
    finished_a = {
        s["id"]
        for s in cluster.successes()
        if s["event"] == "success" and s["pid"] == sandbox_a.pid
    }
    assert started_a - finished_a, "sandbox@a was not killed mid-job"
    # Every question's generation completed exactly once overall.
    completed = Counter(q for g in gens if g["event"] == "done" for q in g["questions"])
    assert all(completed[q] == 1 for q in questions), completed
    assert any(a["workers"]["generate"] == gpu_b.name for a in answers)


def test_redis_restart_with_jobs_queued_loses_none(cluster):
    gpu, _ = cluster.start_pair("a")
    app = cluster.app
    warm = jobs.submit_query(app, "What is 1 + 1?")
    assert jobs.result(app, warm, wait=True, timeout_s=60)["final"] == "2"
    # Take the sandbox worker away so the next jobs wait in Redis between their steps.
    cluster.workers[1].stop()
    ids = [jobs.submit_query(app, f"What is {n} * 5?") for n in range(10)]
    wait_for(
        lambda: all(
            app.AsyncResult(jobs.query_task_ids(j)["generate"]).state == "SUCCESS" for j in ids
        ),
        60,
        "every generation step to finish",
    )
    assert cluster.redis.client().llen("sandbox") == 10

    cluster.redis.restart()  # clean stop (append-only file flushed) and start

    assert cluster.redis.client().llen("sandbox") == 10
    cluster.start_worker("sandbox", box="a")
    answers = [jobs.result(app, j, wait=True, timeout_s=120) for j in ids]
    assert [a["final"] for a in answers] == [str(n * 5) for n in range(10)]
    # The generation worker lived through the restart and reconnected.
    later = jobs.submit_query(app, "What is 2 + 2?")
    assert jobs.result(app, later, wait=True, timeout_s=60)["final"] == "4"
    assert gpu.proc.poll() is None
    _assert_each_step_succeeded_once(cluster, [warm, *ids, later])


def test_a_message_lost_between_brpop_and_unacked_is_sent_again(cluster):
    # kombu takes a message with BRPOP and records it as unacked in a second round trip; a
    # worker killed in between loses it. Reproduce exactly that state: pop the message.
    cluster.start_worker("gpu", box="a")
    app = cluster.app
    job_id = jobs.submit_query(app, "What is 6 * 7?")
    wait_for(
        lambda: app.AsyncResult(jobs.query_task_ids(job_id)["generate"]).state == "SUCCESS",
        60,
        "the generation step",
    )
    redis = cluster.redis.client()
    assert redis.rpop("sandbox") is not None  # the sandbox step's message, now gone
    assert redis.llen("sandbox") == 0 and redis.hlen("unacked") == 0
    cluster.start_worker("sandbox", box="a")
    answer = jobs.result(app, job_id, wait=True, timeout_s=60)
    assert answer["final"] == "42"
    _assert_each_step_succeeded_once(cluster, [job_id])
    logs = "".join(w.log.read_text() for w in cluster.workers)
    assert "step sandbox was lost in transit; sent it again" in logs


def test_a_stopping_worker_finishes_its_running_query(cluster):
    # Warm shutdown (SIGTERM, as systemd sends): the running generation completes, then the
    # worker exits; the rest of the chain runs elsewhere. Nothing is lost or run twice.
    gpu_a = cluster.start_worker("gpu", box="a", WM_TEST_DELAY_S="3")
    cluster.start_worker("sandbox", box="a")
    app = cluster.app
    job_id = jobs.submit_query(app, "What is 3 * 3?")
    wait_for(
        lambda: any(g["event"] == "start" and g["pid"] == gpu_a.pid for g in cluster.generations()),
        30,
        "generation to start on worker a",
    )
    gpu_a.stop(timeout_s=30)
    assert gpu_a.proc.returncode == 0
    cluster.start_worker("gpu", box="b", WM_TEST_DELAY_S="0")
    answer = jobs.result(app, job_id, wait=True, timeout_s=60)
    assert answer["final"] == "9" and answer["workers"]["generate"] == "cpu@a"
    _assert_each_step_succeeded_once(cluster, [job_id])
