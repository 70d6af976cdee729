"""Batches of tokenized examples: packed rows with per-example attention boundaries, or padded.

Packing puts several short examples into one row so they do not pay for padding. Each example
keeps its own position ids (restarting at 0), and the row is given to the model with
`position_ids` and no 2-D `attention_mask`; transformers (>= 4.56) then builds a block-diagonal
causal mask from the position restarts, so a token attends only to earlier tokens of its own
example (tests/train/test_packing.py proves the logits equal the unpacked forward pass).
The first token of every example is a prompt token (label IGNORE_INDEX), so no loss is ever
taken across a boundary. Rows are padded at the end to the longest row in the batch; the padding
is a segment of its own with no loss.

The plan of an epoch (which examples go in which row and batch) depends only on the seed and
the epoch number, so a resumed run sees exactly the same data order.

`padded_batch` builds the predecessor's layout (one example per row, padded to a fixed length)
for the benchmark. This module does not tokenize (see `tokenization`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from worldmodel.train.tokenization import IGNORE_INDEX, Example

if TYPE_CHECKING:
    import torch


@dataclass
class Batch:
    """Model inputs for one micro-batch, plus counts for throughput and loss normalisation."""

    input_ids: torch.Tensor
    labels: torch.Tensor
    position_ids: torch.Tensor
    attention_mask: torch.Tensor | None
    tokens: int
    """Real (non-padding) tokens in the batch."""
    target_tokens: int
    """Tokens that carry loss."""


def pack_rows(lengths: Sequence[int], order: Sequence[int], max_len: int) -> list[list[int]]:
    """First-fit packing of examples (taken in `order`) into rows of at most `max_len` tokens."""
    rows: list[list[int]] = []
    room: list[int] = []
    for index in order:
        size = lengths[index]
        if size > max_len:
            raise ValueError(f"example {index} has {size} tokens, more than max_len={max_len}")
        for row, free in enumerate(room):
            if size <= free:
                rows[row].append(index)
                room[row] -= size
                break
        else:
            rows.append([index])
            room.append(max_len - size)
    return rows


def epoch_plan(
    lengths: Sequence[int],
    *,
    seed: int,
    epoch: int,
    max_len: int,
    batch_size: int,
    packing: bool = True,
    shuffle: bool = True,
) -> list[list[list[int]]]:
    """The batches of one epoch: batches -> rows -> example indices. Depends only on its args."""
    import torch

    if shuffle:
        generator = torch.Generator().manual_seed(seed * 100_003 + epoch)
        order = torch.randperm(len(lengths), generator=generator).tolist()
    else:
        order = list(range(len(lengths)))
    rows = pack_rows(lengths, order, max_len) if packing else [[i] for i in order]
    return [rows[i : i + batch_size] for i in range(0, len(rows), batch_size)]


def plan_digest(batch: Sequence[Sequence[int]]) -> str:
    """A short fingerprint of which examples a batch holds, in order (logged to compare runs)."""
    text = "|".join(",".join(str(i) for i in row) for row in batch)
    return hashlib.sha1(text.encode()).hexdigest()[:12]


def packed_batch(examples: Sequence[Example], rows: Sequence[Sequence[int]], pad_id: int) -> Batch:
    """Concatenate each row's examples; position ids restart per example; pad rows at the end."""
    import torch

    ids_rows, label_rows, pos_rows = [], [], []
    for row in rows:
        ids: list[int] = []
        labels: list[int] = []
        positions: list[int] = []
        for index in row:
            example = examples[index]
            ids += example.input_ids
            labels += example.labels
            positions += range(len(example))
        ids_rows.append(ids)
        label_rows.append(labels)
        pos_rows.append(positions)
    width = max(len(ids) for ids in ids_rows)
    tokens = sum(len(ids) for ids in ids_rows)
    for ids, labels, positions in zip(ids_rows, label_rows, pos_rows, strict=True):
        pad = width - len(ids)
        ids += [pad_id] * pad
        labels += [IGNORE_INDEX] * pad
        # The padding restarts at position 0, so it is a separate segment nobody attends to.
        positions += range(pad)
    labels_tensor = torch.tensor(label_rows, dtype=torch.long)
    return Batch(
        input_ids=torch.tensor(ids_rows, dtype=torch.long),
        labels=labels_tensor,
        position_ids=torch.tensor(pos_rows, dtype=torch.long),
        attention_mask=None,
        tokens=tokens,
        target_tokens=int((labels_tensor != IGNORE_INDEX).sum()),
    )


def padded_batch(
    examples: Sequence[Example], indices: Sequence[int], pad_id: int, length: int
) -> Batch:
    """One example per row, right-padded to `length` with an attention mask (the predecessor's
    layout, kept for the packing-vs-padding benchmark)."""
    import torch

    ids_rows, label_rows, mask_rows = [], [], []
    for index in indices:
        example = examples[index]
        pad = length - len(example)
        if pad < 0:
            raise ValueError(f"example {index} has {len(example)} tokens, more than {length}")
        ids_rows.append(example.input_ids + [pad_id] * pad)
        label_rows.append(example.labels + [IGNORE_INDEX] * pad)
        mask_rows.append([1] * len(example) + [0] * pad)
    labels_tensor = torch.tensor(label_rows, dtype=torch.long)
    mask = torch.tensor(mask_rows, dtype=torch.long)
    return Batch(
        input_ids=torch.tensor(ids_rows, dtype=torch.long),
        labels=labels_tensor,
        position_ids=(mask.cumsum(-1) - 1).clamp(min=0),
        attention_mask=mask,
        tokens=int(mask.sum()),
        target_tokens=int((labels_tensor != IGNORE_INDEX).sum()),
    )
