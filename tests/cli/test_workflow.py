"""`wm workflow`: every stage runs for real on a tiny model and leaves its files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from worldmodel.cli.group import wm


@pytest.mark.slow
def test_quick_workflow_builds_trains_evaluates_and_samples(
    tiny_model_dir: Path, tmp_path: Path
) -> None:
    out = tmp_path / "run"
    result = CliRunner().invoke(
        wm,
        [
            "workflow",
            "--preset",
            "quick",
            "--out",
            str(out),
            "--model",
            str(tiny_model_dir),
            "--per-template",
            "1",
            "--gsm8k-limit",
            "0",
            "--max-steps",
            "1",
            "--eval-limit",
            "2",
            "--max-new-tokens",
            "4",
            "--sandbox",
            "process",
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert list(summary["stages"]) == ["data", "train", "eval", "samples"]
    written = summary["stages"]["data"]["written"]
    assert written["train"] > 0 and written["test"] > 0
    assert (out / "data" / "train.jsonl").is_file()
    assert summary["stages"]["train"]["steps"] == 1
    assert (Path(summary["stages"]["train"]["adapter_dir"]) / "adapter_config.json").is_file()
    evaluation = json.loads((out / "eval.json").read_text())
    assert [r["mode"] for r in evaluation["reports"]] == ["plain", "after-execution"]
    assert all(r["count"] == 2 for r in evaluation["reports"])
    samples = json.loads((out / "samples.json").read_text())
    assert len(samples) == 3 and samples[0]["question"] == "What is 15% of 200?"
    assert (
        json.loads((out / "workflow.json").read_text())["stages"].keys() == summary["stages"].keys()
    )
