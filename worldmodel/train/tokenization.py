"""Turn chat records into token ids and labels, with the model's own chat template.

An example is the prompt, then the target; loss falls on the target only:

    prompt  = the prompt generation uses too (`worldmodel.model.prompt.render_prompt`)
    target  = the assistant's content, verbatim, then the template's end-of-turn marker

The assistant content is appended as text rather than rendered by the template because some
templates rewrite it: Qwen3's template splits the last assistant turn at `</think>`, strips the
reasoning and re-inserts `<think>\\n...\\n</think>\\n\\n`, which would change our responses.

Labels: -100 (no loss) on every prompt token and, in the answer-after-execution variant, on the
`<output>` block, which the system inserts at run time and the model never writes; it is put
where the pipeline puts it, by the same function (`worldmodel.format.insert_output`). Loss falls
on the assistant's reasoning, code, requirements, prose answer and end-of-turn marker only.

This module does not batch or pack (see `packing`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from worldmodel.errors import DataError, FormatError
from worldmodel.format import insert_output
from worldmodel.model.prompt import encode_text, end_of_turn, render_prompt

if TYPE_CHECKING:
    from transformers import PreTrainedTokenizerBase

IGNORE_INDEX = -100
"""Label value that cross-entropy skips."""


@dataclass(frozen=True)
class Example:
    """One tokenized training example; `labels[i]` is the target for `input_ids[i]`
    (the model shifts them), IGNORE_INDEX where no loss is taken."""

    input_ids: list[int]
    labels: list[int]

    def __len__(self) -> int:
        return len(self.input_ids)

    @property
    def target_tokens(self) -> int:
        return sum(1 for label in self.labels if label != IGNORE_INDEX)


def encode_record(
    tokenizer: PreTrainedTokenizerBase,
    record: Mapping[str, Any],
    *,
    with_output: bool = False,
    eot: str | None = None,
) -> Example:
    """Tokenize one chat record: `messages` ending with the assistant's answer.

    `with_output` renders the answer-after-execution variant from the record's `output`.
    """
    messages = record.get("messages")
    if not isinstance(messages, list) or len(messages) < 2:
        raise DataError("record has no 'messages' list with a prompt and an answer")
    answer = messages[-1]
    if not isinstance(answer, Mapping) or answer.get("role") != "assistant":
        raise DataError("record's last message is not the assistant's answer")
    content = answer.get("content")
    if not isinstance(content, str) or not content:
        raise DataError("record's assistant message has no text content")
    masked_span = (0, 0)
    if with_output:
        output = record.get("output")
        if not isinstance(output, str):
            raise DataError("record has no 'output' string for the answer-after-execution variant")
        try:
            content, masked_span = insert_output(content, output)
        except FormatError as exc:
            raise DataError(f"record's answer: {exc.reason}") from exc
    prompt = encode_text(tokenizer, render_prompt(tokenizer, messages[:-1]))
    encoded = tokenizer(content, add_special_tokens=False, return_offsets_mapping=True)
    answer_ids: list[int] = list(encoded["input_ids"])
    answer_labels = [
        IGNORE_INDEX if masked_span[0] <= start < masked_span[1] else token
        for token, (start, _) in zip(answer_ids, encoded["offset_mapping"], strict=True)
    ]
    eot_ids = encode_text(tokenizer, eot if eot is not None else end_of_turn(tokenizer))
    input_ids = prompt + answer_ids + eot_ids
    labels = [IGNORE_INDEX] * len(prompt) + answer_labels + eot_ids
    return Example(input_ids=input_ids, labels=labels)
