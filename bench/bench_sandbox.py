"""Benchmark the VM sandbox.

Run:  .venv/bin/python bench/bench_sandbox.py [--runs 20] [--throughput-s 60] [--json]
(the same as `wm sandbox bench`). Needs a built image (`wm sandbox build-image`) and QEMU.

Prints cold boot, restore-to-ready, per-execution latency through a warm pool (p50 and p95)
beside a plain host subprocess running the same code (as ratios), and executions per minute
with pool sizes 1, 2 and 4. The measurement code lives in sandbox/vm/bench.py.
"""

from __future__ import annotations

import argparse
import json
import sys

from sandbox.vm.bench import format_report, run_bench


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=20, help="executions per latency row")
    parser.add_argument("--throughput-s", type=float, default=60.0, help="seconds per pool size")
    parser.add_argument("--pool-sizes", default="1,2,4", help="comma-separated pool sizes")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    args = parser.parse_args()
    sizes = [int(s) for s in args.pool_sizes.split(",") if s.strip()]
    report = run_bench(
        runs=args.runs,
        throughput_s=args.throughput_s,
        pool_sizes=sizes,
        progress=lambda m: print(m, file=sys.stderr),
    )
    print(json.dumps(report, indent=2) if args.json else format_report(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
