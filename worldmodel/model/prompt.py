"""The prompt a model continues, built one way for training and generation alike.

What the model learns to continue is exactly what it is later asked to continue:

    prompt  = chat_template(messages before the answer, add_generation_prompt=True)
    then    = an assistant-side prefix, appended as text (generation: "" or, in the
              after-execution mode, the response so far with its `<output>` block)

`worldmodel.train.tokenization` puts the assistant's answer and the end-of-turn marker
(`end_of_turn`) after the prompt; `worldmodel.generate` generates from it.

The thinking switch (Qwen3, deliberate): we pass `enable_thinking=True`. With Qwen3's template
that leaves the generation prompt ending at `<|im_start|>assistant\\n`; with
`enable_thinking=False` the template would inject an empty `<think>\\n\\n</think>\\n\\n` before our
own `<think>` block. Our responses carry their own `<think>` block, so the model's first
generated token opens it. Templates without the switch ignore the keyword.

This module does not tokenize answers or build labels (see `worldmodel.train.tokenization`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from transformers import PreTrainedTokenizerBase

TEMPLATE_KWARGS: dict[str, Any] = {"enable_thinking": True}
"""Extra chat-template variables used by both training and generation (see module docstring)."""

_SENTINEL = "\u2063WM-END-OF-TURN-PROBE\u2063"


def render_prompt(tokenizer: PreTrainedTokenizerBase, messages: Sequence[Mapping[str, str]]) -> str:
    """The chat-template text for `messages`, ending where the assistant starts writing."""
    text = tokenizer.apply_chat_template(
        [dict(m) for m in messages], tokenize=False, add_generation_prompt=True, **TEMPLATE_KWARGS
    )
    return str(text)


def prompt_ids(tokenizer: PreTrainedTokenizerBase, question: str, prefix: str = "") -> list[int]:
    """Token ids of the prompt for one user question, plus an assistant-side `prefix`."""
    ids = encode_text(tokenizer, render_prompt(tokenizer, [{"role": "user", "content": question}]))
    return ids + (encode_text(tokenizer, prefix) if prefix else [])


def end_of_turn(tokenizer: PreTrainedTokenizerBase) -> str:
    """The text the template writes after an assistant message, without trailing whitespace
    (for ChatML templates: `<|im_end|>`); the tokenizer's EOS if the template writes nothing."""
    text = str(
        tokenizer.apply_chat_template(
            [{"role": "user", "content": "?"}, {"role": "assistant", "content": _SENTINEL}],
            tokenize=False,
            **TEMPLATE_KWARGS,
        )
    )
    suffix = text[text.rindex(_SENTINEL) + len(_SENTINEL) :].rstrip()
    return suffix or str(tokenizer.eos_token)


def encode_text(tokenizer: PreTrainedTokenizerBase, text: str) -> list[int]:
    """Token ids of `text` as it stands, without special tokens added."""
    # Templates already contain any BOS they want; adding special tokens again would double it.
    return list(tokenizer(text, add_special_tokens=False)["input_ids"])
