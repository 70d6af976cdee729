"""`wm train` and `wm export --merge` end to end on the tiny model."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from click.testing import CliRunner

from worldmodel.cli import wm


def test_help_config_lists_every_setting() -> None:
    result = CliRunner().invoke(wm, ["train", "--help-config"])
    assert result.exit_code == 0
    assert "learning_rate" in result.output and "peak learning rate" in result.output


def test_bad_settings_fail_with_every_problem(tmp_path: Path) -> None:
    result = CliRunner().invoke(wm, ["train", "--epochs", "0", "--set", "lora_r=-1"])
    assert result.exit_code == 1
    assert "epochs" in result.output and "lora_r" in result.output


@pytest.mark.slow
def test_train_then_export_merged_model(tiny_model_dir, tiny_dataset, tmp_path: Path) -> None:
    from peft import PeftModel
    from transformers import AutoModelForCausalLM

    config = tmp_path / "c.yaml"
    config.write_text(
        "lora_r: 4\nlora_alpha: 8\nmax_seq_len: 200\nbatch_size: 2\nthreads: 1\n"
        "learning_rate: 1e-2\n"
    )
    train_file, val_file = tiny_dataset
    run = tmp_path / "run"
    result = CliRunner().invoke(
        wm,
        [
            "train",
            "--config",
            str(config),
            "--model",
            str(tiny_model_dir),
            "--train-file",
            str(train_file),
            "--validation-file",
            str(val_file),
            "--output-dir",
            str(run),
            "--max-steps",
            "2",
            "--no-progress",
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["steps"] == 2 and Path(summary["adapter_dir"]).is_dir()
    saved = json.loads((run / "config.json").read_text())
    assert saved["lora_r"] == 4 and saved["max_steps"] == 2  # YAML and flags both applied
    assert "wm train --config" in json.loads((run / "metrics.json").read_text())["command"]

    merged_dir = tmp_path / "merged"
    result = CliRunner().invoke(
        wm,
        [
            "export",
            "--merge",
            "--model",
            str(tiny_model_dir),
            "--adapter",
            summary["adapter_dir"],
            "--out",
            str(merged_dir),
        ],
    )
    assert result.exit_code == 0, result.output
    ids = torch.tensor([[1, 2, 3, 4, 5]])
    merged = AutoModelForCausalLM.from_pretrained(merged_dir).eval()
    base = AutoModelForCausalLM.from_pretrained(tiny_model_dir).eval()
    with torch.no_grad():
        merged_logits = merged(ids).logits
        base_logits = base(ids).logits
        peft_logits = PeftModel.from_pretrained(base, summary["adapter_dir"]).eval()(ids).logits
    torch.testing.assert_close(merged_logits, peft_logits, atol=1e-4, rtol=1e-4)
    assert not torch.allclose(merged_logits, base_logits, atol=1e-3)  # the adapter mattered
