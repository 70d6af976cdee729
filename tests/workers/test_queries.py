"""Queries through the real queues: end to end, priorities, many at once, a dead broker."""

from __future__ import annotations

import json
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from harness import WM, free_port
from scripted_completer import response_for

from workers import jobs

pytestmark = pytest.mark.integration


def _wm(cluster, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [WM, *args], env=cluster.env(), capture_output=True, text=True, timeout=timeout
    )


@pytest.mark.slow
def test_submit_query_wait_returns_the_verified_answer_through_the_queues(cluster):
    cluster.start_pair()
    done = _wm(cluster, "submit-query", "What is 17 * 23?", "--wait", "--json")
    assert done.returncode == 0, done.stderr
    answer = json.loads(done.stdout)
    assert answer["final"] == "391"
    assert answer["verification"]["status"] == "verified"
    assert answer["executions"][0]["backend"] == "process"
    assert answer["workers"] == {"generate": "cpu@a", "sandbox": "sandbox@a", "compose": "cpu@a"}
    # The same job is visible to the other commands.
    job_id = answer["job_id"]
    status = json.loads(_wm(cluster, "status", job_id, "--json").stdout)
    assert status["state"] == "SUCCESS"
    assert status["steps"] == {"generate": "SUCCESS", "sandbox": "SUCCESS", "compose": "SUCCESS"}
    again = json.loads(_wm(cluster, "result", job_id, "--json").stdout)
    assert again["final"] == "391"
    listed = json.loads(_wm(cluster, "jobs", "--json").stdout)
    assert [item["job_id"] for item in listed] == [job_id]


def test_after_execution_mode_writes_the_answer_after_seeing_the_output(cluster):
    cluster.start_pair()
    done = _wm(
        cluster, "submit-query", "What is 40 - 2?", "--mode", "after-execution", "--wait", "--json"
    )
    assert done.returncode == 0, done.stderr
    answer = json.loads(done.stdout)
    assert answer["mode"] == "after-execution"
    assert "<output>\n38\n</output>" in answer["generated"]
    assert answer["claim"] == "The answer is 38."
    assert answer["verification"]["status"] == "verified"


def test_a_voting_query_answers_with_the_value_most_candidates_printed(cluster):
    cluster.start_pair()
    question = "What is 6 * 7? (greedy is wrong)"
    done = _wm(
        cluster, "submit-query", question, "--samples", "3", "--temperature", "0.9", "--wait"
    )
    assert done.returncode == 0, done.stderr
    assert "2 of 3 candidates agree" in done.stdout
    (job,) = json.loads(_wm(cluster, "jobs", "--json").stdout)
    answer = json.loads(_wm(cluster, "result", job["job_id"], "--json").stdout)
    assert answer["final"] == "42"  # the greedy candidate printed 43; both samples 42
    assert answer["vote"] == {
        "samples": 3,
        "ran": 3,
        "agreeing": 2,
        "chosen": 1,
        "tally": [["42", 2], ["43", 1]],
    }
    assert answer["verification"]["status"] == "verified"
    # The two sampled candidates were generated together, at the job's temperature.
    calls = [line for line in cluster.generations() if line["event"] == "start"]
    assert [(c["batch"], c["temperature"]) for c in calls] == [(1, None), (2, 0.9)]


def test_one_bad_job_in_a_generation_batch_fails_alone(cluster):
    # Three jobs wait together for one batch; the middle one's prompt makes the call raise.
    cluster.start_pair(WM_BATCH_SIZE="3", WM_BATCH_WAIT_S="5")
    app = cluster.app
    questions = ["What is 2 + 3?", "What is 4 + 4? (rejected)", "What is 5 * 6?"]
    ids = [jobs.submit_query(app, question) for question in questions]
    first = jobs.result(app, ids[0], wait=True, timeout_s=60)
    with pytest.raises(jobs.JobError, match=r"failure: .*rejects the prompt of .*\(rejected\)"):
        jobs.result(app, ids[1], wait=True, timeout_s=60)
    third = jobs.result(app, ids[2], wait=True, timeout_s=60)
    assert (first["final"], third["final"]) == ("5", "30")
    assert first["verification"]["status"] == third["verification"]["status"] == "verified"
    # The three were tried as one batch (in the order their tasks queued), then each alone.
    starts = [line for line in cluster.generations() if line["event"] == "start"]
    batch, *alone = [line["questions"] for line in starts]
    assert sorted(batch) == sorted(questions)
    assert alone == [[question] for question in batch]


def test_voting_candidates_past_half_the_sandbox_limit_are_left_unrun_not_killed(cluster):
    # Each candidate's code sleeps 1.5 s; half the step's limit is 2 s: the third goes unrun.
    cluster.start_pair(WM_SANDBOX_TIME_LIMIT_S="4")
    done = _wm(cluster, "submit-query", "What is 6 * 7? slowly", "--samples", "3", "--wait")
    assert done.returncode == 0, done.stderr
    (job,) = json.loads(_wm(cluster, "jobs", "--json").stdout)
    answer = json.loads(_wm(cluster, "result", job["job_id"], "--json").stdout)
    assert answer["final"] == "42"
    assert (answer["vote"]["samples"], answer["vote"]["ran"]) == (3, 2)


def test_bad_voting_settings_are_refused_before_anything_is_published(cluster):
    from worldmodel.errors import ConfigError

    with pytest.raises(ConfigError, match="samples must be 1 to 16"):
        jobs.submit_query(cluster.app, "What is 1 + 1?", samples=17)
    with pytest.raises(ConfigError, match="temperature > 0"):
        jobs.submit_query(cluster.app, "What is 1 + 1?", samples=2, temperature=0)
    assert cluster.redis.client().dbsize() == 0
    done = _wm(cluster, "submit-query", "What is 1 + 1?", "--samples", "0")
    assert done.returncode == 2 and "--samples" in done.stderr


def test_unreachable_broker_says_the_job_was_not_accepted(cluster):
    port = free_port()  # nothing listens here
    started = time.monotonic()
    done = subprocess.run(
        [WM, "submit-query", "What is 1 + 1?"],
        env=cluster.env(WM_BROKER_URL=f"redis://:pw@127.0.0.1:{port}/0"),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 1
    assert "NOT accepted" in done.stderr and f"127.0.0.1:{port}" in done.stderr
    assert ":pw@" not in done.stderr  # the password is not printed
    assert time.monotonic() - started < 15


def test_a_broker_url_without_password_is_refused(cluster):
    done = subprocess.run(
        [WM, "submit-query", "What is 1 + 1?"],
        env=cluster.env(WM_BROKER_URL=f"redis://127.0.0.1:{cluster.redis.port}/0"),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 1
    assert "has no password" in done.stderr
    assert cluster.redis.client().dbsize() == 0  # nothing was written


@pytest.mark.slow
def test_interactive_query_overtakes_a_queued_batch(cluster):
    # A slow "GPU": each generation call takes 0.4 s and answers at most 2 questions.
    cluster.start_pair(sandbox=("--pool-size", "2"), WM_BATCH_SIZE="2", WM_TEST_DELAY_S="0.4")
    app = cluster.app
    batch = [jobs.submit_query(app, f"What is {n} + 1?", job_class="batch") for n in range(20)]
    time.sleep(0.3)  # the worker is busy with the batch now
    urgent = jobs.submit_query(app, "What is 100 + 1?")
    answers = {j: jobs.result(app, j, wait=True, timeout_s=120) for j in [urgent, *batch]}
    assert answers[urgent]["final"] == "101"
    finished = {j: app.AsyncResult(j).date_done for j in answers}
    order = sorted(finished, key=finished.get)
    print("interactive finished at rank", order.index(urgent) + 1, "of 21")
    assert order.index(urgent) < 6, f"interactive job finished {order.index(urgent) + 1}th of 21"


@pytest.mark.slow
def test_200_concurrent_queries_all_answered_none_duplicated(cluster):
    cluster.start_pair(sandbox=("--pool-size", "4"), WM_BATCH_SIZE="8")
    app = cluster.app
    questions = [f"What is {n} * 3?" for n in range(200)]
    with ThreadPoolExecutor(16) as pool:
        ids = list(pool.map(lambda q: jobs.submit_query(app, q), questions))
        answers = list(pool.map(lambda j: jobs.result(app, j, wait=True, timeout_s=240), ids))
    assert len(set(ids)) == 200
    for question, answer in zip(questions, answers, strict=True):
        assert answer["question"] == question
        assert answer["final"] == response_for(question)[1]
        assert answer["verification"]["status"] == "verified"
    done = [line for line in cluster.successes() if line["event"] == "success"]
    for task in ("wm.generate", "wm.sandbox", "wm.compose"):
        ran = [line["id"] for line in done if line["task"] == task]
        assert len(ran) == 200 and len(set(ran)) == 200, task
    # Questions waiting together were generated together.
    batches = [line["batch"] for line in cluster.generations() if line["event"] == "done"]
    assert sum(batches) == 200 and max(batches) > 1


def test_self_training_through_the_queues_keeps_what_an_in_process_run_keeps(cluster, tmp_path):
    """`wm data self-train --queue`: each question a batch query job with its candidates on
    the workers; the kept records equal those of the same run in-process."""
    from scripted_completer import ScriptedCompleter

    from sandbox.process import ProcessExecutor
    from worldmodel.data import self_train
    from worldmodel.pipeline import Pipeline

    cluster.start_pair()
    questions = tmp_path / "train.jsonl"
    rows = [("q-0", "What is 6 * 7? (greedy is wrong)", "42"), ("q-1", "What is 2 + 3?", "5")]
    questions.write_text(
        "".join(
            json.dumps(
                {
                    "messages": [{"role": "user", "content": text}],
                    "id": ident,
                    "family": "arithmetic",
                    "template": "basic",
                    "phrasing": 0,
                    "source": "generated",
                    "expected": expected,
                    "output": expected + "\n",
                    "check": "number",
                    "split": "train",
                    "holdout": None,
                }
            )
            + "\n"
            for ident, text, expected in rows
        )
    )
    queued = tmp_path / "queued.jsonl"
    args = ["data", "self-train", str(questions), "--queue", "--samples", "3"]
    done = _wm(cluster, *args, "--sandbox", "process", "--out", str(queued), "--json", timeout=180)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert (report["solved"], report["solved_greedy"], report["gained_by_sampling"]) == (2, 1, 1)
    assert report["outcomes"] == {"kept": 2, "duplicate": 3, "wrong answer": 1}
    listed = json.loads(_wm(cluster, "jobs", "--json").stdout)
    assert len(listed) == 2  # one batch query job per question

    executor = ProcessExecutor()
    try:
        pipeline = Pipeline(ScriptedCompleter(), executor, samples=3, temperature=0.7)
        local = tmp_path / "local.jsonl"
        self_train.self_train(
            self_train.select_questions(questions)[0],
            pipeline.attempt_many,
            executor,
            local,
            provenance={},
        )
    finally:
        executor.close()

    def without_provenance(path):
        records = [json.loads(line) for line in path.read_text().splitlines()]
        for record in records:
            record["meta"]["self_train"] = {
                k: v for k, v in record["meta"]["self_train"].items() if k in ("from", "candidate")
            }
        return records

    assert without_provenance(queued) == without_provenance(local)
    assert [r["meta"]["self_train"]["candidate"] for r in without_provenance(queued)] == [1, 0]
