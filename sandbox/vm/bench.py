"""Measurements of the VM sandbox: cold boot, restore-to-ready, latency, throughput.

- cold boot: QEMU start until the guest daemon is ready (modules imported, listening);
- restore-to-ready: QEMU start from the saved state until the clone is logged in and has its
  fresh clock and entropy;
- latency: one execution through a warm pool (a ready VM is waiting), p50 and p95, beside a
  plain host subprocess (`python -c`) running the same code, as a ratio;
- throughput: executions per minute with pool sizes 1, 2 and 4, with as many client threads
  as VMs (refill is the bottleneck: every VM serves one execution).

Used by `wm sandbox bench` and bench/bench_sandbox.py. Not a test: it asserts nothing.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

from sandbox.executor import Limits
from sandbox.vm.backend import SandboxConfig, VMExecutor, vm_spec
from sandbox.vm.image import locate_image
from sandbox.vm.pool import boot_cold, ensure_state, restore

CODES = {
    "print": "print(sum(range(1000)))",
    "sympy": "import sympy\nprint(sympy.factorint(2**64 + 1))",
}


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return ordered[index]


def _summary(values: list[float]) -> dict[str, float]:
    return {
        "p50": _pct(values, 0.5),
        "p95": _pct(values, 0.95),
        "n": len(values),
        "mean": statistics.fmean(values),
    }


def _host_latency(code: str, runs: int) -> list[float]:
    times = []
    for _ in range(runs):
        start = time.monotonic()
        subprocess.run([sys.executable, "-c", code], capture_output=True, check=True)
        times.append(time.monotonic() - start)
    return times


def run_bench(
    *,
    runs: int = 20,
    throughput_s: float = 60.0,
    pool_sizes: list[int] | None = None,
    restores: int = 5,
    progress: Callable[[str], None] = print,
) -> dict[str, Any]:
    """Run every measurement and return them as one JSON-able dict."""
    paths = locate_image()
    config = SandboxConfig()
    spec = vm_spec(paths, config)
    report: dict[str, Any] = {"accelerator": spec.accelerator, "memory_mb": spec.memory_mb}

    progress("cold boot...")
    start = time.monotonic()
    vm = boot_cold(paths, spec, config.boot_timeout_s, label="bench")
    report["cold_boot_s"] = time.monotonic() - start
    vm.kill()
    ensure_state(paths, spec, config.boot_timeout_s)

    progress(f"restore-to-ready x{restores}...")
    ready_times, restore_times = [], []
    for _ in range(restores):
        ready = restore(
            paths,
            spec,
            ensure_state(paths, spec, config.boot_timeout_s),
            config.restore_timeout_s,
            label="bench",
        )
        ready_times.append(ready.timings["ready_s"])
        restore_times.append(ready.timings["restore_s"])
        ready.destroy()
    report["restore_s"] = _summary(restore_times)
    report["restore_to_ready_s"] = _summary(ready_times)

    report["latency"] = {}
    with VMExecutor(pool_size=1) as executor:
        assert executor.pool is not None
        for name, code in CODES.items():
            progress(f"latency '{name}' x{runs} (vm, warm pool)...")
            vm_times = []
            for _ in range(runs):
                executor.pool.wait_full(config.acquire_timeout_s)
                start = time.monotonic()
                result = executor.run(code, limits=Limits(wall_time_s=60, cpu_time_s=60))
                vm_times.append(time.monotonic() - start)
                if not result.ok:
                    raise RuntimeError(f"bench code failed in the VM: {result}")
            host_times = _host_latency(code, runs)
            vm_s, host_s = _summary(vm_times), _summary(host_times)
            report["latency"][name] = {
                "vm_s": vm_s,
                "host_s": host_s,
                "ratio_p50": vm_s["p50"] / host_s["p50"],
                "ratio_p95": vm_s["p95"] / host_s["p95"],
            }

    report["throughput_per_min"] = {}
    for size in pool_sizes or [1, 2, 4]:
        progress(f"throughput, pool size {size}, {throughput_s:.0f}s...")
        report["throughput_per_min"][str(size)] = _throughput(size, throughput_s)
    return report


def _throughput(size: int, seconds: float) -> float:
    done = 0
    lock = threading.Lock()
    with VMExecutor(pool_size=size, refill_threads=size) as executor:
        assert executor.pool is not None
        executor.pool.wait_full(600)
        stop = time.monotonic() + seconds

        def client() -> None:
            nonlocal done
            while time.monotonic() < stop:
                result = executor.run(CODES["print"])
                if result.ok and time.monotonic() <= stop + 1:
                    with lock:
                        done += 1

        threads = [threading.Thread(target=client) for _ in range(size)]
        start = time.monotonic()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        elapsed = time.monotonic() - start
    return done * 60.0 / elapsed


def format_report(report: dict[str, Any]) -> str:
    lines = [
        f"accelerator: {report['accelerator']}, {report['memory_mb']} MiB per VM",
        f"cold boot to ready daemon: {report['cold_boot_s']:.2f} s",
        f"restore from saved state:  p50 {report['restore_s']['p50']:.2f} s",
        f"restore to ready (SSH up, clock and RNG refreshed): "
        f"p50 {report['restore_to_ready_s']['p50']:.2f} s, "
        f"p95 {report['restore_to_ready_s']['p95']:.2f} s",
        "",
        f"{'code':8} {'vm p50':>8} {'vm p95':>8} {'host p50':>9} {'host p95':>9} "
        f"{'x p50':>7} {'x p95':>7}",
    ]
    for name, row in report["latency"].items():
        lines.append(
            f"{name:8} {row['vm_s']['p50']:8.3f} {row['vm_s']['p95']:8.3f} "
            f"{row['host_s']['p50']:9.3f} {row['host_s']['p95']:9.3f} "
            f"{row['ratio_p50']:7.1f} {row['ratio_p95']:7.1f}"
        )
    lines.append("")
    for size, rate in report["throughput_per_min"].items():
        lines.append(f"pool size {size}: {rate:.1f} executions/minute")
    return "\n".join(lines)
