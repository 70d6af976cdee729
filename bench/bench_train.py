"""Training throughput: packing vs padding to 512 tokens, CPU thread counts, fp32 vs bf16.

The predecessor padded every example to 512 tokens; we pack several examples per row. Both
layouts train the same LoRA model on the same examples for a few optimizer steps; the number
that matters is useful (non-padding) tokens per second, printed with the ratio.

    .venv/bin/python bench/bench_train.py                      # bundled SmolLM2, data/train.jsonl
    .venv/bin/python bench/bench_train.py --threads 1 2        # compare thread counts (packed)
    .venv/bin/python bench/bench_train.py --bf16               # also packed with bf16 autocast
    .venv/bin/python bench/bench_train.py --model DIR --steps 5 --json

On a shared machine other processes compete for the cores: the load average is printed with
the numbers, and the thread comparison should be read with it.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path
from typing import Any


def _setup(model: str, data: Path, examples: int, seq_len: int) -> tuple[Any, Any, list[Any]]:
    import torch
    from peft import LoraConfig, get_peft_model

    from worldmodel.model.loading import load_model, resolve_model_dir
    from worldmodel.train.config import DEFAULT_TARGETS
    from worldmodel.train.trainer import encode_records, read_records

    base, tokenizer = load_model(resolve_model_dir(model), trainable_adapter=True)
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


def _run(model: Any, batches: list[Any], threads: int, bf16: bool = False) -> dict[str, float]:
    """Train on `batches` (the first untimed); bf16: autocast as the trainer does for
    `precision: bf16` (LoRA weights stay fp32)."""
    import torch

    from worldmodel.train.trainer import batch_loss

    torch.set_num_threads(threads)
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(params, lr=1e-4)
    useful = computed = 0
    t0 = time.perf_counter()
    for index, batch in enumerate(batches):
        if index == 1:  # the first step is untimed: it warms up allocators and kernels
            t0 = time.perf_counter()
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            loss = batch_loss(model, batch, torch.device("cpu")) / max(1, batch.target_tokens)
        loss.backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        if index >= 1:
            useful += batch.tokens
            computed += batch.input_ids.numel()
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
    parser.add_argument(
        "--bf16", action="store_true", help="also time packed rows with bf16 autocast"
    )
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    from worldmodel.train.packing import pack_rows, packed_batch, padded_batch

    need = (args.steps + 1) * args.batch_size * 8  # enough examples to fill the packed rows
    model, tokenizer, examples = _setup(args.model, args.data, need, args.seq_len)
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
        "steps": args.steps,
        "batch_size": args.batch_size,
        "seq_len": args.seq_len,
        "mean_example_tokens": round(sum(lengths) / len(lengths), 1),
        "load_average_1min": round(os.getloadavg()[0], 2),
        "packed": {},
        "padded": {},
    }
    for threads in args.threads:
        report["packed"][threads] = _run(model, packed, threads)
    report["padded"][args.threads[0]] = _run(model, padded, args.threads[0])
    first = args.threads[0]
    if args.bf16:
        from worldmodel.model.device import cpu_has_native_bf16

        report["cpu_native_bf16"] = cpu_has_native_bf16()
        report["packed_bf16"] = {first: _run(model, packed, first, bf16=True)}
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
        f"model {args.model}; {args.steps} timed steps of {args.batch_size} rows x "
        f"{args.seq_len} tokens; mean example {report['mean_example_tokens']} tokens; "
        f"load average {report['load_average_1min']}"
    )
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


if __name__ == "__main__":
    main()
