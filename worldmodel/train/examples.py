"""Training examples: the records read, tokenized and planned into each epoch's batches.

Reads the train/validation files before any model is loaded (a broken file is reported first),
tokenizes each record (dropping whole those longer than `max_seq_len`, never cutting inside
their code), draws which records stay in the plain variant, and plans every epoch's packed
micro-batches from (seed, epoch) with the number of optimizer steps they make.

This module does not tokenize one record (see `tokenization`), does not pack rows (see
`packing`) and does not train (see `trainer`).
"""

from __future__ import annotations

import logging
import random
from collections.abc import Sequence
from typing import Any

from worldmodel.data.record import read_records
from worldmodel.errors import DataError
from worldmodel.model.prompt import end_of_turn
from worldmodel.train.config import TrainConfig
from worldmodel.train.distributed import step_count
from worldmodel.train.packing import epoch_plan
from worldmodel.train.tokenization import Example, encode_record

log = logging.getLogger(__name__)


def encode_records(
    tokenizer: Any,
    records: Sequence[dict[str, Any]],
    *,
    with_output: bool,
    max_len: int,
    source: str,
    plain_share: float = 0.0,
    seed: int = 0,
) -> tuple[list[Example], int]:
    """Tokenize records; those longer than `max_len` are dropped whole (never cut inside their
    code) and counted. Returns (examples, dropped).

    With `with_output`, a seeded draw of `plain_share` of the records keeps the plain variant
    (see `plain_indices`)."""
    eot = end_of_turn(tokenizer)
    plain = plain_indices(len(records), plain_share if with_output else 1.0, seed)
    examples: list[Example] = []
    dropped = 0
    for index, record in enumerate(records):
        try:
            example = encode_record(tokenizer, record, with_output=index not in plain, eot=eot)
        except DataError as exc:
            raise DataError(f"{source}:{record.get('_line', '?')}: {exc}") from exc
        if len(example) > max_len:
            dropped += 1
            continue
        examples.append(example)
    if dropped:
        log.warning(
            "%s: dropped %d example(s) longer than max_seq_len=%d", source, dropped, max_len
        )
    return examples, dropped


def plain_indices(count: int, share: float, seed: int) -> frozenset[int]:
    """Which of `count` records stay in the plain variant: exactly round(share * count) of
    them, drawn with `seed` (the same records on every run and on resume)."""
    chosen = round(share * count)
    if chosen >= count:
        return frozenset(range(count))
    return frozenset(random.Random(seed).sample(range(count), chosen))


def read_data(config: TrainConfig) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(training records, validation records), read and checked before anything is loaded."""
    train = read_records(config.train_file, config.max_train_examples)
    for extra in config.extra_train_files:
        train += read_records(extra)
    validation = read_records(config.validation_file) if config.validation_file else []
    return train, validation


def load_examples(
    config: TrainConfig,
    tokenizer: Any,
    records: tuple[list[dict[str, Any]], list[dict[str, Any]]],
) -> tuple[list[Example], int, list[Example]]:
    """(training examples, how many were too long, validation examples)."""
    train_records, validation_records = records
    train_examples, dropped = encode_records(
        tokenizer,
        train_records,
        with_output=config.with_output,
        max_len=config.max_seq_len,
        source=config.train_file,
        plain_share=config.plain_share,
        seed=config.seed,
    )
    if not train_examples:
        raise DataError(f"{config.train_file}: every example is longer than max_seq_len")
    val_examples: list[Example] = []
    if config.validation_file:
        val_examples, _ = encode_records(
            tokenizer,
            validation_records,
            with_output=config.with_output,
            max_len=config.max_seq_len,
            source=config.validation_file,
            plain_share=config.plain_share,
            seed=config.seed,
        )
    return train_examples, dropped, val_examples


def plan_epochs(
    config: TrainConfig, lengths: list[int], world_size: int
) -> tuple[list[list[Any]], int]:
    """Every epoch's batches (fixed by seed and epoch) and the number of optimizer steps (each
    takes `grad_accum` batches on each of `world_size` processes)."""
    plans = [
        epoch_plan(
            lengths,
            seed=config.seed,
            epoch=epoch,
            max_len=config.max_seq_len,
            batch_size=config.batch_size,
            packing=config.packing,
        )
        for epoch in range(config.epochs)
    ]
    total_steps = sum(
        step_count(len(plan), grad_accum=config.grad_accum, world_size=world_size) for plan in plans
    )
    if config.max_steps is not None:
        total_steps = min(total_steps, config.max_steps)
    return plans, total_steps
