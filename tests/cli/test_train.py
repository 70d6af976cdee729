"""`wm train`, `wm export --merge` and `wm export --package` end to end on the tiny model."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from worldmodel.cli.group import wm

torch = pytest.importorskip("torch")  # the `model` extra


def test_help_config_lists_every_setting() -> None:
    result = CliRunner().invoke(wm, ["train", "--help-config"])
    assert result.exit_code == 0
    assert "learning_rate" in result.output and "peak learning rate" in result.output


def test_bad_settings_fail_with_every_problem(tmp_path: Path) -> None:
    result = CliRunner().invoke(wm, ["train", "--epochs", "0", "--set", "lora_r=-1"])
    assert result.exit_code == 1
    assert "epochs" in result.output and "lora_r" in result.output


def test_a_missing_data_file_is_reported_before_any_model_is_loaded(
    tmp_path: Path, wm_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from worldmodel.model import bundled

    def no_conversion(*_: object, **__: object) -> None:
        raise AssertionError("the bundled model was converted before the data was checked")

    monkeypatch.setattr(bundled, "ensure_bundled_model", no_conversion)
    missing = tmp_path / "nowhere.jsonl"
    result = CliRunner().invoke(wm, ["train", "--model", "bundled", "--train-file", str(missing)])
    assert result.exit_code == 1, result.output
    assert f"data file {missing} does not exist" in result.output


def test_a_config_that_is_not_utf8_names_the_file_and_line(tmp_path: Path) -> None:
    config = tmp_path / "c.yaml"
    config.write_bytes(b"lora_r: 4\n# caf\xe9\n")
    result = CliRunner().invoke(wm, ["train", "--config", str(config)])
    assert result.exit_code == 1, result.output
    assert f"{config}:2: not UTF-8 text: byte 0xe9 at column 6" in result.output


@pytest.mark.slow
def test_train_then_export_merged_model_and_package(
    tiny_model_dir, tiny_dataset, tmp_path: Path, wm_home: Path
) -> None:
    from peft import PeftModel
    from safetensors.torch import load_file
    from transformers import AutoModelForCausalLM

    config = tmp_path / "c.yaml"
    config.write_text(
        "lora_r: 4\nlora_alpha: 8\nmax_seq_len: 200\nbatch_size: 2\nthreads: 1\n"
        "learning_rate: 1e-2\n"
    )
    train_file, val_file = tiny_dataset
    run = wm_home / "runs" / "tiny"
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

    # The package: fp16 weights that load with peft and give the same model, the run's config,
    # metrics and log beside them, nothing naming this machine's home; other files stay.
    package = tmp_path / "package"
    package.mkdir()
    (package / "README.md").write_text("kept")
    result = CliRunner().invoke(
        wm, ["export", "--package", str(run), "--out", str(package), "--json"]
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["dtype"] == "float16"
    weights = load_file(str(package / "adapter_model.safetensors"))
    trained = load_file(str(Path(summary["adapter_dir"]) / "adapter_model.safetensors"))
    assert weights.keys() == trained.keys()
    for name, tensor in weights.items():
        assert tensor.dtype == torch.float16
        torch.testing.assert_close(tensor.float(), trained[name], atol=1e-3, rtol=1e-3)
    assert (package / "README.md").read_text() == "kept"
    texts = {p.name: p.read_text() for p in package.iterdir() if p.suffix in {".json", ".jsonl"}}
    assert {"training-config.json", "training-metrics.json", "training-log.jsonl"} <= set(texts)
    assert not any(str(wm_home) in text for text in texts.values())
    assert json.loads(texts["training-config.json"])["output_dir"] == "<WM_HOME>/runs/tiny"
    metrics = json.loads(texts["training-metrics.json"])
    assert metrics["stored_as"] == "float16 (trained as float32)"
    assert "wm train --config" in metrics["command"]
    assert len(texts["training-log.jsonl"].splitlines()) >= 2
    base = AutoModelForCausalLM.from_pretrained(tiny_model_dir).eval()
    with torch.no_grad():
        packaged_logits = PeftModel.from_pretrained(base, package).eval()(ids).logits
    torch.testing.assert_close(packaged_logits, peft_logits, atol=1e-2, rtol=1e-2)

    unfinished = CliRunner().invoke(
        wm, ["export", "--package", str(tmp_path / "nothing"), "--out", str(tmp_path / "x")]
    )
    assert unfinished.exit_code == 1 and "holds no finished run" in unfinished.output
    both = CliRunner().invoke(
        wm, ["export", "--merge", "--package", str(run), "--out", str(tmp_path / "y")]
    )
    assert both.exit_code == 2 and "choose one of --merge" in both.output


def test_package_names_the_committed_adapter_by_its_repository_path(
    tmp_path: Path, wm_home: Path
) -> None:
    # A run that continued the committed adapter (init_adapter: bundled) records where its
    # weights started; the package writes that folder as its path in the repository, not as
    # this checkout's absolute path (nor the home's).
    from safetensors.torch import save_file

    from worldmodel.model.defaults import BUNDLED_ADAPTER_DIR
    from worldmodel.train.package import package_run

    run = wm_home / "runs" / "continued"
    (run / "adapter").mkdir(parents=True)
    save_file({"w": torch.ones(2, 2)}, str(run / "adapter" / "adapter_model.safetensors"))
    (run / "adapter" / "adapter_config.json").write_text(json.dumps({"r": 4}))
    (run / "config.json").write_text(json.dumps({"model": "x", "output_dir": str(run)}))
    started = {"dir": str(BUNDLED_ADAPTER_DIR), "sha256": "0" * 64}
    (run / "metrics.json").write_text(json.dumps({"started_from": started}))

    package_run(run, tmp_path / "package")

    metrics = json.loads((tmp_path / "package" / "training-metrics.json").read_text())
    assert metrics["started_from"]["dir"] == "worldmodel/resources/smollm2-adapter"
    config = json.loads((tmp_path / "package" / "training-config.json").read_text())
    assert config["output_dir"] == "<WM_HOME>/runs/continued"
