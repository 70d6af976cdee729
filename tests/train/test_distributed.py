"""Data-parallel sharding: every example once per epoch across ranks, equal steps per rank."""

from __future__ import annotations

import itertools
from collections import Counter

import pytest

from worldmodel.errors import ConfigError
from worldmodel.train.distributed import (
    World,
    rank_device,
    rank_share,
    step_count,
    step_groups,
    world_from_env,
)
from worldmodel.train.packing import epoch_plan


def _plan(examples: int, seed: int, batch_size: int) -> list[list[list[int]]]:
    lengths = [10 + (i * 37 + seed) % 90 for i in range(examples)]
    return epoch_plan(lengths, seed=seed, epoch=1, max_len=128, batch_size=batch_size)


@pytest.mark.parametrize(
    ("world_size", "grad_accum", "batch_size"),
    [(1, 1, 2), (2, 1, 1), (2, 3, 2), (3, 2, 1), (4, 1, 3), (5, 2, 2), (8, 1, 1)],
)
@pytest.mark.parametrize("seed", [0, 7])
@pytest.mark.parametrize("examples", [1, 3, 17, 40, 61])
def test_every_example_lands_on_exactly_one_rank_once_per_epoch(
    world_size: int, grad_accum: int, batch_size: int, seed: int, examples: int
) -> None:
    plan = _plan(examples, seed, batch_size)
    groups = step_groups(plan, grad_accum=grad_accum, world_size=world_size)
    shares = [
        [rank_share(group, rank=rank, world_size=world_size) for group in groups]
        for rank in range(world_size)
    ]
    seen = Counter(
        index
        for rank_steps in shares
        for share in rank_steps
        for micro_batch in share
        for row in micro_batch
        for index in row
    )
    assert sorted(seen) == list(range(examples))  # none dropped
    assert set(seen.values()) == {1}  # none repeated
    # The same number of steps on every rank, and as step_count says.
    steps = step_count(len(plan), grad_accum=grad_accum, world_size=world_size)
    assert {len(rank_steps) for rank_steps in shares} == {steps}
    for number, group in enumerate(groups):
        sizes = [len(shares[rank][number]) for rank in range(world_size)]
        if number < len(groups) - 1:  # a full step: grad_accum micro-batches on every rank
            assert sizes == [grad_accum] * world_size
        else:  # the remainder: shares differ by at most one micro-batch
            assert max(sizes) - min(sizes) <= 1 and sum(sizes) == len(group)
        # A step over W ranks trains on exactly what one process does with W x accumulation.
        together = sorted(mb for rank in range(world_size) for mb in shares[rank][number])
        alone = plan[number * grad_accum * world_size : (number + 1) * grad_accum * world_size]
        assert together == sorted(alone)


def test_one_rank_steps_as_before() -> None:
    plan = _plan(40, 3, 2)
    for grad_accum in (1, 2, 3):
        groups = step_groups(plan, grad_accum=grad_accum)
        assert groups == [plan[i : i + grad_accum] for i in range(0, len(plan), grad_accum)]
        assert [rank_share(g, rank=0, world_size=1) for g in groups] == groups


def test_a_step_with_fewer_micro_batches_than_ranks_leaves_some_ranks_a_padding_pass() -> None:
    plan = [[[0]], [[1]], [[2]]]  # three one-row micro-batches
    groups = step_groups(plan, grad_accum=1, world_size=2)
    assert groups == [[[[0]], [[1]]], [[[2]]]]
    assert [rank_share(g, rank=1, world_size=2) for g in groups] == [[[[1]]], []]
    assert [rank_share(g, rank=0, world_size=2) for g in groups] == [[[[0]]], [[[2]]]]


def test_impossible_worlds_are_refused() -> None:
    with pytest.raises(ValueError, match="rank 2 is not in a world of 2"):
        rank_share([[[0]]], rank=2, world_size=2)
    for accum, size in itertools.product((0, 1), (0, 1)):
        if accum and size:
            continue
        with pytest.raises(ValueError, match="must be >= 1"):
            step_groups([[[0]]], grad_accum=accum, world_size=size)


def test_the_world_comes_from_torchruns_environment() -> None:
    assert world_from_env({}) == World()  # no torchrun: one process
    env = {"RANK": "3", "WORLD_SIZE": "8", "LOCAL_RANK": "1", "LOCAL_WORLD_SIZE": "4"}
    world = world_from_env(env)
    assert (world.rank, world.size, world.local_rank, world.local_size) == (3, 8, 1, 4)
    assert world.distributed and not world.is_main
    with pytest.raises(ConfigError, match="LOCAL_RANK=''"):
        world_from_env({"RANK": "0", "WORLD_SIZE": "2", "LOCAL_WORLD_SIZE": "2"})
    with pytest.raises(ConfigError, match="impossible"):
        world_from_env(env | {"RANK": "8"})


def test_one_process_collectives_return_their_input() -> None:
    world = World()
    assert world.sum([1.5, 2]) == [1.5, 2] and not world.any(False) and world.any(True)
    assert world.from_main(lambda: "answer") == "answer" and world.gather(7) == [7]


def test_a_rank_cannot_be_pinned_to_one_named_gpu() -> None:
    with pytest.raises(ConfigError, match=r"'cuda:1' names one GPU.*use device: cuda"):
        rank_device("cuda:1", World(rank=0, size=2, local_size=2))
    assert rank_device("cpu", World(rank=1, size=2, local_rank=1, local_size=2)).type == "cpu"
