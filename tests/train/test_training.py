"""LoRA training on a tiny random Qwen3: what trains, what stays frozen, and exact resume."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from worldmodel.errors import ConfigError, ModelNotFoundError
from worldmodel.train.trainer import train

# Each test trains a (tiny) model for a few steps: ~5-20 s on a shared 2-core machine.
pytestmark = pytest.mark.slow


def _metric_lines(run: Path) -> list[dict]:
    lines = [json.loads(x) for x in (run / "metrics.jsonl").read_text().splitlines()]
    for line in lines:
        line.pop("tokens_per_s", None)  # wall-clock dependent
    return lines


def test_lora_trains_adapter_and_leaves_base_weights_alone(
    tiny_model_dir, tiny_train_config, base_parameters, tmp_path
):
    base = load_file(str(tiny_model_dir / "model.safetensors"))
    seen: dict = {}
    result = train(
        tiny_train_config(tmp_path / "run", max_steps=3),
        on_finish=lambda model: seen.update(model=model),
    )
    assert result.steps == 3 and not result.interrupted
    model = seen["model"]
    trained = {n: p for n, p in model.named_parameters() if p.requires_grad}
    assert trained and all("lora_" in n for n in trained)
    frozen = base_parameters(model)
    for name, original in base.items():
        assert torch.equal(frozen[name], original), name
    adapter = load_file(str(Path(result.adapter_dir) / "adapter_model.safetensors"))
    lora_b = [t for n, t in adapter.items() if "lora_B" in n]
    assert lora_b and all(t.abs().sum() > 0 for t in lora_b)  # B starts at zero
    assert not any("lora_" not in n for n in adapter)  # the adapter holds no base weights
    assert (tmp_path / "run" / "adapter" / "adapter_config.json").is_file()
    assert result.val_losses and result.val_losses[0] > 0


def test_killed_run_resumes_bit_for_bit(tiny_train_config, tmp_path):
    straight = tiny_train_config(tmp_path / "straight", max_steps=4)
    train(straight)

    class Killed(Exception):
        pass

    def kill_at_three(step: int) -> bool:
        if step == 3:  # after step 3's update, before its (off-interval) checkpoint
            raise Killed
        return False

    interrupted = tiny_train_config(tmp_path / "resumed", max_steps=4)
    with pytest.raises(Killed):
        train(interrupted, should_stop=kill_at_three)
    checkpoints = sorted(p.name for p in (tmp_path / "resumed" / "checkpoints").iterdir())
    assert checkpoints == ["step-0000002"]  # the kill lost less than one interval
    with pytest.raises(ConfigError, match="--resume"):
        train(interrupted)
    result = train(tiny_train_config(tmp_path / "resumed", max_steps=4, resume=True))
    assert result.resumed_from == 2 and result.steps == 4

    a = load_file(str(tmp_path / "straight" / "adapter" / "adapter_model.safetensors"))
    b = load_file(str(tmp_path / "resumed" / "adapter" / "adapter_model.safetensors"))
    assert a.keys() == b.keys()
    for name in a:
        assert torch.equal(a[name], b[name]), name
    # Same batches in the same order, same losses, step for step (and the lines written by
    # the killed attempt after its last checkpoint are gone).
    assert _metric_lines(tmp_path / "straight") == _metric_lines(tmp_path / "resumed")
    assert [m["step"] for m in _metric_lines(tmp_path / "resumed") if "loss" in m] == [1, 2, 3, 4]


def test_resume_refuses_changed_settings(tiny_train_config, tmp_path):
    train(tiny_train_config(tmp_path / "run", max_steps=2))
    changed = tiny_train_config(tmp_path / "run", max_steps=2, learning_rate=5e-3, resume=True)
    with pytest.raises(ConfigError, match="learning_rate"):
        train(changed)


def test_a_finished_run_can_be_extended_in_the_same_data_order(tiny_train_config, tmp_path):
    straight = train(tiny_train_config(tmp_path / "straight", max_steps=4))
    assert straight.steps == 4
    train(tiny_train_config(tmp_path / "run", max_steps=2))
    with pytest.raises(ConfigError, match="at step 2, but max_steps: 2 -> 1 leaves only 1"):
        train(tiny_train_config(tmp_path / "run", max_steps=1, resume=True))
    longer = tiny_train_config(tmp_path / "run", max_steps=4, resume=True)
    result = train(longer)
    assert result.resumed_from == 2 and result.steps == 4 and result.total_steps == 4

    steps = [m for m in _metric_lines(tmp_path / "run") if "loss" in m]
    reference = [m for m in _metric_lines(tmp_path / "straight") if "loss" in m]
    assert [m["step"] for m in steps] == [1, 2, 3, 4]
    # The same batches in the same order as a run planned for 4 steps from the start...
    assert [m["data"] for m in steps] == [m["data"] for m in reference]
    # ...and from step 3 on, the 4-step schedule's rate (the 2-step one had decayed to 0).
    assert steps[1]["lr"] != reference[1]["lr"]
    assert steps[2]["lr"] == pytest.approx(reference[2]["lr"]) and steps[2]["lr"] > 0
    assert steps[3]["lr"] == pytest.approx(reference[3]["lr"])


def test_early_stopping_ends_the_run_when_validation_stops_improving(tiny_train_config, tmp_path):
    # A learning rate this small cannot improve the validation loss by 10 nats per epoch.
    config = tiny_train_config(
        tmp_path / "run",
        epochs=4,
        learning_rate=1e-9,
        early_stopping_patience=1,
        early_stopping_min_delta=10.0,
    )
    result = train(config)
    assert result.stopped_early
    assert len(result.val_losses) == 2 and result.steps == 4  # 2 epochs of 2 steps, not 4
    assert (tmp_path / "run" / "adapter" / "adapter_model.safetensors").is_file()


def test_init_adapter_starts_from_its_weights_and_refuses_one_that_does_not_fit(
    tiny_train_config, tmp_path
):
    first = train(tiny_train_config(tmp_path / "first", max_steps=2))
    trained = load_file(str(Path(first.adapter_dir) / "adapter_model.safetensors"))
    # A learning rate so small the weights barely move: the result must sit next to the
    # init adapter, not next to a fresh LoRA (whose B matrices start at zero).
    warm = {"learning_rate": 1e-9, "init_adapter": first.adapter_dir}
    result = train(tiny_train_config(tmp_path / "warm", max_steps=1, **warm))
    after = load_file(str(Path(result.adapter_dir) / "adapter_model.safetensors"))
    assert after.keys() == trained.keys()
    for name in trained:
        assert torch.allclose(after[name], trained[name], atol=1e-6), name
    started = json.loads((tmp_path / "warm" / "metrics.json").read_text())["started_from"]
    assert started["dir"] == str(Path(first.adapter_dir).resolve())
    assert len(started["sha256"]) == 64
    # A resumed run still names where its weights started, and does not load them again.
    longer = tiny_train_config(tmp_path / "warm", max_steps=2, resume=True, **warm)
    assert train(longer).resumed_from == 1
    assert json.loads((tmp_path / "warm" / "metrics.json").read_text())["started_from"] == started
    fresh = json.loads((tmp_path / "first" / "metrics.json").read_text())
    assert "started_from" not in fresh

    wrong_rank = tiny_train_config(
        tmp_path / "wrong",
        max_steps=1,
        lora_r=8,
        init_adapter=first.adapter_dir,
    )
    with pytest.raises(ConfigError, match="r: adapter has 4, run has 8"):
        train(wrong_rank)
    with pytest.raises(ModelNotFoundError, match=r"adapter directory .* does not exist"):
        train(tiny_train_config(tmp_path / "x", init_adapter="/nonexistent"))


def test_init_adapter_refuses_weights_that_leave_lora_layers_unfilled(tiny_train_config, tmp_path):
    partial = train(tiny_train_config(tmp_path / "partial", max_steps=1, lora_targets=["q_proj"]))
    # Its config claims every target, but its weights hold q_proj's only.
    adapter = Path(partial.adapter_dir)
    claimed = json.loads((adapter / "adapter_config.json").read_text())
    claimed["target_modules"] = ["q_proj", "v_proj"]
    (adapter / "adapter_config.json").write_text(json.dumps(claimed))
    run = tiny_train_config(
        tmp_path / "run",
        max_steps=1,
        lora_targets=["q_proj", "v_proj"],
        init_adapter=str(adapter),
    )
    with pytest.raises(ConfigError, match=r"LoRA weights would stay untrained, e\.g\. \[.*v_proj"):
        train(run)
