"""Data-parallel training: which process trains on which examples.

A run on several devices has one process (rank) per device; they are started by
`torch.distributed.run` (torchrun), never by us. Every rank plans the same epoch
(`packing.epoch_plan`: rows packed from the seeded order, grouped into micro-batches of
`batch_size` rows), and one optimizer step takes the next `grad_accum * world_size`
micro-batches of that plan, exactly the micro-batches a single process takes with
`grad_accum * world_size` accumulation. So the global batch is rows per device x devices x
accumulation, and the run means the same as one device with that batch.

`step_groups` cuts an epoch's plan into those steps; `rank_share` deals a step's micro-batches
round-robin to the ranks. Every micro-batch, hence every example, goes to exactly one rank once
per epoch: nothing is repeated, nothing dropped. Every rank has the same number of steps. The
remainder is the epoch's last step, which may hold fewer micro-batches: the ranks' shares
then differ by at most one, and a rank whose share is empty (the step holds fewer micro-batches
than there are ranks) runs one padding pass that carries no loss, so that it still takes part in
averaging the gradients (see `trainer`).

This module does not pack (see `packing`) and starts no processes.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TypeVar

MicroBatch = TypeVar("MicroBatch")


def step_groups(
    plan: Sequence[MicroBatch], *, grad_accum: int, world_size: int = 1
) -> list[list[MicroBatch]]:
    """An epoch's micro-batches cut into optimizer steps of `grad_accum * world_size` each
    (the last step takes what is left)."""
    span = _span(grad_accum, world_size)
    return [list(plan[start : start + span]) for start in range(0, len(plan), span)]


def rank_share(group: Sequence[MicroBatch], *, rank: int, world_size: int) -> list[MicroBatch]:
    """The micro-batches of one optimizer step that `rank` trains on: the step's micro-batches
    `rank`, `rank + world_size`, ... (empty when the step has no more than `rank` of them)."""
    if not 0 <= rank < world_size:
        raise ValueError(f"rank {rank} is not in a world of {world_size} processes")
    return list(group[rank::world_size])


def step_count(micro_batches: int, *, grad_accum: int, world_size: int = 1) -> int:
    """Optimizer steps of an epoch of `micro_batches` micro-batches (the same on every rank)."""
    return math.ceil(micro_batches / _span(grad_accum, world_size))


def _span(grad_accum: int, world_size: int) -> int:
    if grad_accum < 1 or world_size < 1:
        raise ValueError(f"grad_accum ({grad_accum}) and world_size ({world_size}) must be >= 1")
    return grad_accum * world_size
