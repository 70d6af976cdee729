"""Generation throughput: 8 questions in one batched pass vs one at a time, as a ratio; and
the cost of the loop guard (`worldmodel.loops`), batched with it vs without, per token.
With `--breakdown`: where a decode step's time goes (`_steps.py`), at batch 1, 8 and 32.

Greedy decoding, so both ways must produce the same answers; the script checks that and
reports generated tokens per second for each, plus the ratios. Each way runs `--rounds` times,
interleaved, and the medians are compared. The guard may end a looping answer early, so its
cost is compared per generated token, and the script says whether any answer changed.

    .venv/bin/python bench/bench_generate.py                        # bundled SmolLM2 base
    .venv/bin/python bench/bench_generate.py --adapter DIR --max-new-tokens 128 --json
    .venv/bin/python bench/bench_generate.py --breakdown --model DIR    # shares of a step
    python bench/bench_generate.py --device cuda --model DIR          # on a GPU (bf16)
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
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
    parser.add_argument("--rounds", type=int, default=3, help="runs of each way (medians)")
    add_device_arguments(parser)
    parser.add_argument(
        "--breakdown",
        action="store_true",
        help="instead: each decode step's forward / logits processors / detokenise / other "
        "shares, and tokens/s, at each --batches size",
    )
    parser.add_argument("--batches", default="1,8,32", help="batch sizes for --breakdown")
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
    if args.breakdown:
        sizes = [int(size) for size in args.batches.split(",")]
        _print_breakdown(generator, args, sizes)
        return
    report: dict[str, Any] = {
        "model": args.model,
        "device": str(generator.device),
        "dtype": str(generator.model.dtype).removeprefix("torch."),
        "adapter": args.adapter,
        "questions": len(QUESTIONS),
        "max_new_tokens": args.max_new_tokens,
        "load_average_1min": round(os.getloadavg()[0], 2),
    }
    ways = {
        "batched": (len(QUESTIONS), True),
        "one_at_a_time": (1, True),
        "batched_no_loop_guard": (len(QUESTIONS), False),
    }
    answers: dict[str, list[str]] = {}
    runs: dict[str, list[tuple[float, int, int]]] = {name: [] for name in ways}
    for _ in range(max(args.rounds, 1)):
        for name, (batch_size, loop_guard) in ways.items():
            generator.config.batch_size = batch_size
            generator.config.loop_guard = loop_guard
            answers[name] = generator.complete(QUESTIONS)
            stats = generator.stats
            runs[name].append((stats.seconds, stats.new_tokens, len(stats.forward_passes)))
    for name, measured in runs.items():
        seconds = statistics.median(run[0] for run in measured)
        tokens = measured[-1][1]
        report[name] = {
            "seconds": round(seconds, 2),
            "new_tokens": tokens,
            "tokens_per_s": round(tokens / seconds, 1),
            "forward_passes": measured[-1][2],
        }
    report["rounds"] = max(args.rounds, 1)
    report["same_answers"] = answers["batched"] == answers["one_at_a_time"]
    report["speedup_batched_vs_one_at_a_time"] = round(
        report["one_at_a_time"]["seconds"] / report["batched"]["seconds"], 2
    )
    report["loop_guard_changed_answers"] = answers["batched"] != answers["batched_no_loop_guard"]
    report["seconds_per_token_with_vs_without_loop_guard"] = round(
        (report["batched"]["seconds"] / max(report["batched"]["new_tokens"], 1))
        / (
            report["batched_no_loop_guard"]["seconds"]
            / max(report["batched_no_loop_guard"]["new_tokens"], 1)
        ),
        3,
    )
    if args.json:
        print(json.dumps(report, indent=2))
        return
    print(
        f"model {args.model} adapter {args.adapter} on {report['device']} "
        f"({report['dtype']}); {len(QUESTIONS)} questions, "
        f"up to {args.max_new_tokens} new tokens each; median of {report['rounds']} runs; "
        "load average "
        f"{report['load_average_1min']}"
    )
    for name in ways:
        numbers = report[name]
        print(
            f"{name:22} {numbers['seconds']:7.2f} s  {numbers['new_tokens']:5d} tokens  "
            f"{numbers['tokens_per_s']:7.1f} tok/s"
        )
    print(
        f"batched vs one at a time: {report['speedup_batched_vs_one_at_a_time']}x; "
        f"same answers: {report['same_answers']}"
    )
    print(
        "loop guard, seconds per token with vs without: "
        f"{report['seconds_per_token_with_vs_without_loop_guard']}x; "
        f"answers changed: {report['loop_guard_changed_answers']}"
    )


def questions(count: int) -> list[str]:
    """`count` distinct questions: QUESTIONS, then numbered variants of them."""
    return [
        QUESTIONS[i % len(QUESTIONS)] + (f" (question {i + 1})" if i >= len(QUESTIONS) else "")
        for i in range(count)
    ]


def _print_breakdown(generator: Any, args: argparse.Namespace, sizes: list[int]) -> None:
    """Per batch size: the median run (by tokens/s) of `--rounds`, its step broken down."""
    from _steps import PARTS, measure

    report: dict[str, Any] = {
        "model": args.model,
        "device": str(generator.device),
        "dtype": str(generator.model.dtype).removeprefix("torch."),
        "max_new_tokens": args.max_new_tokens,
        "load_average_1min": round(os.getloadavg()[0], 2),
        "batches": {},
    }
    for size in sizes:
        generator.config.batch_size = size
        runs = [measure(generator, questions(max(size, 4))) for _ in range(max(args.rounds, 1))]
        runs.sort(key=lambda run: run["tokens_per_s"])
        report["batches"][size] = runs[len(runs) // 2]
    if args.json:
        print(json.dumps(report, indent=2))
        return
    print(
        f"model {args.model} on {report['device']} ({report['dtype']}); up to "
        f"{args.max_new_tokens} new tokens; median of {max(args.rounds, 1)} runs; load average "
        f"{report['load_average_1min']}"
    )
    print(f"{'batch':>5} {'tok/s':>8} {'ms/step':>8}  " + "  ".join(f"{p:>17}" for p in PARTS))
    for size, run in report["batches"].items():
        shares = "  ".join(f"{run['shares'][p]:>17.1%}" for p in PARTS)
        print(f"{size:>5} {run['tokens_per_s']:>8.1f} {run['ms_per_step']:>8.2f}  {shares}")


if __name__ == "__main__":
    main()
