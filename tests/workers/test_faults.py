"""Faults: workers killed with kill -9 mid-job, Redis restarted with jobs queued or running,
a worker frozen (SIGSTOP) past its heartbeat while another takes its job over.

Every accepted job must still finish, and each step must have succeeded exactly once (counted
through the `sidechannel` hook and the scripted completer's log, outside the code under test).
"""

from __future__ import annotations

import json
import os
import signal
import time
from collections import Counter

import pytest
from harness import wait_for
from scripted_completer import response_for

from workers import jobs
from workers.chain import query_task_ids

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def _assert_each_step_succeeded_once(cluster, ids: list[str]) -> None:
    names = ("wm.generate", "wm.sandbox", "wm.compose")
    steps = [step for j in ids for step in zip(names, query_task_ids(j).values(), strict=True)]

    def done() -> Counter:
        lines = cluster.successes()
        return Counter((line["task"], line["id"]) for line in lines if line["event"] == "success")

    # Celery sends task_success (the side channel's line) just after it stores the result a
    # client waits for, so the last step's line may still be on its way: wait for it a little.
    deadline = time.monotonic() + 10
    while not all(done()[step] for step in steps) and time.monotonic() < deadline:
        time.sleep(0.1)
    counted = done()
    for step in steps:
        assert counted[step] == 1, (*step, counted[step])


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
        lambda: all(app.AsyncResult(query_task_ids(j)["generate"]).state == "SUCCESS" for j in ids),
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
        lambda: app.AsyncResult(query_task_ids(job_id)["generate"]).state == "SUCCESS",
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


def _generation(cluster, event: str, pid: int) -> dict | None:
    """The first scripted-completer line of this event from this worker process, if any."""
    return next((g for g in cluster.generations() if g["event"] == event and g["pid"] == pid), None)


def test_redis_restart_while_a_step_runs_finishes_the_job_once(cluster):
    # The generation step takes 6 s; Redis restarts (clean stop, append-only file replayed) a
    # moment after it started, so the worker's broker connection breaks under a running job.
    # Once, that stopped the worker (kombu's restore-on-close and the job's ack on the dead
    # channel both raised AttributeError) and the job waited for the visibility timeout.
    gpu, sandbox = cluster.start_pair("a", WM_TEST_DELAY_S="6")
    app = cluster.app
    job_id = jobs.submit_query(app, "What is 4 * 5?")
    wait_for(lambda: _generation(cluster, "start", gpu.pid), 30, "generation to start on a")
    restarted_at = time.time()
    cluster.redis.restart()
    started = time.monotonic()
    answer = jobs.result(app, job_id, wait=True, timeout_s=90)
    print(f"job finished {time.monotonic() - started:.1f} s after the Redis restart")
    assert answer["final"] == "20"
    _assert_each_step_succeeded_once(cluster, [job_id])
    # The generation really ran across the restart, once, on the same worker, which lived.
    done = [g for g in cluster.generations() if g["event"] == "done"]
    assert [g["pid"] for g in done] == [gpu.pid] and done[0]["t"] > restarted_at
    assert gpu.proc.poll() is None and sandbox.proc.poll() is None
    # Its message was acked after the reconnect, not left for the visibility timeout.
    redis = cluster.redis.client()
    wait_for(lambda: redis.hlen("unacked") == 0, 10, "no message left unacked")
    later = jobs.submit_query(app, "What is 2 + 2?")
    assert jobs.result(app, later, wait=True, timeout_s=60)["final"] == "4"
    _assert_each_step_succeeded_once(cluster, [job_id, later])


def test_a_message_its_live_worker_no_longer_runs_is_requeued(cluster):
    # What a broken broker connection can leave behind (an ack that could not reach Redis, a
    # request Celery dropped on reconnect): a message in `unacked`, claimed by a worker that is
    # alive but runs nothing for it. No other worker may take it (its owner is alive), and the
    # visibility timeout is hours; the owner's own reaper must settle it.
    sandbox = cluster.start_worker("sandbox", box="a")
    app = cluster.app
    job_id = jobs.submit_query(app, "What is 6 * 7?")
    redis = cluster.redis.client()
    raw = redis.rpop("generate")  # the generation step's message, as a worker takes it ...
    assert raw is not None
    message = json.loads(raw)
    tag = message["properties"]["delivery_tag"]
    alive = next(redis.scan_iter(f"wm:alive:{sandbox.name}/{sandbox.pid}/*")).decode()
    pipe = redis.pipeline()  # ... and as kombu and `recovery.claim` record it
    pipe.hset("unacked", tag, json.dumps([message, "generate", "generate"]))
    pipe.zadd("unacked_index", {tag: time.time()})
    pipe.hset("wm:owners", tag, alive.removeprefix("wm:alive:"))
    pipe.execute()
    cluster.start_worker("gpu", box="a")
    answer = jobs.result(app, job_id, wait=True, timeout_s=60)
    assert answer["final"] == "42"
    _assert_each_step_succeeded_once(cluster, [job_id])
    assert "this worker holds it but no longer runs it" in sandbox.log.read_text()
    assert redis.hlen("unacked") == 0 and not redis.hexists("wm:owners", tag)


def test_a_worker_frozen_past_its_heartbeat_does_not_commit_a_step_taken_over(cluster):
    # Worker a freezes (SIGSTOP) mid-generation, longer than its heartbeat TTL (3 s here): a
    # reaper requeues its message and worker b takes it over. When a wakes up (SIGCONT) its
    # 4-s generation is over and it reaches the commit while b is still generating (6 s): it
    # must neither send the next step nor store a result nor ack b's message.
    gpu_a = cluster.start_worker("gpu", box="a", WM_TEST_DELAY_S="4")
    cluster.start_worker("sandbox", box="a")
    app = cluster.app
    job_id = jobs.submit_query(app, "What is 8 * 8?")
    wait_for(lambda: _generation(cluster, "start", gpu_a.pid), 30, "generation to start on a")
    os.kill(gpu_a.pid, signal.SIGSTOP)
    try:
        gpu_b = cluster.start_worker("gpu", box="b", WM_TEST_DELAY_S="6")
        wait_for(lambda: _generation(cluster, "start", gpu_b.pid), 60, "b to take the job over")
    finally:
        woke_at = time.time()
        os.kill(gpu_a.pid, signal.SIGCONT)
    answer = jobs.result(app, job_id, wait=True, timeout_s=60)
    assert answer["final"] == "64" and answer["workers"]["generate"] == gpu_b.name
    _assert_each_step_succeeded_once(cluster, [job_id])
    # Both generations ran to the end, a's first: a really reached its commit, and was refused.
    done_a = _generation(cluster, "done", gpu_a.pid)
    done_b = _generation(cluster, "done", gpu_b.pid)
    assert done_a and done_b and woke_at <= done_a["t"] < done_b["t"]
    assert "this worker no longer holds its message" in gpu_a.log.read_text()
    assert gpu_a.proc.poll() is None
    later = jobs.submit_query(app, "What is 1 + 2?")
    assert jobs.result(app, later, wait=True, timeout_s=60)["final"] == "3"
    _assert_each_step_succeeded_once(cluster, [job_id, later])
