"""Benchmark the job queues: batching on vs off, and the queue path vs in-process.

Run:  .venv/bin/python bench/bench_queue.py [--queries 48] [--delay 0.5] [--runs 20] [--json]

Starts its own password-protected redis-server and real `wm worker` processes (the test harness
in tests/workers/harness.py), with the process sandbox. Generation is the scripted completer
from tests/workers (a fixed cost per generation call, `--delay` seconds, like a forward pass
whose cost barely depends on the batch size), because a random-weight model cannot write the
response format; the queues, workers, sandbox and verification are real. Prints:

- throughput: `--queries` queries submitted at once, answered with batch size 8 and with batch
  size 1 (batching off); queries/s of each and their ratio;
- overhead: the same query answered `--runs` times one at a time, through the queues (submit
  -> generate -> sandbox -> compose -> result) and in-process (`worldmodel.pipeline.Pipeline`
  with the same completer and sandbox), with no generation delay; mean seconds and the ratio.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "tests" / "workers"), str(ROOT)]

from harness import Cluster, RedisServer  # noqa: E402

from workers import jobs  # noqa: E402


def _throughput(folder: Path, queries: int, delay: float, batch: int) -> float:
    redis = RedisServer(folder / f"redis-b{batch}")
    redis.start()
    cluster = Cluster(folder / f"b{batch}", redis)
    cluster.folder.mkdir(parents=True, exist_ok=True)
    try:
        cluster.start_pair(
            sandbox=("--pool-size", "4"),
            WM_BATCH_SIZE=str(batch),
            WM_BATCH_WAIT_S="0.02",
            WM_TEST_DELAY_S=str(delay),
        )
        app = cluster.app
        started = time.perf_counter()
        ids = [jobs.submit_query(app, f"What is {n} + 2?") for n in range(queries)]
        for job_id in ids:
            jobs.result(app, job_id, wait=True, timeout_s=600)
        return queries / (time.perf_counter() - started)
    finally:
        cluster.teardown()


def _overhead(folder: Path, runs: int) -> tuple[float, float]:
    from scripted_completer import ScriptedCompleter

    from sandbox.registry import get_executor
    from worldmodel.pipeline import Pipeline

    question = "What is 12 * 12?"
    executor = get_executor("process")
    try:
        pipeline = Pipeline(ScriptedCompleter(), executor)
        pipeline.answer(question)  # warm up
        local = []
        for _ in range(runs):
            started = time.perf_counter()
            assert pipeline.answer(question).final == "144"
            local.append(time.perf_counter() - started)
    finally:
        executor.close()
    redis = RedisServer(folder / "redis-overhead")
    redis.start()
    cluster = Cluster(folder / "overhead", redis)
    cluster.folder.mkdir(parents=True, exist_ok=True)
    try:
        cluster.start_pair(WM_BATCH_WAIT_S="0")
        app = cluster.app
        jobs.result(app, jobs.submit_query(app, question), wait=True, timeout_s=60)  # warm up
        queued = []
        for _ in range(runs):
            started = time.perf_counter()
            answer = jobs.result(app, jobs.submit_query(app, question), wait=True, timeout_s=60)
            assert answer["final"] == "144"
            queued.append(time.perf_counter() - started)
    finally:
        cluster.teardown()
    return statistics.mean(queued), statistics.mean(local)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--queries", type=int, default=48, help="queries per throughput run")
    parser.add_argument("--delay", type=float, default=0.5, help="seconds per generation call")
    parser.add_argument("--runs", type=int, default=20, help="queries per overhead measurement")
    parser.add_argument("--json", action="store_true", help="print JSON")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="wm-bench-queue-") as tmp:
        folder = Path(tmp)
        on = _throughput(folder, args.queries, args.delay, batch=8)
        off = _throughput(folder, args.queries, args.delay, batch=1)
        queued, local = _overhead(folder, args.runs)
    report = {
        "queries": args.queries,
        "generation_delay_s": args.delay,
        "throughput_batched_qps": round(on, 2),
        "throughput_unbatched_qps": round(off, 2),
        "batching_speedup": round(on / off, 2),
        "queue_path_mean_s": round(queued, 4),
        "in_process_mean_s": round(local, 4),
        "queue_overhead_ratio": round(queued / local, 2),
    }
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        print(f"throughput, batch 8: {report['throughput_batched_qps']} queries/s")
        print(f"throughput, batch 1: {report['throughput_unbatched_qps']} queries/s")
        print(f"batching speed-up:   {report['batching_speedup']}x")
        print(f"queue path:          {report['queue_path_mean_s']} s per query")
        print(f"in-process:          {report['in_process_mean_s']} s per query")
        print(f"queue overhead:      {report['queue_overhead_ratio']}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
