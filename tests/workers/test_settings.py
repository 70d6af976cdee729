"""Worker settings, Celery config, routes, batching and the artifact store, without Redis."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from workers.artifacts import ArtifactStore
from workers.batching import Batcher
from workers.routes import ordered_queues, step_options
from workers.settings import celery_config, load_settings, redact
from worldmodel.errors import ConfigError

GOOD = {"WM_BROKER_URL": "redis://:secret@10.0.0.5:6379/0"}


def test_settings_come_from_the_environment_over_a_yaml_file(tmp_path: Path):
    config = tmp_path / "workers.yaml"
    config.write_text("batch_size: 3\nsandbox_backend: process\n")
    settings = load_settings(GOOD | {"WM_WORKERS_CONFIG": str(config), "WM_BATCH_SIZE": "5"})
    assert settings.generation.batch_size == 5  # env beats the file
    assert settings.sandbox_backend == "process"  # the file beats the default
    assert settings.results == GOOD["WM_BROKER_URL"]


def test_every_problem_is_reported_at_once_naming_the_setting():
    with pytest.raises(ConfigError) as caught:
        load_settings(
            {
                "WM_BROKER_URL": "redis://127.0.0.1:6379/0",
                "WM_BATCH_SIZE": "zero",
                "WM_VISIBILITY_TIMEOUT_S": "100",
                "WM_SANDBOX_BACKEND": "docker",
                "WM_ADAPTER_CACHE_KEEP": "2",
            }
        )
    message = str(caught.value)
    assert "has no password" in message
    assert "WM_BATCH_SIZE: expected an integer" in message
    assert "visibility_timeout_s: 100 must exceed the longest time limit" in message
    assert "sandbox_backend: must be vm, process or host" in message
    assert "adapter_cache_keep: 2 must be at least warm_adapters (4)" in message


def test_no_password_is_accepted_only_when_allowed_explicitly():
    settings = load_settings(
        {"WM_BROKER_URL": "redis://127.0.0.1:6379/0", "WM_ALLOW_NO_PASSWORD": "1"}
    )
    assert settings.broker_url == "redis://127.0.0.1:6379/0"


def test_redact_hides_the_password():
    assert redact("redis://:s3cret@host:6379/0") == "redis://:***@host:6379/0"
    assert redact("rediss://user:s3cret@host:6379/0") == "rediss://user:***@host:6379/0"


def test_celery_config_is_json_only_late_ack_and_limits_stay_below_visibility():
    settings = load_settings(GOOD)
    config = celery_config(settings)
    assert config["accept_content"] == ["json"] and config["task_serializer"] == "json"
    assert config["result_accept_content"] == ["json"]
    assert config["task_acks_late"] and config["task_reject_on_worker_lost"]
    assert config["worker_prefetch_multiplier"] == 1
    visibility = config["broker_transport_options"]["visibility_timeout"]
    assert config["result_backend_transport_options"]["visibility_timeout"] == visibility
    for limits in config["task_annotations"].values():
        assert limits["soft_time_limit"] < limits["time_limit"] < visibility


def test_interactive_steps_outrank_batch_steps():
    assert step_options("wm.generate", "interactive") == {"queue": "generate", "priority": 0}
    assert step_options("wm.generate", "batch") == {"queue": "generate-batch", "priority": 6}
    assert step_options("wm.sandbox", "batch") == {"queue": "sandbox", "priority": 6}
    assert ordered_queues(["train", "generate-batch", "generate"], ()) == [
        "generate",
        "generate-batch",
        "train",
    ]


class _Recorder:
    def __init__(self, delay: float = 0.0):
        self.calls: list[tuple[list[str], str]] = []
        self.delay = delay

    def complete(self, questions, prefixes=None, *, stop_at="end"):
        self.calls.append((list(questions), stop_at))
        time.sleep(self.delay)
        return [
            f"{stop_at}:{q}:{(prefixes or [''] * len(questions))[i]}"
            for i, q in enumerate(questions)
        ]


def test_batcher_generates_waiting_questions_together_and_returns_each_its_own():
    recorder = _Recorder(delay=0.2)
    batcher = Batcher(recorder, max_batch=4, max_wait_s=0.05)
    results: dict[str, str] = {}

    def ask(question: str, stop_at: str = "end", prefix: str = "") -> None:
        results[question] = batcher.complete(question, prefix, stop_at=stop_at, timeout_s=10)

    threads = [threading.Thread(target=ask, args=(f"q{n}",)) for n in range(6)]
    threads.append(threading.Thread(target=ask, args=("r", "requires")))
    threads.append(threading.Thread(target=ask, args=("p", "end", "PRE")))
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results["q3"] == "end:q3:" and results["r"] == "requires:r:"
    assert results["p"] == "end:p:PRE"
    sizes = [len(questions) for questions, _ in recorder.calls]
    assert sum(sizes) == 8 and max(sizes) > 1 and max(sizes) <= 4
    # A batch never mixes stop conditions: the one "stop after </requires>" went on its own.
    assert [questions for questions, stop in recorder.calls if stop == "requires"] == [["r"]]


def test_batcher_keeps_each_adapter_in_its_own_forward_pass():
    calls: list[tuple[list[str], str]] = []

    class Recorder:
        def complete(self, questions, prefixes=None, *, stop_at="end", **chosen):
            # No adapter asked for: no `adapter` argument at all (plain completers serve it).
            calls.append((sorted(questions), chosen.get("adapter", "<no argument>")))
            return [f"{q}@{chosen.get('adapter')}" for q in questions]

    batcher = Batcher(Recorder(), max_batch=8, max_wait_s=0.3)
    asked = {"q1": None, "q2": "/a", "q3": "/a", "q4": "/b"}
    results: dict[str, str] = {}

    def ask(question: str) -> None:
        results[question] = batcher.complete(question, adapter=asked[question], timeout_s=10)

    threads = [threading.Thread(target=ask, args=(q,)) for q in asked]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == {"q1": "q1@None", "q2": "q2@/a", "q3": "q3@/a", "q4": "q4@/b"}
    # However the four were split into batches, no forward pass mixed adapters.
    for questions, adapter in calls:
        assert {asked[q] or "<no argument>" for q in questions} == {adapter}


def test_batcher_samples_a_voting_querys_candidates_together_apart_from_greedy_ones():
    calls: list[tuple[list[str], object]] = []

    class Recorder:
        def complete(self, questions, prefixes=None, *, stop_at="end", **chosen):
            # No temperature asked for: no `temperature` argument (plain completers serve it).
            calls.append((list(questions), chosen.get("temperature", "<no argument>")))
            return [f"{q}@{chosen.get('temperature')}" for q in questions]

    batcher = Batcher(Recorder(), max_batch=8, max_wait_s=0.3)
    items = [batcher.submit("v"), *(batcher.submit("v", temperature=0.7) for _ in range(3))]
    items.append(batcher.submit("other"))
    assert [batcher.wait(item, 10) for item in items] == ["v@None"] + ["v@0.7"] * 3 + ["other@None"]
    assert sorted(calls, key=str) == [(["v", "other"], "<no argument>"), (["v"] * 3, 0.7)]


def test_batcher_hands_a_generation_error_to_every_waiting_caller():
    class Broken:
        def complete(self, questions, prefixes=None, *, stop_at="end"):
            raise RuntimeError("out of GPU memory")

    batcher = Batcher(Broken(), max_batch=2, max_wait_s=0.0)
    with pytest.raises(RuntimeError, match="out of GPU memory"):
        batcher.complete("q", timeout_s=5)


def test_one_failing_question_fails_alone_and_the_rest_of_its_batch_is_answered():
    calls: list[list[str]] = []

    class Picky:  # rejects a whole call that holds the bad question, as a tokenizer would
        def complete(self, questions, prefixes=None, *, stop_at="end"):
            calls.append(list(questions))
            if "bad" in questions:
                raise ValueError("the tokenizer rejects question 'bad'")
            return [f"answer to {q}" for q in questions]

    batcher = Batcher(Picky(), max_batch=3, max_wait_s=5.0)  # all three in one batch
    items = [batcher.submit(q) for q in ("first", "bad", "third")]
    assert batcher.wait(items[0], 10) == "answer to first"
    with pytest.raises(ValueError, match="rejects question 'bad'"):
        batcher.wait(items[1], 10)
    assert batcher.wait(items[2], 10) == "answer to third"
    assert calls == [["first", "bad", "third"], ["first"], ["bad"], ["third"]]
    assert batcher.complete("later", timeout_s=10) == "answer to later"  # the loop goes on


def test_training_steps_aside_for_a_waiting_batch():
    recorder = _Recorder()
    batcher = Batcher(recorder, max_batch=2, max_wait_s=0.0)
    batcher.gate.acquire_for_training()
    answered: list[str] = []
    waiter = threading.Thread(target=lambda: answered.append(batcher.complete("q", timeout_s=5)))
    waiter.start()
    time.sleep(0.2)
    assert answered == []  # the GPU is busy training
    batcher.gate.yield_to_generation()  # what training does after each optimizer step
    waiter.join(5)
    assert answered == ["end:q:"]
    batcher.gate.release_for_training()


def test_mirrored_artifact_store_pushes_complete_checkpoints_and_pulls_the_newest(tmp_path):
    remote = tmp_path / "remote"
    store = ArtifactStore(f"file://{remote}", stores=[f"file://{remote}"])
    run = store.run_dir("job1")
    for step in (2, 4):
        folder = run / "checkpoints" / f"step-{step:07d}"
        (folder / "adapter").mkdir(parents=True)
        (folder / "adapter" / "weights.bin").write_bytes(b"w" * step)
        (folder / "state.json").write_text(f'{{"step": {step}}}')
    (run / "checkpoints" / ".tmp-step-0000006").mkdir()  # a half-written one stays local
    store.push("job1")
    names = sorted(p.name for p in (remote / "job1" / "checkpoints").iterdir())
    assert names == ["step-0000002", "step-0000004"]
    assert (remote / "job1/checkpoints/step-0000004/adapter/weights.bin").read_bytes() == b"w" * 4

    # Another box (another home) resumes from the newest checkpoint in the store.
    other = ArtifactStore(f"file://{remote}", stores=[f"file://{remote}"])
    other.run_dir = lambda job: tmp_path / "other-box" / job  # type: ignore[method-assign]
    assert other.pull("job1") == "step-0000004"
    pulled = tmp_path / "other-box/job1/checkpoints/step-0000004"
    assert (pulled / "state.json").read_text() == '{"step": 4}'
    assert (pulled / "adapter" / "weights.bin").read_bytes() == b"w" * 4


def test_local_artifact_store_is_used_in_place(tmp_path):
    store = ArtifactStore(str(tmp_path / "shared"), stores=[])
    assert store.run_dir("j") == tmp_path / "shared" / "j"
    assert store.pull("j") is None
    assert store.location("j") == str(tmp_path / "shared" / "j")


def test_settling_refuses_a_kombu_without_the_internals_it_uses(monkeypatch) -> None:
    from kombu.transport import redis as kombu_redis

    from workers import transport

    monkeypatch.setattr(kombu_redis.Channel, "QoS", kombu_redis.Channel.QoS)  # restored after
    monkeypatch.delattr(kombu_redis.Channel, "_do_restore_message")
    with pytest.raises(RuntimeError, match=r"Channel\._do_restore_message"):
        transport.install()


def test_generation_settings_are_one_generation_config_validated_by_it(tmp_path: Path):
    from worldmodel.generate import GenerationConfig

    config = tmp_path / "workers.yaml"
    config.write_text("max_new_tokens: 64\nloop_guard: 'false'\nrocm_env: {HSA_ENABLE_SDMA: '0'}\n")
    env = GOOD | {"WM_WORKERS_CONFIG": str(config), "WM_THINK_BUDGET": "32"}
    settings = load_settings(env)
    assert settings.generation == GenerationConfig(
        max_new_tokens=64, loop_guard=False, think_budget=32, rocm_env={"HSA_ENABLE_SDMA": "0"}
    )
    # The checks are GenerationConfig's own, named as settings.
    with pytest.raises(ConfigError) as caught:
        load_settings(GOOD | {"WM_TOP_P": "1.5", "WM_MAX_NEW_TOKENS": "0"})
    expected = [f"generation.{p}" for p in GenerationConfig(top_p=1.5, max_new_tokens=0).problems()]
    assert all(problem in str(caught.value) for problem in expected) and len(expected) == 2


def test_every_yaml_value_is_checked_against_its_type(tmp_path: Path):
    config = tmp_path / "workers.yaml"
    config.write_text(
        "allow_no_password: 'false'\nbatch_size: [4]\nheartbeat_ttl_s: true\nthreads: none\n"
        "generation: {batch_size: 2}\n"
    )
    with pytest.raises(ConfigError) as caught:
        load_settings(
            {"WM_BROKER_URL": "redis://127.0.0.1:6379/0", "WM_WORKERS_CONFIG": str(config)}
        )
    message = str(caught.value)
    # 'false' as text is false: the password rule still holds.
    assert "has no password" in message
    assert "batch_size: expected an integer, got [4]" in message
    assert "heartbeat_ttl_s: expected a number, got True" in message
    assert "generation: unknown setting" in message
    assert "threads" not in message  # 'none' is the unset value of an optional number


def test_a_worker_on_defaults_resolves_model_adapter_and_mode_as_wm_query_does():
    from workers.worker import worker_choice
    from worldmodel.model.defaults import NO_ADAPTER, resolve_model

    settings = load_settings(GOOD)
    assert (settings.model, settings.adapter, settings.mode) == ("", "", "")
    assert worker_choice(settings) == resolve_model(None, None, None)
    bare = load_settings(GOOD | {"WM_ADAPTER": NO_ADAPTER, "WM_MODE": "plain"})
    assert worker_choice(bare).adapter_dir is None and worker_choice(bare).mode == "plain"
