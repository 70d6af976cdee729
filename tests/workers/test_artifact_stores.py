"""Remote artifact stores for real: sftp:// against OpenSSH's sshd and s3:// against moto's server.

Both servers run on 127.0.0.1 in the test's folder (`stores.py`). Each store is exercised the
way the workers use it: checkpoints pushed, listed and pulled on another "box" (another staging
folder), a half-uploaded checkpoint ignored and replaced, the final adapter uploaded and fetched
once into a generation worker's cache; then end to end, a training job handed back by a stopping
worker resumes on a worker with another home (so it can only read the checkpoint back from the
store), and a query answers with the adapter URL that job's result names.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from harness import wait_for
from stores import S3Server, SftpServer, missing
from tiny_training import (
    QUESTION,
    generation_worker_env,
    reference_completion,
    train_config,
    write_train_file,
)

from workers import jobs
from workers.artifacts import (
    ArtifactError,
    ArtifactStore,
    local_adapter,
    open_store,
    prune_adapter_cache,
)

pytestmark = pytest.mark.integration

Server = SftpServer | S3Server


@pytest.fixture(params=["sftp", "s3"])
def remote(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Server]:
    """A running store server; this test process is configured for it the way workers are."""
    reason = missing(request.param)
    if reason:
        pytest.skip(reason)
    import fsspec.config

    server: Server = (
        SftpServer(tmp_path / "sftp") if request.param == "sftp" else S3Server(tmp_path / "s3")
    )
    server.start()
    for name, value in server.env().items():
        monkeypatch.setenv(name, value)
    # fsspec read its FSSPEC_* variables when it was imported; set the same options directly.
    monkeypatch.setitem(fsspec.config.conf, request.param, dict(server.options))
    try:
        yield server
    finally:
        server.stop()
        print(f"started: {server.describe()}\n{server.log_tail()[-1500:]}")


def _known_hosts(server: Server) -> str:
    return str(server.known_hosts) if isinstance(server, SftpServer) else ""


def _checkpoint(run: Path, step: int) -> Path:
    """A checkpoint folder as the trainer writes it (state.json is its completion marker)."""
    folder = run / "checkpoints" / f"step-{step:07d}"
    (folder / "adapter").mkdir(parents=True)
    (folder / "adapter" / "adapter_model.safetensors").write_bytes(bytes([step]) * 1000)
    (folder / "adapter" / "adapter_config.json").write_text(f'{{"r": {step}}}')
    (folder / "trainer_state.json").write_text(f'{{"step": {step}}}')
    (folder / "trainer_state.safetensors").write_bytes(b"optimizer" * step)
    (folder / "state.json").write_text(f'{{"step": {step}}}')
    return folder


def _files(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()
    }


def _remote_files(fs, root: str) -> list[str]:
    return sorted(p[len(root) + 1 :] for p in fs.find(root))


def test_checkpoints_and_adapters_round_trip_through_the_store(remote, tmp_path):
    known_hosts = _known_hosts(remote)
    box_a = ArtifactStore(
        remote.url, stores=[remote.url], known_hosts=known_hosts, staging=tmp_path / "box-a"
    )
    run = box_a.run_dir("job1")
    _checkpoint(run, 2)
    _checkpoint(run, 4)
    (run / "metrics.jsonl").write_text('{"step": 4, "loss": 1.5}\n')
    box_a.push("job1")

    fs, root = open_store(f"{remote.url}/job1", known_hosts=known_hosts)
    checkpoint_files = ["adapter/adapter_config.json", "adapter/adapter_model.safetensors"]
    checkpoint_files += ["state.json", "trainer_state.json", "trainer_state.safetensors"]
    assert _remote_files(fs, root) == sorted(
        [f"checkpoints/step-000000{s}/{name}" for s in (2, 4) for name in checkpoint_files]
        + ["metrics.jsonl"]
    )

    # A push killed half-way left step 6 without its marker: readers skip it.
    partial = f"{root}/checkpoints/step-0000006/adapter/adapter_model.safetensors"
    fs.makedirs(partial.rsplit("/", 1)[0], exist_ok=True)
    fs.pipe_file(partial, b"partial")
    box_b = ArtifactStore(
        remote.url, stores=[remote.url], known_hosts=known_hosts, staging=tmp_path / "box-b"
    )
    assert box_b.pull("job1") == "step-0000004"
    pulled = box_b.run_dir("job1") / "checkpoints" / "step-0000004"
    assert _files(pulled) == _files(run / "checkpoints" / "step-0000004")
    assert (box_b.run_dir("job1") / "metrics.jsonl").read_text() == '{"step": 4, "loss": 1.5}\n'

    # The trainer saved step 6 and dropped step 2: the next push replaces the partial step 6
    # and deletes step 2 from the store too.
    shutil.rmtree(run / "checkpoints" / "step-0000002")
    _checkpoint(run, 6)
    box_a.push("job1")
    names = sorted(p.rstrip("/").rsplit("/", 1)[1] for p in fs.ls(f"{root}/checkpoints"))
    assert names == ["step-0000004", "step-0000006"]
    assert fs.cat_file(partial) == bytes([6]) * 1000

    # The final push uploads the adapter; pushing it again (a redelivered job) replaces it.
    (run / "adapter").mkdir()
    (run / "adapter" / "adapter_model.safetensors").write_bytes(b"final weights")
    (run / "adapter" / "adapter_config.json").write_text('{"r": 4}')
    box_a.push("job1", final=True)
    box_a.push("job1", final=True)
    assert [p for p in _remote_files(fs, root) if p.startswith("adapter/")] == [
        "adapter/adapter_config.json",
        "adapter/adapter_model.safetensors",
    ]

    # A generation worker fetches the adapter once into its cache and reads it from there.
    location = box_a.adapter_location("job1")
    assert location == f"{remote.url}/job1/adapter"
    fetched = local_adapter(location, stores=[remote.url], known_hosts=known_hosts)
    assert _files(fetched) == _files(run / "adapter")
    with pytest.raises(ArtifactError, match="no adapter at"):
        local_adapter(
            f"{remote.url}/job1/checkpoints", stores=[remote.url], known_hosts=known_hosts
        )
    remote.stop()  # the store is gone: the cached copy still answers
    assert local_adapter(location, stores=[remote.url], known_hosts=known_hosts) == fetched


def test_an_sftp_store_with_an_unknown_host_key_is_refused(tmp_path):
    reason = missing("sftp")
    if reason:
        pytest.skip(reason)
    server = SftpServer(tmp_path / "sftp")
    server.start()
    try:
        other_key = tmp_path / "other_host_key"  # what an impostor on that port would present
        subprocess.run(
            ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(other_key)],
            check=True,
            capture_output=True,
        )
        wrong = tmp_path / "wrong_known_hosts"
        key = Path(f"{other_key}.pub").read_text().split()
        wrong.write_text(f"[127.0.0.1]:{server.port} {key[0]} {key[1]}\n")
        import fsspec.config

        fsspec.config.conf["sftp"] = dict(server.options)
        try:
            for known_hosts in (wrong, tmp_path / "absent_known_hosts"):
                store = ArtifactStore(server.url, stores=[server.url], known_hosts=str(known_hosts))
                with pytest.raises(ArtifactError, match=rf"\[127\.0\.0\.1\]:{server.port}"):
                    store.pull("job1")
            # The right key opens it (so the refusals above were about the key alone).
            assert (
                ArtifactStore(
                    server.url, stores=[server.url], known_hosts=str(server.known_hosts)
                ).pull("j")
                is None
            )
        finally:
            fsspec.config.conf.pop("sftp", None)
    finally:
        server.stop()


@pytest.mark.slow
def test_a_job_resumes_on_another_box_from_the_store_and_its_adapter_answers(
    cluster, remote, tiny_model_dir, tmp_path
):
    app = cluster.app
    known_hosts = _known_hosts(remote)
    worker_a = cluster.start_worker(
        "gpu", "--queues", "train", box="a", WM_HOME=str(tmp_path / "home-a"), **remote.env()
    )
    job_id = jobs.submit_train(
        app,
        data=str(write_train_file(tmp_path / "train.jsonl")),
        base=str(tiny_model_dir),
        config=train_config(max_steps=12, checkpoint_every=2),
        artifacts=remote.url,
    )
    wait_for(lambda: jobs.status(app, job_id)["state"] == "PROGRESS", 90, "training on a")
    # Box b (its own home: it cannot see a's staging folder) starts while a trains.
    home_b = tmp_path / "home-b"
    worker_b = cluster.start_worker(
        "gpu",
        box="b",
        wait=False,
        WM_HOME=str(home_b),
        **generation_worker_env(tiny_model_dir),
        **remote.env(),
    )
    sandbox = cluster.start_worker("sandbox", box="b", wait=False)
    fs, root = open_store(f"{remote.url}/{job_id}/checkpoints", known_hosts=known_hosts)

    def in_store() -> list[str]:
        fs.invalidate_cache()  # s3fs caches listings; another process writes this store
        if not fs.exists(root):
            return []
        names = [p.rstrip("/").rsplit("/", 1)[1] for p in fs.ls(root)]
        return [n for n in names if fs.exists(f"{root}/{n}/state.json")]

    wait_for(in_store, 90, "a checkpoint in the store")
    worker_a.stop(timeout_s=60)  # SIGTERM: checkpoint, push, hand the job back
    assert worker_a.proc.returncode == 0
    handed_back = sorted(in_store())
    assert handed_back and jobs.status(app, job_id)["state"] != "SUCCESS"
    cluster.wait_ready(worker_b)
    cluster.wait_ready(sandbox)

    summary = jobs.result(app, job_id, wait=True, timeout_s=90)
    assert summary["worker"] == worker_b.name
    assert summary["pulled_checkpoint"] == handed_back[-1]
    assert summary["resumed_from"] == int(handed_back[-1].split("-")[1])
    assert summary["steps"] == 12 and not summary["interrupted"]
    assert summary["adapter"] == f"{remote.url}/{job_id}/adapter"
    log_b = worker_b.log.read_text()
    assert f"pulled checkpoint {handed_back[-1]} of job {job_id}" in log_b
    assert f"resuming from {home_b / 'runs' / 'jobs' / job_id / 'checkpoints'}" in log_b

    query = jobs.submit_query(app, QUESTION, adapter=summary["adapter"])
    answer = jobs.result(app, query, wait=True, timeout_s=60)
    assert answer["adapter"] == summary["adapter"]
    assert answer["workers"]["generate"] == worker_b.name
    downloaded = local_adapter(
        summary["adapter"], stores=[remote.url], known_hosts=known_hosts
    )  # this process's copy
    assert answer["generated"] == reference_completion(tiny_model_dir, downloaded, QUESTION)
    assert answer["generated"] != reference_completion(tiny_model_dir, None, QUESTION)
    cached = list((home_b / "cache" / "adapters").iterdir())
    assert len(cached) == 1 and (cached[0] / "adapter_config.json").is_file()


def test_the_adapter_cache_keeps_the_most_recently_used(tmp_path, monkeypatch):
    monkeypatch.setenv("WM_HOME", str(tmp_path / "home"))
    store = tmp_path / "store"
    for job in ("a", "b", "c"):
        (store / job / "adapter").mkdir(parents=True)
        (store / job / "adapter" / "adapter_config.json").write_text(f'{{"job": "{job}"}}')
    location = {job: f"file://{store}/{job}/adapter" for job in ("a", "b", "c")}
    fetched = {
        job: local_adapter(location[job], stores=[f"file://{store}"], keep=2) for job in ("a", "b")
    }
    cache = fetched["a"].parent
    # "a" was used last long ago, "b" an hour ago; using "a" again makes it the most recent.
    os.utime(fetched["a"], (1, 1))
    os.utime(fetched["b"], (time.time() - 3600,) * 2)
    assert local_adapter(location["a"], stores=[f"file://{store}"], keep=2) == fetched["a"]
    (cache / ".tmp-killed-download").mkdir()
    os.utime(cache / ".tmp-killed-download", (1, 1))
    (cache / ".tmp-download-in-progress").mkdir()

    fetched["c"] = local_adapter(
        location["c"], stores=[f"file://{store}"], keep=2
    )  # a third: "b" is the one to go
    assert sorted(p.name for p in cache.iterdir()) == sorted(
        [fetched["a"].name, fetched["c"].name, ".tmp-download-in-progress"]
    )
    assert (fetched["a"] / "adapter_config.json").read_text() == '{"job": "a"}'
    # An adapter used within the grace period stays even beyond `keep`.
    assert prune_adapter_cache(cache, keep=0) == []
    assert prune_adapter_cache(cache, keep=1, grace_s=0) == [fetched["a"]]
