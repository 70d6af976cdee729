"""Fixtures of the training tests: a small LoRA run on the shared tiny Qwen3.

Every test here trains or tokenizes with torch and transformers (the `model` extra), so the
folder is skipped without them. The tiny model, the tokenizer and the chat records are shared
with other folders and live in tests/conftest.py.
"""

from __future__ import annotations

from pathlib import Path

import pytest

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")


TINY_TRAINING = {
    "max_seq_len": 200,  # two examples per row: two steps per epoch
    "batch_size": 2,
    "epochs": 2,
    "learning_rate": 1e-2,
    "lora_r": 4,
    "lora_alpha": 8,
    "lora_dropout": 0.1,  # dropout draws random numbers: resume must restore them
    "checkpoint_every": 2,
    "threads": 1,
    "progress": False,
}


@pytest.fixture()
def tiny_train_config(tiny_model_dir: Path, tiny_dataset: tuple[Path, Path]):
    """tiny_train_config(out, **settings): a TrainConfig for the tiny model on `tiny_dataset`
    that writes its run into `out`; `settings` override TINY_TRAINING (device="cuda", ...)."""
    from worldmodel.train.config import build_config

    train_file, val_file = tiny_dataset

    def make(out: Path, **extra):
        settings = {
            "model": str(tiny_model_dir),
            "train_file": str(train_file),
            "validation_file": str(val_file),
            "output_dir": str(out),
            **TINY_TRAINING,
        }
        return build_config(settings | extra)

    return make


@pytest.fixture()
def base_parameters():
    """base_parameters(peft_model): its frozen (non-LoRA) tensors under the base model's own
    names, to compare with the saved base weights."""

    def view(model) -> dict:
        return {
            n.replace("base_model.model.", "").replace(".base_layer", ""): p.detach()
            for n, p in model.named_parameters()
            if "lora_" not in n
        }

    return view
