"""What the adapter and artifact-store tests train: a few records and a small, fast config.

The base is the shared tiny random-weight Qwen3 (`tests/conftest.py`). Every record has the same
assistant text, so a few steps at a high learning rate move the LoRA weights far enough that
greedy generation with the adapter differs from the base model's (checked by the tests that rely
on it, never assumed).
"""

from __future__ import annotations

import json
from pathlib import Path

QUESTION = "What is 15% of 200?"
RESPONSE = (
    "<think>15% of 200 is 0.15 times 200.</think>\n<model>\nprint(0.15 * 200)\n</model>\n"
    "<requires>python:math</requires>\n\n15% of 200 is 30."
)
MAX_NEW_TOKENS = 24


def write_train_file(path: Path) -> Path:
    """Seven chat records in the training format; returns `path`."""
    records = [
        {
            "messages": [
                {"role": "user", "content": f"What is {p}% of {n}?"},
                {"role": "assistant", "content": RESPONSE},
            ],
            "output": "30.0",
        }
        for p, n in [(15, 200), (20, 50), (5, 80), (50, 6), (10, 10), (25, 40), (30, 90)]
    ]
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    return path


def train_config(**extra: object) -> dict[str, object]:
    """Short rows, one thread (the box has two cores), loss logged every step."""
    return {
        "max_seq_len": 200,
        "batch_size": 2,
        "epochs": 200,
        "learning_rate": 1e-2,
        "lora_r": 4,
        "lora_alpha": 8,
        "threads": 1,
        "log_every": 1,
        **extra,
    }


def reference_completion(model_dir: Path, adapter_dir: Path | None, question: str) -> str:
    """What an in-process `Generator` writes greedily for `question` (same settings as the
    generation workers of these tests: one question, `MAX_NEW_TOKENS`)."""
    from worldmodel.generate import GenerationConfig, Generator

    generator = Generator(
        model_dir, adapter_dir, config=GenerationConfig(max_new_tokens=MAX_NEW_TOKENS)
    )
    return generator.complete([question])[0]


def generation_worker_env(model_dir: Path) -> dict[str, str]:
    """Settings of a generation worker that runs the REAL generator on the tiny model."""
    return {
        "WM_COMPLETER": "workers.tasks.generate:model_completer",
        "WM_MODEL": str(model_dir),
        "WM_MAX_NEW_TOKENS": str(MAX_NEW_TOKENS),
        "HF_HUB_OFFLINE": "1",
    }
