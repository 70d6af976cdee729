"""Benchmark: dataset build + verification throughput, in examples per second.

Run from the repository root:

    python bench/bench_data.py                 # 3 runs, --per-template 2, 200 GSM8K lines
    python bench/bench_data.py --runs 5 --per-template 4 --gsm8k-limit 400 --workers 4

Each run builds into a fresh temp folder with `worldmodel.data.build.build` (generation,
GSM8K conversion, sandboxed verification of every example, splitting, writing), and the
script prints the median wall time and examples/s, plus generation-only time so the cost of
verification (process-sandbox runs) is visible. A template yields at least one example per
split kind (5 in all), so --per-template below 5 still gives about 5 per template.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from worldmodel.data.build import build
from worldmodel.data.generate import generate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--per-template", type=int, default=2)
    parser.add_argument("--gsm8k-limit", type=int, default=200)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()

    started = time.perf_counter()
    candidates = len(generate(seed=0, per_template=args.per_template).examples)
    generation_s = time.perf_counter() - started

    times, written = [], 0
    for run in range(args.runs):
        with tempfile.TemporaryDirectory() as out:
            started = time.perf_counter()
            report = build(
                Path(out),
                seed=run,
                per_template=args.per_template,
                gsm8k_limit=args.gsm8k_limit,
                workers=args.workers,
            )
            times.append(time.perf_counter() - started)
            written = sum(report.counts.values())
            failed = sum(n for k, n in report.rejected.items() if k.startswith("verify"))
            print(
                f"run {run + 1}: {written} examples written, {failed} failed verification, "
                f"{times[-1]:.1f} s",
                flush=True,
            )
    median = statistics.median(times)
    print(
        f"generation only: {candidates} candidates in {generation_s:.2f} s "
        f"({candidates / generation_s:.0f}/s)"
    )
    print(
        f"build + verify: median {median:.1f} s over {args.runs} runs, "
        f"{written / median:.1f} examples/s with {args.workers} workers"
    )


if __name__ == "__main__":
    main()
