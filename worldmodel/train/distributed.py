"""Data-parallel training: which process trains on which examples, and how the processes agree.

A run on several devices has one process (rank) per device; they are started by
`torch.distributed.run` (torchrun; `wm train --gpus N` re-launches itself through it), never by
us. Every rank plans the same epoch (`packing.epoch_plan`: rows packed from the seeded order,
grouped into micro-batches of `batch_size` rows), and one optimizer step takes the next
`grad_accum * world_size` micro-batches of that plan, exactly the micro-batches a single process
takes with `grad_accum * world_size` accumulation. So the global batch is rows per device x
devices x accumulation, and the run means the same as one device with that batch.

`step_groups` cuts an epoch's plan into those steps; `rank_share` deals a step's micro-batches
round-robin to the ranks. Every micro-batch, hence every example, goes to exactly one rank once
per epoch: nothing is repeated, nothing dropped. Every rank has the same number of steps. The
remainder is the epoch's last step, which may hold fewer micro-batches: the ranks' shares
then differ by at most one, and a rank whose share is empty (the step holds fewer micro-batches
than there are ranks) runs one padding pass that carries no loss, so that it still takes part in
averaging the gradients (`rank_passes`).

`rank_passes` turns a step into this rank's passes (its share, or the padding pass);
`data_parallel` wraps the LoRA model in DistributedDataParallel, which averages the gradients,
and `accumulating` keeps it from doing so before a step's last pass.

`World` is this process's place in the run, read from torchrun's environment (RANK,
WORLD_SIZE, LOCAL_RANK, LOCAL_WORLD_SIZE), with the few collectives the trainer needs: sums of
scalars, rank 0's answer shared with every rank, gathering small objects, a barrier.
`rank_device` pins each rank to the GPU of its LOCAL_RANK among those CUDA_VISIBLE_DEVICES /
HIP_VISIBLE_DEVICES leave visible; the backend is gloo on CPUs and nccl on GPUs (RCCL in ROCm
builds of torch). One process (no torchrun) is a world of one, and every collective is then a
no-op that returns its input unchanged.

This module does not pack (see `packing`), does not train (see `trainer`) and starts no
processes.
"""

from __future__ import annotations

import contextlib
import inspect
import math
import os
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

from worldmodel.errors import ConfigError
from worldmodel.model.device import VISIBLE_DEVICES

if TYPE_CHECKING:
    import torch

MicroBatch = TypeVar("MicroBatch")
T = TypeVar("T")

# torchrun's variables: the world of one process when none is set.
_ENV = ("RANK", "WORLD_SIZE", "LOCAL_RANK", "LOCAL_WORLD_SIZE")


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


@dataclass
class World:
    """This process's place in a data-parallel run; `World()` is a run of one process."""

    rank: int = 0
    size: int = 1
    local_rank: int = 0
    """Rank among the processes of this box: the index of its GPU among the visible ones."""
    local_size: int = 1
    started: bool = False
    """Whether `start` set up the process group (and `stop` must end it)."""
    device: Any = field(default=None, repr=False)
    """The device collectives run on (set by `start`)."""

    @property
    def is_main(self) -> bool:
        """Rank 0: the one process that logs, writes checkpoints and the adapter."""
        return self.rank == 0

    @property
    def distributed(self) -> bool:
        return self.size > 1

    def start(self, device: torch.device) -> None:
        """Join the process group (gloo on a CPU, nccl/RCCL on GPUs); nothing for one process."""
        if not self.distributed:
            return
        import torch.distributed as dist

        if not dist.is_initialized():
            dist.init_process_group(backend=backend_for(device))
            self.started = True
        self.device = device

    def stop(self) -> None:
        """Leave the process group `start` joined."""
        if self.started:
            import torch.distributed as dist

            dist.destroy_process_group()
            self.started = False

    def sum(self, values: Sequence[float]) -> list[float]:
        """Each value summed over the ranks (float64; one collective for all of them)."""
        if not self.distributed:
            return list(values)
        import torch
        import torch.distributed as dist

        tensor = torch.tensor(list(values), dtype=torch.float64, device=self.device)
        dist.all_reduce(tensor)
        return [float(v) for v in tensor.tolist()]

    def any(self, flag: bool) -> bool:
        """True on every rank when `flag` is true on any."""
        return self.sum([1.0 if flag else 0.0])[0] > 0

    def from_main(self, compute: Callable[[], T]) -> T:
        """`compute()` run on rank 0 only, its value (or the exception it raised) given to every
        rank: what rank 0 reads from its disk, the other ranks (maybe on other boxes) need not."""
        if not self.distributed:
            return compute()
        import torch.distributed as dist

        box: list[Any] = [None]
        if self.is_main:
            try:
                box[0] = (True, compute())
            except Exception as exc:
                box[0] = (False, exc)
        dist.broadcast_object_list(box, src=0)
        ok, value = box[0]
        if not ok:
            raise value
        return value

    def gather(self, value: T) -> list[T]:
        """Every rank's `value`, in rank order (small objects: RNG states)."""
        if not self.distributed:
            return [value]
        import torch.distributed as dist

        found: list[Any] = [None] * self.size
        dist.all_gather_object(found, value)
        return found

    def barrier(self) -> None:
        if self.distributed:
            import torch.distributed as dist

            dist.barrier()

    @contextmanager
    def local_main_first(self) -> Iterator[None]:
        """Run the block on each box's first process before the others (one of them converts
        or downloads what the rest then find ready)."""
        if self.local_rank != 0:
            self.barrier()
        yield
        if self.local_rank == 0:
            self.barrier()


def data_parallel(model: Any, world: World, device: torch.device) -> Any:
    """The model the training passes run through: wrapped in DistributedDataParallel when there
    are several processes (it averages the LoRA gradients over them), else `model` itself."""
    if not world.distributed:
        return model
    from torch.nn.parallel import DistributedDataParallel

    # Every rank loads the frozen base weights from the same files and they never change, so
    # DDP need not broadcast them at start (it still broadcasts the LoRA weights from rank 0).
    frozen = [name for name, p in model.named_parameters() if not p.requires_grad]
    DistributedDataParallel._set_params_and_buffers_to_ignore_for_model(model, frozen)
    # The buffers (rotary tables) are computed alike on every rank: not sent before every
    # forward pass. torch 2.13 renamed the option (and warns about the old name); 2.2 knows only
    # the old one.
    options = inspect.signature(DistributedDataParallel.__init__).parameters
    option = "forward_sync_buffers" if "forward_sync_buffers" in options else "broadcast_buffers"
    no_buffer_sync: dict[str, Any] = {option: False}
    return DistributedDataParallel(
        model,
        device_ids=None if device.type == "cpu" else [device],
        **no_buffer_sync,
    )


def rank_passes(group: Sequence[Any], world: World) -> list[tuple[Any, float]]:
    """(rows, weight) of this rank's passes in one optimizer step: its share of the step's
    micro-batches with weight 1, or, when the share is empty (the epoch's last step, with fewer
    micro-batches than ranks), one padding pass of the step's first row with weight 0: DDP
    averages gradients only when every rank runs a backward pass."""
    share = rank_share(group, rank=world.rank, world_size=world.size)
    if share:
        return [(rows, 1.0) for rows in share]
    return [(group[0][:1], 0.0)]


def accumulating(trainee: Any, world: World, *, last: bool) -> Any:
    """A context for one pass of a step: DDP's `no_sync` except on the step's last pass, so
    gradients are averaged over the ranks once per step."""
    if world.distributed and not last:
        return trainee.no_sync()
    return contextlib.nullcontext()


def world_from_env(environ: Mapping[str, str] | None = None) -> World:
    """The `World` torchrun's environment describes; a world of one when it describes none."""
    env = os.environ if environ is None else environ
    if "WORLD_SIZE" not in env:
        return World()
    values: dict[str, int] = {}
    for name in _ENV:
        text = env.get(name, "")
        if not text.isdigit():
            raise ConfigError(
                f"{name}={text!r}: a data-parallel run needs torchrun's RANK, WORLD_SIZE, "
                "LOCAL_RANK and LOCAL_WORLD_SIZE; start it with `wm train --gpus N` or torchrun"
            )
        values[name] = int(text)
    world = World(
        rank=values["RANK"],
        size=values["WORLD_SIZE"],
        local_rank=values["LOCAL_RANK"],
        local_size=values["LOCAL_WORLD_SIZE"],
    )
    if not (0 <= world.rank < world.size and 0 <= world.local_rank < world.local_size):
        raise ConfigError(f"torchrun's environment describes an impossible process: {world}")
    return world


def backend_for(device: torch.device) -> str:
    """The torch.distributed backend for `device`: gloo on a CPU, nccl on a GPU (ROCm builds of
    torch run RCCL under that name)."""
    return "gloo" if device.type == "cpu" else "nccl"


def rank_device(requested: str, world: World) -> torch.device:
    """The device this rank trains on: `requested` for one process; with several, each rank
    takes the GPU of its LOCAL_RANK among the visible ones (a CPU run: the CPU)."""
    import torch

    from worldmodel.model.device import resolve_device

    if not world.distributed:
        return resolve_device(requested)
    base, _, index = requested.partition(":")
    if index:
        raise ConfigError(
            f"device: {requested!r} names one GPU, but this run has {world.size} processes; use "
            f"device: {base} (each process takes the GPU of its LOCAL_RANK) and choose the GPUs "
            "with CUDA_VISIBLE_DEVICES (HIP_VISIBLE_DEVICES on ROCm)"
        )
    device = resolve_device(base)
    if device.type == "cpu":
        return device
    count = torch.cuda.device_count()
    if world.local_rank >= count:
        visible = {name: os.environ[name] for name in VISIBLE_DEVICES if name in os.environ}
        raise ConfigError(
            f"process {world.local_rank} of {world.local_size} on this box needs a GPU of its "
            f"own, but torch sees {count} (visible: {visible or 'all'}); start as many "
            "processes as GPUs, or make more visible (rocm_env: HIP_VISIBLE_DEVICES in the config)"
        )
    device = torch.device("cuda", world.local_rank)
    torch.cuda.set_device(device)
    return device
