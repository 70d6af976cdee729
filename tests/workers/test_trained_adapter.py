"""Train through the queues, then answer through the queues with the adapter that training made.

A random-weight tiny model cannot write the answer format, so nothing here checks answers for
correctness. What is checked is that the adapter was really used: the worker's text equals what
an in-process `worldmodel.generate.Generator` writes greedily with the same base and adapter,
and differs from what the base alone writes (also checked through the same worker, which must
switch the adapter off again for a query that names none).
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from harness import WM
from tiny_training import (
    QUESTION,
    generation_worker_env,
    reference_completion,
    train_config,
    write_train_file,
)

from workers import jobs

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def _wm(cluster, *args: str, timeout: float = 150) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [WM, *args], env=cluster.env(), capture_output=True, text=True, timeout=timeout
    )


def test_submit_train_then_submit_query_answers_with_the_trained_adapter(
    cluster, tiny_model_dir, tmp_path
):
    # One generation worker with the REAL generator does both: it trains (train queue) and
    # answers (generate queue), as a single-GPU box does.
    worker = cluster.start_worker("gpu", box="a", **generation_worker_env(tiny_model_dir))
    cluster.start_worker("sandbox", box="a")
    store = tmp_path / "store"
    config = tmp_path / "train.yaml"
    config.write_text(json.dumps(train_config(max_steps=4, checkpoint_every=2)))
    submitted = _wm(
        cluster,
        "submit-train",
        "--data",
        str(write_train_file(tmp_path / "train.jsonl")),
        "--base",
        str(tiny_model_dir),
        "--config",
        str(config),
        "--artifacts",
        str(store),
        "--json",
    )
    assert submitted.returncode == 0, submitted.stderr
    train_id = json.loads(submitted.stdout)["job_id"]
    finished = _wm(cluster, "result", train_id, "--wait", "--timeout", "120", "--json")
    assert finished.returncode == 0, finished.stderr
    summary = json.loads(finished.stdout)
    assert summary["steps"] == 4 and not summary["interrupted"]
    adapter = summary["adapter"]
    assert adapter == str(store / train_id / "adapter")
    assert (Path(adapter) / "adapter_config.json").is_file()

    answered = _wm(cluster, "submit-query", QUESTION, "--adapter", adapter, "--wait", "--json")
    assert answered.returncode == 0, answered.stderr
    answer = json.loads(answered.stdout)
    assert answer["adapter"] == adapter
    assert answer["workers"]["generate"] == worker.name

    with_adapter = reference_completion(tiny_model_dir, Path(adapter), QUESTION)
    base_alone = reference_completion(tiny_model_dir, None, QUESTION)
    assert with_adapter != base_alone, "4 training steps did not change the greedy text"
    assert answer["generated"] == with_adapter

    # The same worker, asked without an adapter, answers with the base alone again; asked with
    # the adapter once more, it uses the copy it loaded the first time.
    plain_id = jobs.submit_query(cluster.app, QUESTION)
    plain = jobs.result(cluster.app, plain_id, wait=True, timeout_s=60)
    assert plain["adapter"] is None and plain["generated"] == base_alone
    again = jobs.submit_query(cluster.app, QUESTION, adapter=adapter)
    assert jobs.result(cluster.app, again, wait=True, timeout_s=60)["generated"] == with_adapter
    info = {w["name"]: w for w in jobs.workers(cluster.app)}[worker.name]
    assert info["warm_adapters"] == [str(Path(adapter).resolve())] and info["adapter_loads"] == 1


def test_submit_query_refuses_a_local_folder_that_is_not_an_adapter(cluster, tmp_path):
    not_adapter = tmp_path / "run"
    not_adapter.mkdir()  # e.g. a training run folder instead of its adapter/ inside
    refused = _wm(cluster, "submit-query", QUESTION, "--adapter", str(not_adapter))
    assert refused.returncode == 2
    assert "adapter_config.json" in refused.stderr
    assert cluster.redis.client().dbsize() == 0  # nothing was submitted
