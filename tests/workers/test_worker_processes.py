"""Worker processes: GPU pinning and naming, a warm model, no torch in sandbox workers, cancel."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import pytest
from harness import WM, wait_for

from workers import jobs
from workers.chain import query_task_ids

pytestmark = pytest.mark.integration


def _environ(pid: int) -> dict[str, str]:
    raw = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
    return dict(item.decode().split("=", 1) for item in raw if b"=" in item)


def test_gpu_worker_is_pinned_named_warm_and_reports_its_job(cluster):
    gpu = cluster.start_worker("gpu", "--gpu", "3", box="boxp", WM_TEST_DELAY_S="3")
    cluster.start_worker("sandbox", box="boxp")
    env = _environ(gpu.pid)  # the worker process itself (wm execs celery)
    assert env["HIP_VISIBLE_DEVICES"] == "3" and env["CUDA_VISIBLE_DEVICES"] == "3"
    app = cluster.app
    job_id = jobs.submit_query(app, "What is 2 * 21?")

    def busy():
        found = {w["name"]: w for w in jobs.workers(app, timeout_s=0.5)}
        return found if found.get("gpu3@boxp", {}).get("current") else None

    found = wait_for(busy, 30, "the gpu worker to report its current job", interval_s=0.2)
    info = found["gpu3@boxp"]
    assert info["gpu"] == "3" and info["hip_visible_devices"] == "3"
    assert info["host"] == "boxp" and info["kind"] == "gpu"
    assert info["queues"] == ["generate", "generate-batch", "train"]
    assert info["active"] == [{"id": f"{job_id}.generate", "task": "wm.generate"}]
    assert info["current"][0]["job"] == job_id
    assert found["sandbox@boxp"]["queues"] == ["sandbox"]
    jobs.result(app, job_id, wait=True, timeout_s=60)
    for n in range(3):
        jobs.result(app, jobs.submit_query(app, f"What is {n} + 0?"), wait=True, timeout_s=60)
    # The model (here the scripted completer) was built once, when the worker started.
    built = [g for g in cluster.generations() if g["event"] == "factory" and g["pid"] == gpu.pid]
    assert len(built) == 1
    # A sandbox worker that ran jobs never imported torch.
    sandbox_info = {w["name"]: w for w in jobs.workers(app)}["sandbox@boxp"]
    assert sandbox_info["torch_imported"] is False


def test_cpu_worker_hides_every_gpu():
    done = subprocess.run(
        [WM, "worker", "gpu", "--dry-run", "--hostname", "x"],
        capture_output=True,
        text=True,
        timeout=30,
        env={"WM_BROKER_URL": "redis://:pw@127.0.0.1:1/0", "PATH": "/usr/bin"},
    )
    assert done.returncode == 0, done.stderr
    assert "--hostname cpu@x" in done.stdout
    assert "CUDA_VISIBLE_DEVICES=\n" in done.stdout and "HIP_VISIBLE_DEVICES=\n" in done.stdout


def test_cancelled_query_never_runs_its_remaining_steps(cluster):
    cluster.start_worker("gpu", box="a")
    app = cluster.app
    job_id = jobs.submit_query(app, "What is 9 + 9?")
    wait_for(
        lambda: app.AsyncResult(query_task_ids(job_id)["generate"]).state == "SUCCESS",
        60,
        "the generation step",
    )
    done = subprocess.run(
        [WM, "cancel", job_id, "--json"],
        env=cluster.env(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert jobs.status(app, job_id)["state"] == "REVOKED"
    cluster.start_worker("sandbox", box="a")
    time.sleep(2)
    ran = [s["task"] for s in cluster.successes() if s["event"] == "success"]
    assert ran == ["wm.generate"]  # the sandbox and compose steps never ran
    assert app.AsyncResult(job_id).state in ("PENDING", "REVOKED")
    with pytest.raises(jobs.JobError, match="revoked"):
        jobs.result(app, job_id)
