"""The LoRA training loop: load, set up, train, save.

A plain PyTorch loop around a peft LoRA model, chosen over `transformers.Trainer` so that every
piece that matters for reproducibility is visible here: the data plan of each epoch is a pure
function of (seed, epoch) (`packing.epoch_plan`), and a checkpoint records the position in that
plan plus optimizer, schedule and RNG states, so `resume=True` continues bit-for-bit.

- Loss: cross-entropy summed over assistant tokens only, divided by the number of such tokens
  in the whole optimizer step (so gradient accumulation does not re-weight examples).
- Schedule: linear warmup over `warmup_ratio` of the steps, then cosine decay to 0.
- Precision: fp32 on CPU; on GPUs the base weights load in bf16 (fp16 where bf16 is missing,
  with a grad scaler) while the LoRA weights stay fp32 and the forward pass runs in autocast.
- Validation loss after every epoch (and at a max_steps stop inside an epoch); optional early
  stopping on it.
- Metrics: one JSON line per logged step and per evaluation in `metrics.jsonl`; a rich
  progress bar (loss, tokens/s, ETA) on stderr.
- Data parallel: started by torchrun (`wm train --gpus N`), every process runs this loop on its
  share of each step (`distributed`), DDP averages the gradients, and rank 0 alone writes
  metrics, checkpoints and the adapter; a checkpoint resumes only at its world size.

Outputs in the run folder: `adapter/` (final PEFT adapter), `config.json` (resolved config),
`metrics.json` (summary), `metrics.jsonl`, and `checkpoints/`. Reading and planning the data
is in `examples`, the LoRA layers in `lora`, where a run resumes in `resume`; generation is
elsewhere (`worldmodel.generate`).
"""

from __future__ import annotations

import json
import logging
import math
import os
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from worldmodel.train import checkpoint as ckpt
from worldmodel.train.config import TrainConfig
from worldmodel.train.distributed import (
    World,
    accumulating,
    data_parallel,
    rank_device,
    rank_passes,
    step_groups,
    world_from_env,
)
from worldmodel.train.examples import load_examples, plan_epochs, read_data
from worldmodel.train.lora import attach_lora, init_from_adapter
from worldmodel.train.packing import Batch, epoch_plan, packed_batch, plan_digest
from worldmodel.train.resume import restore, resume_point
from worldmodel.train.tokenization import IGNORE_INDEX, Example

log = logging.getLogger(__name__)


class RunAbandoned(Exception):
    """Raised by a `should_stop` hook to leave at once, writing nothing more: the run folder
    now belongs to someone else (a job worker whose job was handed to another worker)."""


@dataclass
class TrainResult:
    """What a finished (or stopped) run produced; JSON-serialisable via `asdict`."""

    run_dir: str
    adapter_dir: str | None
    steps: int
    total_steps: int
    epochs_completed: int
    train_examples: int
    dropped_examples: int
    val_losses: list[float] = field(default_factory=list)
    best_val_loss: float | None = None
    last_loss: float | None = None
    tokens_per_s: float | None = None
    stopped_early: bool = False
    interrupted: bool = False
    resumed_from: int | None = None
    world_size: int = 1
    """Processes that trained it (data-parallel ranks)."""


def lr_lambda(total_steps: int, warmup_steps: int) -> Callable[[int], float]:
    """Multiplier of the peak LR at a step: linear warmup, then cosine decay to 0."""

    def factor(step: int) -> float:
        if step < warmup_steps:
            return (step + 1) / (warmup_steps + 1)
        span = max(1, total_steps - warmup_steps)
        progress = min(1.0, (step - warmup_steps) / span)
        return 0.5 * (1.0 + math.cos(math.pi * progress))

    return factor


def batch_loss(model: Any, batch: Batch, device: Any) -> Any:
    """Summed cross-entropy over the batch's target tokens (the caller normalises)."""
    import torch.nn.functional as F

    outputs = model(
        input_ids=batch.input_ids.to(device),
        position_ids=batch.position_ids.to(device),
        attention_mask=None if batch.attention_mask is None else batch.attention_mask.to(device),
        use_cache=False,
    )
    logits = outputs.logits[:, :-1].float()
    targets = batch.labels[:, 1:].to(device)
    return F.cross_entropy(
        logits.reshape(-1, logits.shape[-1]),
        targets.reshape(-1),
        ignore_index=IGNORE_INDEX,
        reduction="sum",
    )


def evaluate(
    model: Any,
    examples: Sequence[Example],
    config: TrainConfig,
    device: Any,
    pad_id: int,
    autocast: Any,
    world: World | None = None,
) -> float:
    """Mean loss per assistant token over `examples` (packed, in file order); in a
    data-parallel run each rank takes every `world.size`-th batch and the sums are shared."""
    import torch

    lengths = [len(e) for e in examples]
    plan = epoch_plan(
        lengths,
        seed=0,
        epoch=0,
        max_len=config.max_seq_len,
        batch_size=config.batch_size,
        packing=config.packing,
        shuffle=False,
    )
    total, count = 0.0, 0
    was_training = model.training
    model.eval()
    with torch.no_grad():
        for rows in plan[world.rank :: world.size] if world else plan:
            batch = packed_batch(examples, rows, pad_id)
            with autocast():
                total += float(batch_loss(model, batch, device))
            count += batch.target_tokens
    if was_training:
        model.train()
    if world is not None and world.distributed:
        total, shared = world.sum([total, count])
        count = round(shared)
    return total / max(1, count)


def train(
    config: TrainConfig,
    *,
    should_stop: Callable[[int], bool] | None = None,
    command: str | None = None,
    on_finish: Callable[[Any], None] | None = None,
) -> TrainResult:
    """Run (or resume) LoRA training as configured; return what it produced.

    `should_stop(step)` is asked after every optimizer step; when it answers True the run saves
    a checkpoint and returns with `interrupted=True` (the CLI wires Ctrl-C to it); when it
    raises `RunAbandoned`, that propagates before anything more is written.
    `on_finish(model)` receives the trained peft model in memory before `train` returns (tests
    use it to check that base weights stayed frozen).

    Started by torchrun (`wm train --gpus N`), every process calls this: each trains on its
    share of every step (`distributed`), the gradients are averaged, and rank 0 alone writes
    metrics, checkpoints and the adapter; `should_stop` stops every rank when it answers True
    on any.
    """
    world = world_from_env()
    try:
        result = _train(config, world, should_stop, command, on_finish)
        world.barrier()  # rank 0 has written everything before any process ends
        return result
    finally:
        world.stop()


def _train(
    config: TrainConfig,
    world: World,
    should_stop: Callable[[int], bool] | None,
    command: str | None,
    on_finish: Callable[[Any], None] | None,
) -> TrainResult:
    """`train` in one process of a world of `world.size`."""
    import torch

    from worldmodel.model.device import apply_rocm_env, backend_name, resolve_dtype, set_threads
    from worldmodel.model.loading import load_model, resolve_model_dir

    # --- load -----------------------------------------------------------------------------
    # The data first: a missing or broken file is reported before a model is converted/loaded.
    records = read_data(config)
    run_dir = config.run_dir()
    apply_rocm_env(config.rocm_env)
    device = rank_device(config.device, world)
    world.start(device)
    # Only rank 0 reads the run folder (the others may be on other boxes); all get its answer.
    point = world.from_main(lambda: resume_point(config, run_dir, world.size))
    threads = set_threads(config.threads) if device.type == "cpu" else None
    dtype = resolve_dtype(config.precision, device)
    random.seed(config.seed)
    torch.manual_seed(config.seed)
    with world.local_main_first():  # one process per box converts the bundled model
        model_dir = resolve_model_dir(config.model)
    model, tokenizer = load_model(model_dir, device=device, dtype=dtype, trainable_adapter=True)
    log.info(
        "training on %s (%s), dtype %s, threads %s, process %d of %d",
        device,
        backend_name(device),
        dtype,
        threads,
        world.rank,
        world.size,
    )

    train_examples, dropped, val_examples = load_examples(config, tokenizer, records)

    # --- set up ---------------------------------------------------------------------------
    model = attach_lora(model, config)
    # Where the LoRA weights started ({"dir", "sha256"}; None: a fresh LoRA). A resumed run
    # reads it from its checkpoint, where it travels so the final summary still names it.
    started_from = (
        point.state.get("started_from")
        if point.state is not None
        else init_from_adapter(model, config)
    )
    if world.rank:  # other dropout masks on every other rank; rank 0 draws as one process does
        torch.manual_seed(config.seed + world.rank)
    pad_id = int(tokenizer.pad_token_id)
    plans, total_steps = plan_epochs(config, [len(e) for e in train_examples], world.size)
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(params, lr=config.learning_rate, weight_decay=config.weight_decay)
    warmup = int(total_steps * config.warmup_ratio)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lr_lambda(total_steps, warmup))
    scaler = torch.amp.GradScaler(device.type) if dtype == torch.float16 else None

    def autocast() -> Any:
        return torch.autocast(device.type, dtype=dtype, enabled=dtype != torch.float32)

    metrics_path = run_dir / "metrics.jsonl"
    position = restore(
        point,
        model=model,
        optimizer=optimizer,
        scheduler=scheduler,
        scaler=scaler,
        world=world,
        config=config,
        total_steps=total_steps,
        metrics_path=metrics_path,
    )
    step, epoch, group_pos = position.step, position.epoch, position.group
    best_val, bad_epochs = position.best_val, position.bad_epochs
    val_losses = position.val_losses
    if world.is_main:
        run_dir.mkdir(parents=True, exist_ok=True)
    trainee = data_parallel(model, world, device)
    resolved = config.to_dict() | {"model_dir": str(model_dir)}
    if started_from is not None:
        resolved["started_from"] = started_from
    resolved_config = config.to_dict()

    result = TrainResult(
        run_dir=str(run_dir),
        adapter_dir=None,
        steps=step,
        total_steps=total_steps,
        epochs_completed=epoch,
        train_examples=len(train_examples),
        dropped_examples=dropped,
        resumed_from=step if point.state else None,
        world_size=world.size,
    )

    def save(at_epoch: int, at_group: int) -> None:
        state = {
            "step": step,
            "epoch": at_epoch,
            "group": at_group,
            "best_val": best_val,
            "bad_epochs": bad_epochs,
            "val_losses": val_losses,
            "started_from": started_from,
            "world_size": world.size,
        }
        rngs = world.gather(ckpt.rng_state())  # every rank's, for dropout after a resume
        if not world.is_main:
            return
        trainer: dict[str, Any] = {
            "optimizer": optimizer.state_dict(),
            "scheduler": scheduler.state_dict(),
            "scaler": scaler.state_dict() if scaler else None,
            "rng": rngs[0],
        }
        if world.distributed:
            trainer["rng_by_rank"] = rngs
        ckpt.save_checkpoint(
            run_dir,
            step,
            model=model,
            trainer_state=trainer,
            state=state,
            config=resolved_config,
            metrics=_summary(result, resolved, command),
            keep=config.keep_checkpoints,
        )

    # --- train ----------------------------------------------------------------------------
    progress = _progress(config.progress and world.is_main)
    task = progress.add_task("train", total=total_steps, completed=step, loss="-", tps="-")
    window_tokens, window_start = 0, time.perf_counter()
    finished = step >= total_steps
    model.train()
    metrics_sink = metrics_path if world.is_main else Path(os.devnull)  # rank 0 alone logs
    with progress, metrics_sink.open("a", encoding="utf-8") as metrics_file:
        while not finished and epoch < config.epochs:
            plan = plans[epoch]
            groups = step_groups(plan, grad_accum=config.grad_accum, world_size=world.size)
            while group_pos < len(groups) and not finished:
                group = groups[group_pos]
                # The step's target tokens on all ranks together: each rank's loss is its part
                # of the step's mean, whatever the share of the step it trains on.
                targets = sum(
                    train_examples[index].target_tokens
                    for rows in group
                    for row in rows
                    for index in row
                )
                step_loss, step_tokens = 0.0, 0
                passes = rank_passes(group, world)
                for number, (rows, weight) in enumerate(passes):
                    batch = packed_batch(train_examples, rows, pad_id)
                    # DDP averages the gradients over the ranks in the step's last backward.
                    with accumulating(trainee, world, last=number == len(passes) - 1):
                        with autocast():
                            loss = batch_loss(trainee, batch, device) / max(1, targets)
                        # DDP divides the ranks' summed gradients by their number; scaling by it
                        # makes the step's gradient that of the step's mean loss. A padding pass
                        # (weight 0) adds nothing.
                        scaled = loss * (weight * world.size) if world.distributed else loss
                        (scaler.scale(scaled) if scaler else scaled).backward()
                    if weight:
                        step_loss += float(loss.detach())
                        step_tokens += batch.tokens
                step_loss, shared_tokens = world.sum([step_loss, step_tokens])
                window_tokens += round(shared_tokens)
                if scaler:
                    scaler.unscale_(optimizer)
                if config.max_grad_norm > 0:
                    torch.nn.utils.clip_grad_norm_(params, config.max_grad_norm)
                if scaler:
                    scaler.step(optimizer)
                    scaler.update()
                else:
                    optimizer.step()
                step_lr = scheduler.get_last_lr()[0]  # the rate this step used
                scheduler.step()
                optimizer.zero_grad(set_to_none=True)
                step += 1
                group_pos += 1
                result.steps, result.last_loss = step, step_loss
                if step % config.log_every == 0 or step == total_steps:
                    elapsed = time.perf_counter() - window_start
                    tps = window_tokens / elapsed if elapsed > 0 else 0.0
                    result.tokens_per_s = round(tps, 1)
                    record = {
                        "step": step,
                        "epoch": epoch,
                        "loss": round(step_loss, 6),
                        "lr": step_lr,
                        "tokens_per_s": round(tps, 1),
                        "data": plan_digest([r for rows in group for r in rows]),
                    }
                    metrics_file.write(json.dumps(record) + "\n")
                    metrics_file.flush()
                    progress.update(task, loss=f"{step_loss:.4f}", tps=f"{tps:.0f}")
                    window_tokens, window_start = 0, time.perf_counter()
                progress.update(task, completed=step)
                epoch_done = group_pos >= len(groups)
                # Validate after every epoch, and at the last step when max_steps ends the run
                # inside an epoch, so every run reports a validation loss.
                if (epoch_done or step >= total_steps) and val_examples:
                    val = evaluate(model, val_examples, config, device, pad_id, autocast, world)
                    val_losses.append(round(val, 6))
                    metrics_file.write(
                        json.dumps({"step": step, "epoch": epoch, "val_loss": round(val, 6)}) + "\n"
                    )
                    metrics_file.flush()
                    if best_val is None or val < best_val - config.early_stopping_min_delta:
                        best_val, bad_epochs = val, 0
                    else:
                        bad_epochs += 1
                    if (
                        config.early_stopping_patience
                        and bad_epochs >= config.early_stopping_patience
                    ):
                        result.stopped_early = finished = True
                next_epoch, next_group = (epoch + 1, 0) if epoch_done else (epoch, group_pos)
                result.epochs_completed = next_epoch
                result.val_losses, result.best_val_loss = val_losses, best_val
                stop_now = world.any(should_stop is not None and should_stop(step))
                if step >= total_steps:
                    finished = True
                if (
                    (config.checkpoint_every and step % config.checkpoint_every == 0)
                    or stop_now
                    or finished
                ):
                    save(next_epoch, next_group)
                if stop_now and not finished:
                    result.interrupted = True
                    if on_finish is not None:
                        on_finish(model)
                    return result
            epoch, group_pos = epoch + 1, 0

    # --- save -----------------------------------------------------------------------------
    adapter_dir = run_dir / "adapter"
    result.adapter_dir = str(adapter_dir)
    if world.is_main:
        model.save_pretrained(str(adapter_dir))
        (run_dir / "config.json").write_text(json.dumps(resolved_config, indent=2) + "\n")
        (run_dir / "metrics.json").write_text(
            json.dumps(_summary(result, resolved, command), indent=2) + "\n"
        )
    if on_finish is not None:
        on_finish(model)
    return result


def _summary(result: TrainResult, resolved: dict[str, Any], command: str | None) -> dict[str, Any]:
    summary = {"result": asdict(result), "model_dir": resolved.get("model_dir"), "command": command}
    if "started_from" in resolved:  # the init_adapter's weights (absent: a fresh LoRA)
        summary["started_from"] = resolved["started_from"]
    return summary


def _progress(enabled: bool) -> Any:
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    return Progress(
        TextColumn("[bold]train"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("loss {task.fields[loss]}"),
        TextColumn("{task.fields[tps]} tok/s"),
        TimeElapsedColumn(),
        TextColumn("ETA"),
        TimeRemainingColumn(),
        console=Console(stderr=True),
        disable=not enabled,
    )
