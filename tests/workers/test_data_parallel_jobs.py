"""`wm submit-train --gpus N` through a real worker: the GPUs claimed, the ranks shown, cancel.

The box's "GPUs" are CPU ranks here (gloo): the worker is told the box has GPUs 0 and 1
(`WM_BOX_GPUS`, what `wm worker gpu` sets from the GPUs it sees), claims them through the real
lock files, and launches the real `wm train --gpus 2` (torchrun, two processes).
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from harness import WM, wait_for
from tiny_training import train_config, write_train_file

from workers import jobs
from workers.gpus import BoxGate, lock_folder

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def _ranks_of(job_id: str) -> dict[int, dict[str, str]]:
    """RANK -> environment of every live training process of the job (found by its argv)."""
    found: dict[int, dict[str, str]] = {}
    for proc in Path("/proc").iterdir():
        try:
            argv = (proc / "cmdline").read_bytes().split(b"\0")
            if not any(job_id.encode() in word for word in argv):
                continue
            pairs = (proc / "environ").read_bytes().split(b"\0")
        except OSError:  # gone, or not ours
            continue
        env = dict(p.decode().split("=", 1) for p in pairs if b"=" in p)
        if "RANK" in env and "torch.distributed.run" not in " ".join(map(bytes.decode, argv)):
            found[int(env["RANK"])] = env
    return found


def _processes_of(job_id: str) -> list[str]:
    found = []
    for proc in Path("/proc").iterdir():
        try:
            if job_id.encode() in (proc / "cmdline").read_bytes():
                found.append(proc.name)
        except OSError:
            continue
    return found


def test_a_job_asking_for_more_gpus_than_the_box_has_fails_at_once(cluster, tiny_model_dir):
    cluster.start_worker("gpu", "--gpu", "0", "--queues", "train", box="a", WM_BOX_GPUS="0,1")
    job_id = jobs.submit_train(
        cluster.app,
        data=str(write_train_file(cluster.folder / "train.jsonl")),
        base=str(tiny_model_dir),
        config=train_config(max_steps=2, device="cpu"),
        gpus=3,
    )
    with pytest.raises(jobs.JobError, match=r"asks for 3 GPUs of one box, but this box has 2"):
        jobs.result(cluster.app, job_id, wait=True, timeout_s=30)


def test_a_two_gpu_job_claims_both_shows_its_ranks_and_cancel_stops_every_rank(
    cluster, tiny_model_dir, tmp_path
):
    store = tmp_path / "store"
    worker = cluster.start_worker(
        "gpu", "--gpu", "0", "--queues", "train", box="a", WM_BOX_GPUS="0,1"
    )
    app = cluster.app
    gate = BoxGate(lock_folder(Path(cluster.env()["WM_HOME"]), "a"))
    config = tmp_path / "train.yaml"
    settings = train_config(max_steps=100_000, checkpoint_every=2, device="cpu")
    config.write_text(json.dumps(settings))
    submitted = subprocess.run(
        [
            *(WM, "submit-train", "--gpus", "2", "--config", str(config), "--json"),
            *("--data", str(write_train_file(tmp_path / "train.jsonl"))),
            *("--base", str(tiny_model_dir), "--artifacts", str(store)),
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
        180,
        "the ranks' first logged step",
        interval_s=0.2,
    )
    assert progress["ranks"] == {"world_size": 2, "gpus": [0, 1], "box": "a"}
    ranks = _ranks_of(job_id)
    assert sorted(ranks) == [0, 1]  # two training processes, one per claimed GPU
    for env in ranks.values():
        assert env["CUDA_VISIBLE_DEVICES"] == env["HIP_VISIBLE_DEVICES"] == "0,1"
    # Both GPUs are claimed: no other claim (nor a generation batch) gets either of them.
    assert gate.try_claim(1, [0]) is None and gate.try_claim(1, [1]) is None
    shown = subprocess.run(
        [WM, "status", job_id, "--no-follow"], env=cluster.env(), capture_output=True, text=True
    )
    assert "ranks: 2 on a, GPUs 0,1" in shown.stdout, shown.stdout + shown.stderr
    [current] = next(w for w in jobs.workers(app) if w["name"] == worker.name)["current"]
    assert (current["world_size"], current["gpus"]) == (2, [0, 1])
    listed = subprocess.run(
        [WM, "workers"], env=cluster.env(COLUMNS="250"), capture_output=True, text=True
    )
    assert "(2 ranks, GPUs 0,1)" in listed.stdout, listed.stdout + listed.stderr
    # A generation worker pinned to GPU 1 waits with its batch while the job holds that GPU.
    cluster.start_pair(box="a", gpu=("--gpu", "1", "--queues", "generate"))
    query = jobs.submit_query(app, "What is 2 + 2?")
    wait_for(lambda: jobs.status(app, query)["steps"]["generate"] == "STARTED", 60, "generate")
    with pytest.raises(jobs.JobError, match="did not finish"):
        jobs.result(app, query, wait=True, timeout_s=3)

    assert jobs.cancel(app, job_id)["cancelled"]
    wait_for(lambda: jobs.status(app, job_id)["state"] == "REVOKED", 120, "the cancel")
    wait_for(lambda: not _processes_of(job_id), 60, "every rank of the job to end")
    answer = jobs.result(app, query, wait=True, timeout_s=60)  # GPU 1 is free again
    assert answer["workers"]["generate"] == "gpu1@a"
    with gate.claim(2, [0, 1]) as claim:
        assert claim.gpus == [0, 1]
    saved = sorted((store / job_id / "checkpoints").glob("step-*/state.json"))
    assert saved and json.loads(saved[-1].read_text())["world_size"] == 2
    with pytest.raises(jobs.JobError, match="cancelled at step"):
        jobs.result(app, job_id)

    # A short job runs to its end on both ranks and returns the run's summary.
    short = jobs.submit_train(
        app,
        data=str(tmp_path / "train.jsonl"),
        base=str(tiny_model_dir),
        config=train_config(max_steps=2, device="cpu"),
        artifacts=str(store),
        gpus=2,
    )
    summary = jobs.result(app, short, wait=True, timeout_s=240)
    assert summary["world_size"] == 2 and summary["steps"] == 2 and not summary["interrupted"]
    assert (store / short / "adapter" / "adapter_config.json").is_file()
    assert summary["worker"] == worker.name


def test_the_ranks_of_a_killed_worker_checkpoint_and_end_and_another_worker_resumes(
    cluster, tiny_model_dir, tmp_path
):
    store = tmp_path / "store"
    worker_a = cluster.start_worker(
        "gpu", "--gpu", "0", "--queues", "train", box="a", WM_BOX_GPUS="0,1"
    )
    app = cluster.app
    job_id = jobs.submit_train(
        app,
        data=str(write_train_file(tmp_path / "train.jsonl")),
        base=str(tiny_model_dir),
        config=train_config(max_steps=100_000, checkpoint_every=2, device="cpu"),
        artifacts=str(store),
        gpus=2,
    )
    checkpoints = store / job_id / "checkpoints"
    wait_for(lambda: list(checkpoints.glob("step-*/state.json")), 180, "a first checkpoint")
    assert sorted(_ranks_of(job_id)) == [0, 1]
    worker_a.kill9()
    # Not left training unwatched: the ranks save a checkpoint and end, and the GPUs are free.
    wait_for(lambda: not _processes_of(job_id), 90, "the killed worker's ranks to end")
    gate = BoxGate(lock_folder(Path(cluster.env()["WM_HOME"]), "a"))
    with gate.claim(2, [0, 1]):
        pass
    last = max(json.loads(p.read_text())["step"] for p in checkpoints.glob("step-*/state.json"))
    worker_b = cluster.start_worker(
        "gpu", "--gpu", "0", "--queues", "train", box="b", WM_BOX_GPUS="0,1"
    )
    wait_for(
        lambda: (jobs.status(app, job_id)["progress"] or {}).get("step", 0) > last,
        180,
        "worker b to resume the job past the checkpoint",
    )
    assert f"resuming from {checkpoints}/step-" in worker_b.log.read_text()
    assert jobs.cancel(app, job_id)["cancelled"]
    wait_for(lambda: jobs.status(app, job_id)["state"] == "REVOKED", 120, "the cancel")
    wait_for(lambda: not _processes_of(job_id), 60, "every rank of the job to end")


def test_a_gpus_job_whose_config_picks_its_gpus_is_refused_at_submit(tmp_path):
    from click.testing import CliRunner

    import worldmodel.cli  # noqa: F401 - registers the commands
    from worldmodel.cli.group import wm

    config = tmp_path / "mi50x4.yaml"
    config.write_text(json.dumps({"rocm_env": {"HIP_VISIBLE_DEVICES": "0,1,2,3"}}))
    data = write_train_file(tmp_path / "train.jsonl")
    argv = ["submit-train", "--gpus", "2", "--config", str(config), "--data", str(data)]
    result = CliRunner().invoke(wm, [*argv, "--base", "bundled"])
    assert result.exit_code == 2, result.output
    assert "rocm_env: HIP_VISIBLE_DEVICES is set, but a --gpus job runs on the GPUs" in (
        result.output
    )


def test_a_gpus_job_waits_for_a_single_gpu_training_job_on_one_of_its_gpus(
    cluster, tiny_model_dir, tmp_path
):
    store = tmp_path / "store"
    data = str(write_train_file(tmp_path / "train.jsonl"))
    app = cluster.app
    cluster.start_worker("gpu", "--gpu", "1", "--queues", "train", box="a")
    single = jobs.submit_train(
        app,
        data=data,
        base=str(tiny_model_dir),
        config=train_config(max_steps=100_000, checkpoint_every=1_000, device="cpu"),
        artifacts=str(store),
    )
    wait_for(lambda: jobs.status(app, single)["state"] == "PROGRESS", 120, "the single job")
    gate = BoxGate(lock_folder(Path(cluster.env()["WM_HOME"]), "a"))
    assert gate.try_claim(1, [1]) is None  # the one-GPU job holds its GPU on the box
    worker = cluster.start_worker(
        "gpu", "--gpu", "0", "--queues", "train", box="a", WM_BOX_GPUS="0,1"
    )
    pair = jobs.submit_train(
        app,
        data=data,
        base=str(tiny_model_dir),
        config=train_config(max_steps=2, device="cpu"),
        artifacts=str(store),
        gpus=2,
    )

    def waiting() -> list[dict]:
        found = next(w for w in jobs.workers(app) if w["name"] == worker.name)["current"]
        return [c for c in found if c.get("world_size") == 2 and c.get("gpus") is None]

    wait_for(waiting, 60, "the two-GPU job to wait for its GPUs")
    # It waits, holding no GPU: GPU 0 is free meanwhile, and no rank has started.
    with gate.claim(1, [0]):
        pass
    assert not _ranks_of(pair) and jobs.status(app, pair)["progress"] is None
    jobs.cancel(app, single)
    summary = jobs.result(app, pair, wait=True, timeout_s=240)
    assert summary["world_size"] == 2 and summary["steps"] == 2
