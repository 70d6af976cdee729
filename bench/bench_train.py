"""Training throughput: packing vs padding to 512 tokens, CPU thread counts, fp32 vs bf16, GPU.

The predecessor padded every example to 512 tokens; we pack several examples per row. Both
layouts train the same LoRA model on the same examples for a few optimizer steps; the number
that matters is useful (non-padding) tokens per second, printed with the ratio.

    .venv/bin/python bench/bench_train.py                      # bundled SmolLM2, data/train.jsonl
    .venv/bin/python bench/bench_train.py --threads 1 2        # compare thread counts (packed)
    .venv/bin/python bench/bench_train.py --bf16               # also packed with bf16 autocast
    .venv/bin/python bench/bench_train.py --model DIR --steps 5 --json
    python bench/bench_train.py --device cuda --model DIR --batch-size 8 --steps 10   # GPU

On a GPU the model loads in the precision `wm train` would use there (bf16 where supported,
fp16 otherwise, with autocast), and the clock is read after the GPU has finished each layout.

Model FLOPs utilisation (`bench/_mfu.py`): on a GPU whose peak is known (or with
`--peak-tflops`), the packed layout's MFU on this one device; for all the GPUs of a
data-parallel run, read that run's own throughput from its metrics file:

    python bench/bench_train.py --device cuda --model DIR --batch-size 8 --steps 10
    python bench/bench_train.py --model DIR --metrics RUN/metrics.jsonl --world-size 4 \
        --seq-len 1024 --peak-tflops 26.5         # `wm train --gpus 4` on MI50s

On a shared machine other processes compete for the cores: the load average is printed with
the numbers, and the thread comparison should be read with it.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from contextlib import nullcontext
from pathlib import Path
from typing import Any

from _device import add_device_arguments  # bench/_device.py, beside this script
from _mfu import flops_per_token, mfu, peak_tflops


def _setup(
    model: str, data: Path, examples: int, seq_len: int, device: Any, dtype: Any
) -> tuple[Any, Any, list[Any]]:
    import torch
    from peft import LoraConfig, get_peft_model

    from worldmodel.data.record import read_records
    from worldmodel.model.loading import load_model, resolve_model_dir
    from worldmodel.train.config import DEFAULT_TARGETS
    from worldmodel.train.examples import encode_records

    base, tokenizer = load_model(
        resolve_model_dir(model), device=device, dtype=dtype, trainable_adapter=True
    )
    base.config.use_cache = False
    torch.manual_seed(0)
    lora = LoraConfig(
        r=16,
        lora_alpha=32,
        lora_dropout=0.05,
        target_modules=DEFAULT_TARGETS,
        task_type="CAUSAL_LM",
    )
    peft_model = get_peft_model(base, lora)
    peft_model.train()
    records = read_records(data, examples)
    encoded, dropped = encode_records(
        tokenizer, records, with_output=False, max_len=seq_len, source=str(data)
    )
    if dropped:
        print(f"note: {dropped} example(s) longer than {seq_len} tokens left out")
    return peft_model, tokenizer, encoded


def _run(
    model: Any, batches: list[Any], threads: int, device: Any, dtype: Any = None
) -> dict[str, float]:
    """Train on `batches` (the first untimed) on `device`; dtype: the autocast dtype, as the
    trainer uses for `precision` bf16/fp16 (LoRA weights stay fp32); None or fp32: none."""
    import torch

    from worldmodel.train.trainer import batch_loss

    torch.set_num_threads(threads)
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(params, lr=1e-4)
    enabled = dtype is not None and dtype != torch.float32
    scaler = torch.amp.GradScaler(device.type) if dtype == torch.float16 else None
    gpu = device.type == "cuda"
    useful = computed = 0
    t0 = time.perf_counter()
    for index, batch in enumerate(batches):
        if index == 1:  # the first step is untimed: it warms up allocators and kernels
            if gpu:
                torch.cuda.synchronize(device)
            t0 = time.perf_counter()
        with torch.autocast(device.type, dtype=dtype) if enabled else nullcontext():
            loss = batch_loss(model, batch, device) / max(1, batch.target_tokens)
        if scaler is not None:
            scaler.scale(loss).backward()
            scaler.step(optimizer)
            scaler.update()
        else:
            loss.backward()
            optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        if index >= 1:
            useful += batch.tokens
            computed += batch.input_ids.numel()
    if gpu:
        torch.cuda.synchronize(device)
    seconds = time.perf_counter() - t0
    return {
        "seconds": round(seconds, 2),
        "useful_tokens": useful,
        "computed_tokens": computed,
        "useful_tokens_per_s": round(useful / seconds, 1),
        "computed_tokens_per_s": round(computed / seconds, 1),
        # Load-independent: the share of computed positions that are real tokens.
        "useful_fraction": round(useful / computed, 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", default="bundled")
    parser.add_argument("--data", type=Path, default=Path("data/train.jsonl"))
    parser.add_argument("--steps", type=int, default=3, help="timed optimizer steps per layout")
    parser.add_argument("--batch-size", type=int, default=2, help="rows per step")
    parser.add_argument("--seq-len", type=int, default=512)
    parser.add_argument("--threads", type=int, nargs="+", default=[1])
    add_device_arguments(parser)
    parser.add_argument(
        "--bf16", action="store_true", help="CPU: also time packed rows with bf16 autocast"
    )
    parser.add_argument(
        "--peak-tflops", type=float, default=None, help="the device's peak [its data sheet's]"
    )
    parser.add_argument(
        "--metrics", type=Path, default=None, help="a training run's metrics.jsonl: its MFU"
    )
    parser.add_argument("--world-size", type=int, default=1, help="GPUs of that run")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    if args.metrics is not None:
        _run_mfu(args)
        return

    import torch

    from worldmodel.model.device import backend_name, resolve_device, resolve_dtype
    from worldmodel.train.packing import pack_rows, packed_batch, padded_batch

    device = resolve_device(args.device)
    dtype = resolve_dtype(args.precision, device)
    if device.type != "cpu" and (args.bf16 or len(args.threads) > 1):
        raise SystemExit("--bf16 and several --threads compare CPU settings; drop them on a GPU")
    # Weights stay fp32 on the CPU (the --bf16 comparison autocasts them); a GPU holds them in
    # the training dtype, as `wm train` does.
    load_dtype = torch.float32 if device.type == "cpu" else dtype
    need = (args.steps + 1) * args.batch_size * 8  # enough examples to fill the packed rows
    model, tokenizer, examples = _setup(
        args.model, args.data, need, args.seq_len, device, load_dtype
    )
    pad = int(tokenizer.pad_token_id)
    lengths = [len(e) for e in examples]
    rows = pack_rows(lengths, range(len(examples)), args.seq_len)
    steps = args.steps + 1
    if len(rows) < steps * args.batch_size:
        raise SystemExit(f"only {len(rows)} packed rows; lower --steps or --batch-size")
    packed = [
        packed_batch(examples, rows[i * args.batch_size : (i + 1) * args.batch_size], pad)
        for i in range(steps)
    ]
    padded = [
        padded_batch(
            examples, range(i * args.batch_size, (i + 1) * args.batch_size), pad, args.seq_len
        )
        for i in range(steps)
    ]
    report: dict[str, Any] = {
        "model": args.model,
        "device": str(device),
        "backend": backend_name(device),
        "dtype": str(dtype).removeprefix("torch."),
        "steps": args.steps,
        "batch_size": args.batch_size,
        "seq_len": args.seq_len,
        "mean_example_tokens": round(sum(lengths) / len(lengths), 1),
        "load_average_1min": round(os.getloadavg()[0], 2),
        "packed": {},
        "padded": {},
    }
    if device.type == "cuda":
        report["gpu"] = torch.cuda.get_device_name(device)
        torch.cuda.reset_peak_memory_stats(device)
    for threads in args.threads:
        report["packed"][threads] = _run(model, packed, threads, device, dtype)
    report["padded"][args.threads[0]] = _run(model, padded, args.threads[0], device, dtype)
    if device.type == "cuda":
        report["peak_gpu_memory_gib"] = round(torch.cuda.max_memory_allocated(device) / 2**30, 2)
    first = args.threads[0]
    base = model.get_base_model() if hasattr(model, "get_base_model") else model
    per_token = flops_per_token(base.config, args.seq_len)
    peak = peak_tflops(report.get("gpu", ""), args.peak_tflops)
    report["flops_per_token"] = round(per_token)
    report["peak_tflops"] = peak
    if peak:
        computed = report["packed"][first]["computed_tokens_per_s"]
        report["mfu"] = round(mfu(computed, per_token, peak), 4)
    if args.bf16:
        from worldmodel.model.device import cpu_has_native_bf16

        report["cpu_native_bf16"] = cpu_has_native_bf16()
        report["packed_bf16"] = {first: _run(model, packed, first, device, torch.bfloat16)}
        report["useful_tokens_per_s_ratio_bf16_vs_fp32"] = round(
            report["packed_bf16"][first]["useful_tokens_per_s"]
            / report["packed"][first]["useful_tokens_per_s"],
            2,
        )
    report["useful_tokens_per_s_ratio_packed_vs_padded"] = round(
        report["packed"][first]["useful_tokens_per_s"]
        / report["padded"][first]["useful_tokens_per_s"],
        2,
    )
    if args.json:
        print(json.dumps(report, indent=2))
        return
    print(
        f"model {args.model} on {report.get('gpu', report['device'])} ({report['backend']}, "
        f"{report['dtype']}); {args.steps} timed steps of {args.batch_size} rows x "
        f"{args.seq_len} tokens; mean example {report['mean_example_tokens']} tokens; "
        f"load average {report['load_average_1min']}"
    )
    if "peak_gpu_memory_gib" in report:
        print(f"peak GPU memory {report['peak_gpu_memory_gib']} GiB")
    for threads, numbers in report["packed"].items():
        print(
            f"packed  threads={threads}: {numbers['useful_tokens_per_s']:8.1f} useful tok/s "
            f"({numbers['computed_tokens_per_s']:.1f} computed)"
        )
    numbers = report["padded"][first]
    print(
        f"padded  threads={first}: {numbers['useful_tokens_per_s']:8.1f} useful tok/s "
        f"({numbers['computed_tokens_per_s']:.1f} computed)"
    )
    if args.bf16:
        numbers_bf16 = report["packed_bf16"][first]
        print(
            f"packed  threads={first} bf16 autocast: {numbers_bf16['useful_tokens_per_s']:8.1f} "
            f"useful tok/s (CPU native bf16: {report['cpu_native_bf16']})"
        )
    print(
        f"useful share of computed tokens: packed {report['packed'][first]['useful_fraction']}, "
        f"padded {numbers['useful_fraction']} (independent of machine load)"
    )
    print(
        f"packing vs padding to {args.seq_len}: "
        f"{report['useful_tokens_per_s_ratio_packed_vs_padded']}x useful tokens/s"
    )
    if args.bf16:
        print(f"bf16 vs fp32 (packed): {report['useful_tokens_per_s_ratio_bf16_vs_fp32']}x")
    if "mfu" in report:
        print(
            f"MFU (packed, one device): {100 * report['mfu']:.1f}% of {peak} TFLOPS "
            f"({report['flops_per_token'] / 1e9:.2f} GFLOPs per token)"
        )
    else:
        print("MFU: unknown peak for this device; pass --peak-tflops")


def _run_mfu(args: argparse.Namespace) -> None:
    """MFU of a finished (or running) training run, from its metrics file, on all its GPUs."""
    import statistics

    from transformers import AutoConfig

    from worldmodel.model.loading import resolve_model_dir

    records = [json.loads(line) for line in args.metrics.read_text().splitlines() if line]
    rates = [r["tokens_per_s"] for r in records if r.get("tokens_per_s")][1:]  # after warm-up
    if not rates:
        raise SystemExit(f"{args.metrics}: no tokens_per_s after the first record")
    device_name = ""
    if args.peak_tflops is None:
        import torch

        if torch.cuda.is_available():
            device_name = torch.cuda.get_device_name(0)
    peak = peak_tflops(device_name, args.peak_tflops)
    if not peak:
        raise SystemExit("the GPUs' peak is unknown here: pass --peak-tflops")
    config = AutoConfig.from_pretrained(resolve_model_dir(args.model))
    per_token = flops_per_token(config, args.seq_len)
    rate = statistics.median(rates)  # every rank's tokens, summed by the trainer
    share = mfu(rate, per_token, peak, args.world_size)
    report = {
        "metrics": str(args.metrics),
        "world_size": args.world_size,
        "median_tokens_per_s": rate,
        "flops_per_token": round(per_token),
        "peak_tflops_per_device": peak,
        "mfu": round(share, 4),
    }
    if args.json:
        print(json.dumps(report, indent=2))
        return
    print(
        f"{args.world_size} device(s): median {rate:.0f} tokens/s over {len(rates)} logged "
        f"windows; MFU {100 * share:.1f}% of {args.world_size} x {peak} TFLOPS"
    )


if __name__ == "__main__":
    main()
