"""The prompt a model continues: one builder, used by training and generation alike."""

from __future__ import annotations

import ast
from pathlib import Path

from worldmodel.model.prompt import end_of_turn, prompt_ids, render_prompt
from worldmodel.train.tokenization import encode_record

ROOT = Path(__file__).resolve().parents[2]


def test_qwen3_thinking_switch_injects_no_empty_think_block(qwen_tokenizer, make_record) -> None:
    text = render_prompt(qwen_tokenizer, [{"role": "user", "content": "hi"}])
    assert text.endswith("<|im_start|>assistant\n")
    assert "<think>" not in text
    # The record's own <think> block is the first thing the model writes, verbatim.
    example = encode_record(qwen_tokenizer, make_record("hi"))
    assert qwen_tokenizer.decode(example.input_ids).count("<think>") == 1


def test_the_prefix_follows_the_prompt_as_text(qwen_tokenizer) -> None:
    prompt = prompt_ids(qwen_tokenizer, "hi")
    prefixed = prompt_ids(qwen_tokenizer, "hi", "<think>Let me")
    assert prefixed[: len(prompt)] == prompt
    assert qwen_tokenizer.decode(prefixed[len(prompt) :]) == "<think>Let me"
    assert end_of_turn(qwen_tokenizer) == "<|im_end|>"


def test_generation_does_not_depend_on_training() -> None:
    """The generator builds its prompts from the model layer, so serving never imports the
    training code (not even inside a function)."""
    tree = ast.parse((ROOT / "worldmodel" / "generate.py").read_text())
    imported = [
        node.module if isinstance(node, ast.ImportFrom) else alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.Import | ast.ImportFrom)
        for alias in node.names
    ]
    assert "worldmodel.model.prompt" in imported
    assert not [name for name in imported if name and name.startswith("worldmodel.train")]
