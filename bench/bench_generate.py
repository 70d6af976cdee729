"""Generation throughput: 8 questions in one batched pass vs one at a time, as a ratio.

Greedy decoding, so both ways must produce the same answers; the script checks that and
reports generated tokens per second for each, plus the ratio.

    .venv/bin/python bench/bench_generate.py                        # bundled SmolLM2 base
    .venv/bin/python bench/bench_generate.py --adapter DIR --max-new-tokens 128 --json
    python bench/bench_generate.py --device cuda --model DIR          # on a GPU (bf16)
"""

from __future__ import annotations

import argparse
import json
import os
from typing import Any

from _device import add_device_arguments  # bench/_device.py, beside this script

QUESTIONS = [
    "What is 15% of 200?",
    "Is 97 a prime number?",
    "How many days are there in 7 weeks?",
    "What is the sum of the integers from 1 to 100?",
    "Convert 100 degrees Fahrenheit to Celsius.",
    "How many vowels are in the word 'encyclopedia'?",
    "What is 2 to the power of 20?",
    "Reverse the string 'worldmodel'.",
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", default="bundled")
    parser.add_argument("--adapter", default=None)
    parser.add_argument("--max-new-tokens", type=int, default=64)
    parser.add_argument("--threads", type=int, default=None)
    add_device_arguments(parser)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    from worldmodel.generate import GenerationConfig, Generator

    config = GenerationConfig(
        max_new_tokens=args.max_new_tokens,
        batch_size=len(QUESTIONS),
        threads=args.threads,
        device=args.device,
        precision=args.precision,
    )
    generator = Generator(args.model, args.adapter, config=config)
    generator.complete(QUESTIONS[:1])  # warm-up, untimed
    report: dict[str, Any] = {
        "model": args.model,
        "device": str(generator.device),
        "dtype": str(generator.model.dtype).removeprefix("torch."),
        "adapter": args.adapter,
        "questions": len(QUESTIONS),
        "max_new_tokens": args.max_new_tokens,
        "load_average_1min": round(os.getloadavg()[0], 2),
    }
    answers = {}
    for name, batch_size in (("batched", len(QUESTIONS)), ("one_at_a_time", 1)):
        generator.config.batch_size = batch_size
        answers[name] = generator.complete(QUESTIONS)
        stats = generator.stats
        report[name] = {
            "seconds": round(stats.seconds, 2),
            "new_tokens": stats.new_tokens,
            "tokens_per_s": round(stats.new_tokens / stats.seconds, 1),
            "forward_passes": len(stats.forward_passes),
        }
    report["same_answers"] = answers["batched"] == answers["one_at_a_time"]
    report["speedup_batched_vs_one_at_a_time"] = round(
        report["one_at_a_time"]["seconds"] / report["batched"]["seconds"], 2
    )
    if args.json:
        print(json.dumps(report, indent=2))
        return
    print(
        f"model {args.model} adapter {args.adapter} on {report['device']} "
        f"({report['dtype']}); {len(QUESTIONS)} questions, "
        f"up to {args.max_new_tokens} new tokens each; load average "
        f"{report['load_average_1min']}"
    )
    for name in ("batched", "one_at_a_time"):
        numbers = report[name]
        print(
            f"{name:14} {numbers['seconds']:7.2f} s  {numbers['new_tokens']:5d} tokens  "
            f"{numbers['tokens_per_s']:7.1f} tok/s"
        )
    print(
        f"batched vs one at a time: {report['speedup_batched_vs_one_at_a_time']}x; "
        f"same answers: {report['same_answers']}"
    )


if __name__ == "__main__":
    main()
