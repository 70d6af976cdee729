"""Benchmark the job queues: batching on vs off, and the queue path vs in-process.

Run:  .venv/bin/python bench/bench_queue.py [--queries 48] [--delay 0.5] [--runs 20]
                                            [--bundled-rounds 3 | --no-bundled]
                                            [--load-queries 32 | --no-load] [--json]

Starts its own password-protected redis-server and real `wm worker` processes (the test harness
in tests/workers/harness.py), with the process sandbox. Generation is the scripted completer
from tests/workers (a fixed cost per generation call, `--delay` seconds, like a forward pass
whose cost barely depends on the batch size), because a random-weight model cannot write the
response format; the queues, workers, sandbox and verification are real. Prints:

- throughput: `--queries` queries submitted at once, answered with batch size 8 and with batch
  size 1 (batching off); queries/s of each and their ratio;
- overhead: the same query answered `--runs` times one at a time, through the queues (submit
  -> generate -> sandbox -> compose -> result) and in-process (`worldmodel.pipeline.Pipeline`
  with the same completer and sandbox), with no generation delay; mean seconds and the ratio;
- sandbox scaling: `--load-queries` sandbox-bound queries (1.5 s of code each) submitted at
  once, with 1, 2 and 4 sandbox workers (one run at a time each); queries/s, its ratio to one
  worker, and p50/p99 latency from submit to stored result;
- durability: the same load (quick code, 2 sandbox workers) against Redis with `appendfsync
  everysec` (the default) and `always` (the durable setting, `wm stack up --durable`); each
  one's submit p50/p99 (what the client waits for before "accepted"), queries/s and latency,
  and the ratios (`--no-load` skips these two);
- the bundled model: what a user gets by default, the real bundled model and adapter in their
  recorded mode, answering a few test-split questions one at a time in this process and through
  workers on their defaults, interleaved question by question for `--bundled-rounds` rounds;
  the median seconds of each path and the ratio (the queue path's extra latency over
  in-process). It converts the bundled model into `$WM_HOME` first if needed.
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

from harness import Cluster, RedisServer, finished_at, percentile  # noqa: E402

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


def _load(
    folder: Path,
    name: str,
    *,
    queries: int,
    sandboxes: int,
    question: str,
    fsync: str | None = None,
    delay: float = 0.05,
) -> dict[str, float]:
    """`queries` queries submitted at once to one generation worker (batch 8) and `sandboxes`
    sandbox workers (one run at a time each); throughput, latency percentiles (submit to
    stored result) and how long each submit took."""
    redis = RedisServer(folder / f"redis-{name}", fsync=fsync)
    redis.start()
    cluster = Cluster(folder / name, redis)
    cluster.folder.mkdir(parents=True, exist_ok=True)
    try:
        extra = {"WM_BATCH_SIZE": "8", "WM_BATCH_WAIT_S": "0.02", "WM_TEST_DELAY_S": str(delay)}
        workers = [cluster.start_worker("gpu", box="gen", wait=False, **extra)]
        workers += [
            cluster.start_worker("sandbox", "--pool-size", "1", box=f"s{i}", wait=False, **extra)
            for i in range(sandboxes)
        ]
        for worker in workers:
            cluster.wait_ready(worker)
        app = cluster.app
        submitted: dict[str, float] = {}
        submit_s: list[float] = []
        for n in range(queries):
            started = time.perf_counter()
            at = time.time()
            job_id = jobs.submit_query(app, question.format(n=n))
            submit_s.append(time.perf_counter() - started)
            submitted[job_id] = at
        for job_id in submitted:
            answer = jobs.result(app, job_id, wait=True, timeout_s=600)
            assert answer["verification"]["status"] == "verified", answer
        finished = {job_id: finished_at(app, job_id) for job_id in submitted}
        latency = [finished[j] - submitted[j] for j in submitted]
        span = max(finished.values()) - min(submitted.values())
        return {
            "qps": queries / span,
            "p50_s": statistics.median(latency),
            "p99_s": percentile(latency, 0.99),
            "submit_p50_ms": 1000 * statistics.median(submit_s),
            "submit_p99_ms": 1000 * percentile(submit_s, 0.99),
        }
    finally:
        cluster.teardown()


SLOW_QUESTION = "What is {n} + 2, slowly?"
"""The scripted completer's code for it sleeps 1.5 s in the sandbox: the sandbox is the work."""


def _scaling(folder: Path, queries: int) -> dict[int, dict[str, float]]:
    """The queue path with 1, 2 and 4 sandbox workers, on sandbox-bound queries."""
    return {
        n: _load(folder, f"sandboxes-{n}", queries=queries, sandboxes=n, question=SLOW_QUESTION)
        for n in (1, 2, 4)
    }


def _durability(folder: Path, queries: int) -> dict[str, dict[str, float]]:
    """The same load with Redis fsyncing once a second (the default) and on every write."""
    from workers.stack import FSYNC_MODES

    return {
        fsync: _load(
            folder,
            f"fsync-{fsync}",
            queries=queries,
            sandboxes=2,
            question="What is {n} + 2?",
            fsync=fsync,
        )
        for fsync in FSYNC_MODES
    }


BUNDLED_QUESTIONS = (
    "A store takes 35% off a chair priced at $130. How much does it cost now?",
    'Our team project is called "hollow silver wizard". What would its capital-letter acronym be?',
    "What is the number of days separating 1953-02-02 and 2019-11-12?",
    "Work out the range of 217, 351, 308, 124, 770, 651, 119, 725.",
)


def _bundled_overhead(folder: Path, rounds: int) -> dict[str, float]:
    """Median seconds per query on the bundled model, in-process and through the queues."""
    from sandbox.registry import get_executor
    from worldmodel.generate import Generator
    from worldmodel.home import wm_home
    from worldmodel.model.defaults import resolve_model
    from worldmodel.pipeline import Pipeline

    choice = resolve_model(None, None, None)
    executor = get_executor("process")
    redis = RedisServer(folder / "redis-bundled")
    redis.start()
    cluster = Cluster(folder / "bundled", redis, WM_HOME=str(wm_home()))
    cluster.folder.mkdir(parents=True, exist_ok=True)
    for stand_in in ("WM_COMPLETER", "WM_MODEL"):  # workers on their defaults
        cluster.settings.pop(stand_in, None)
    cluster.settings |= {"WM_GENERATE_TIME_LIMIT_S": "900", "WM_VISIBILITY_TIMEOUT_S": "1800"}
    try:
        pipeline = Pipeline(
            Generator(choice.model_dir, choice.adapter_dir), executor, mode=choice.mode
        )
        cluster.start_pair(WM_BATCH_WAIT_S="0")
        app = cluster.app
        local: list[float] = []
        queued: list[float] = []
        for round_ in range(rounds + 1):  # round 0 warms both paths up
            for question in BUNDLED_QUESTIONS:
                started = time.perf_counter()
                mine = pipeline.answer(question)
                took_local = time.perf_counter() - started
                started = time.perf_counter()
                job_id = jobs.submit_query(app, question)
                theirs = jobs.result(app, job_id, wait=True, timeout_s=900)
                took_queued = time.perf_counter() - started
                if theirs["generated"] != mine.generated:
                    raise SystemExit(f"the two paths answered {question!r} differently")
                if round_:
                    local.append(took_local)
                    queued.append(took_queued)
    finally:
        executor.close()
        cluster.teardown()
    return {
        "queued_median_s": statistics.median(queued),
        "local_median_s": statistics.median(local),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--queries", type=int, default=48, help="queries per throughput run")
    parser.add_argument("--delay", type=float, default=0.5, help="seconds per generation call")
    parser.add_argument("--runs", type=int, default=20, help="queries per overhead measurement")
    parser.add_argument(
        "--bundled-rounds", type=int, default=3, help="rounds of the bundled-model comparison"
    )
    parser.add_argument(
        "--no-bundled", action="store_true", help="skip the bundled-model comparison"
    )
    parser.add_argument(
        "--load-queries", type=int, default=32, help="queries per scaling and durability run"
    )
    parser.add_argument(
        "--no-load", action="store_true", help="skip the sandbox scaling and durability runs"
    )
    parser.add_argument("--json", action="store_true", help="print JSON")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="wm-bench-queue-") as tmp:
        folder = Path(tmp)
        on = _throughput(folder, args.queries, args.delay, batch=8)
        off = _throughput(folder, args.queries, args.delay, batch=1)
        queued, local = _overhead(folder, args.runs)
        scaling = None if args.no_load else _scaling(folder, args.load_queries)
        durable = None if args.no_load else _durability(folder, args.load_queries)
        bundled = None if args.no_bundled else _bundled_overhead(folder, args.bundled_rounds)
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
    if scaling is not None and durable is not None:
        base = scaling[1]["qps"]
        report["sandbox_scaling"] = {
            str(n): {k: round(v, 3) for k, v in row.items()} | {"vs_1": round(row["qps"] / base, 2)}
            for n, row in scaling.items()
        }
        report["durability"] = {
            fsync: {k: round(v, 3) for k, v in row.items()} for fsync, row in durable.items()
        }
        every, always = durable["everysec"], durable["always"]
        report["durable_submit_cost_ratio"] = round(
            always["submit_p50_ms"] / every["submit_p50_ms"], 2
        )
        report["durable_throughput_ratio"] = round(always["qps"] / every["qps"], 2)
    if bundled is not None:
        report |= {
            "bundled_questions": len(BUNDLED_QUESTIONS) * args.bundled_rounds,
            "bundled_queue_median_s": round(bundled["queued_median_s"], 3),
            "bundled_in_process_median_s": round(bundled["local_median_s"], 3),
            "bundled_queue_ratio": round(bundled["queued_median_s"] / bundled["local_median_s"], 3),
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
        for n, row in report.get("sandbox_scaling", {}).items():
            print(
                f"{n} sandbox worker(s): {row['qps']} queries/s ({row['vs_1']}x of 1), "
                f"latency p50 {row['p50_s']} s, p99 {row['p99_s']} s"
            )
        for fsync, row in report.get("durability", {}).items():
            print(
                f"appendfsync {fsync:8}: {row['qps']} queries/s, submit p50 "
                f"{row['submit_p50_ms']} ms, p99 {row['submit_p99_ms']} ms, latency p50 "
                f"{row['p50_s']} s, p99 {row['p99_s']} s"
            )
        if "durability" in report:
            print(
                f"durable (always) vs everysec: submit p50 {report['durable_submit_cost_ratio']}x,"
                f" throughput {report['durable_throughput_ratio']}x"
            )
        if bundled is not None:
            print(
                f"bundled model, {report['bundled_questions']} queries each way, medians: "
                f"queue {report['bundled_queue_median_s']} s, in-process "
                f"{report['bundled_in_process_median_s']} s, "
                f"ratio {report['bundled_queue_ratio']}x"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
