"""Training config: precedence, every problem reported at once, and device choices."""

from __future__ import annotations

from pathlib import Path

import pytest

from worldmodel.errors import ConfigError
from worldmodel.model import device
from worldmodel.train.config import build_config, field_help, load_yaml, parse_overrides


def test_yaml_then_cli_overrides_win(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text("learning_rate: 1e-4\nepochs: 5\nlora_targets: [q_proj, v_proj]\n")
    config = build_config(load_yaml(path), parse_overrides(["epochs=2", "threads=1"]))
    assert config.learning_rate == 1e-4 and config.epochs == 2 and config.threads == 1
    assert config.lora_targets == ["q_proj", "v_proj"]
    assert config.max_seq_len == 1024  # untouched default


def test_every_problem_is_reported_at_once() -> None:
    with pytest.raises(ConfigError) as caught:
        build_config(
            {
                "epochs": 0,
                "learning_rate": "fast",
                "lora_dropout": 1.5,
                "colour": "red",
                "device": "tpu",
                "plain_share": 0.5,
            }
        )
    message = str(caught.value)
    for setting in (
        "epochs",
        "learning_rate",
        "lora_dropout",
        "colour: unknown",
        "device",
        "plain_share: only means something with with_output",
    ):
        assert setting in message


def test_every_field_has_help() -> None:
    assert all(text.strip() for text in field_help().values())


def test_device_choice_is_explicit(monkeypatch: pytest.MonkeyPatch) -> None:
    import torch

    assert device.resolve_device("cpu").type == "cpu"
    assert device.resolve_dtype("auto", torch.device("cpu")) == torch.float32
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert device.resolve_device("auto").type == "cpu"
    with pytest.raises(ConfigError, match="no GPU"):
        device.resolve_device("cuda")
    with pytest.raises(ConfigError, match="not one of"):
        device.resolve_device("gpu")


def test_cpu_bf16_warns_only_without_native_support(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    import torch

    cpu = torch.device("cpu")
    monkeypatch.setattr(device, "cpu_has_native_bf16", lambda: True)
    with caplog.at_level("WARNING"):
        assert device.resolve_dtype("bf16", cpu) == torch.bfloat16
    assert not caplog.records
    monkeypatch.setattr(device, "cpu_has_native_bf16", lambda: False)
    with caplog.at_level("WARNING"):
        assert device.resolve_dtype("bf16", cpu) == torch.bfloat16
    assert "without native bf16" in caplog.text


def test_rocm_env_comes_from_config(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HSA_OVERRIDE_GFX_VERSION", raising=False)
    monkeypatch.delenv("PYTORCH_ROCM_ARCH", raising=False)
    applied = device.apply_rocm_env(
        {"HSA_OVERRIDE_GFX_VERSION": "9.0.6", "PYTORCH_ROCM_ARCH": "gfx906"}
    )
    import os

    assert os.environ["HSA_OVERRIDE_GFX_VERSION"] == "9.0.6"
    assert applied == {"HSA_OVERRIDE_GFX_VERSION": "9.0.6", "PYTORCH_ROCM_ARCH": "gfx906"}
    with pytest.raises(ConfigError, match="LD_PRELOAD"):
        device.apply_rocm_env({"LD_PRELOAD": "x"})


TRAIN_CONFIGS = Path(__file__).parents[2] / "configs"


@pytest.mark.parametrize(
    "path", sorted([*TRAIN_CONFIGS.glob("smollm2-*.yaml"), *TRAIN_CONFIGS.glob("qwen3-*.yaml")])
)
def test_shipped_configs_are_valid_and_name_their_command(path: Path) -> None:
    build_config(load_yaml(path))  # raises on any problem
    assert "wm train --config configs/" + path.name in path.read_text()


def test_resume_allows_a_moved_run_folder_but_not_changed_training_settings():
    # Where the run folder is does not change the math: a job resumed on another box trains in
    # that box's staging folder (workers.artifacts). What it trains with must stay the same.
    from worldmodel.train.config import resume_conflicts

    saved = build_config({"output_dir": "/box-a/runs/job", "run_name": "a"}).to_dict()
    moved = build_config({"output_dir": "/box-b/runs/job", "run_name": "b"})
    assert resume_conflicts(saved, moved) == []
    changed = build_config({"output_dir": "/box-b/runs/job", "learning_rate": 5e-3})
    assert [c.split(":")[0] for c in resume_conflicts(saved, changed)] == ["learning_rate"]
