"""`wm sandbox`: build the VM image, check the sandbox, run code in it, benchmark it.

Thin commands over `sandbox.vm` and `sandbox.registry`. Human output by default, `--json`
for scripts. A sandbox that cannot start is an error naming the fix (exit code 1); code that
fails inside the sandbox is not: `run` prints the result and exits with the code's status.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

from worldmodel.cli.errors import library_errors
from worldmodel.cli.group import wm
from worldmodel.cli.options import sandbox_option


@wm.group()
def sandbox() -> None:
    """Build, inspect and try the code sandbox (single-use QEMU VMs).

    Example: wm sandbox run -c "print(2**10)"
    """


def _emit(data: dict[str, Any], as_json: bool, lines: list[str]) -> None:
    if as_json:
        click.echo(json.dumps(data, indent=2, default=str))
    else:
        for line in lines:
            click.echo(line)


@sandbox.command("build-image")
@click.option("--force", is_flag=True, help="Rebuild even if an image for this recipe exists.")
@click.option("--json", "as_json", is_flag=True, help="Print the manifest as JSON.")
@library_errors
def build_image_cmd(force: bool, as_json: bool) -> None:
    """Build the guest image (kernel + Debian userland) under the WorldModel home.

    Idempotent: an image for the current recipe is reused unless --force.

    Example: wm sandbox build-image
    """
    from sandbox.vm.build import build_image
    from sandbox.vm.image import read_manifest

    if not as_json:
        click.echo(
            "building the sandbox image (downloads Debian packages, boots it once)...", err=True
        )
    paths = build_image(force=force)
    manifest = read_manifest(paths.root)
    size_mb = (manifest["kernel_bytes"] + manifest["initrd_bytes"]) / 2**20
    _emit(
        {"image": str(paths.root), **manifest},
        as_json,
        [
            f"image:    {paths.root}",
            f"size:     {size_mb:.0f} MiB (kernel + root file system)",
            f"built in: {manifest['build_seconds']} s (cold boot {manifest['cold_boot_s']:.1f} s, "
            f"{manifest['verified_with_accelerator']})",
            f"modules:  {', '.join(manifest['python_modules'])}",
        ],
    )


@sandbox.command()
@click.option("--json", "as_json", is_flag=True, help="Print the status as JSON.")
@library_errors
def status(as_json: bool) -> None:
    """Say whether the VM sandbox can run here: QEMU, image, accelerator, saved states.

    Example: wm sandbox status
    """
    from sandbox.registry import vm_status

    info = vm_status()
    problems = info["problems"]
    lines = [f"{key}: {value}" for key, value in info.items() if key not in ("problems",)]
    lines += [f"problem: {p}" for p in problems]
    _emit(info, as_json, lines)
    if problems:
        sys.exit(1)


@sandbox.command()
@click.argument(
    "file", required=False, type=click.Path(exists=True, dir_okay=False, path_type=Path)
)
@click.option("-c", "code", help="Python code to run (instead of FILE).")
@sandbox_option(dest="backend")
@click.option("--timeout", type=float, default=10.0, show_default=True, help="Wall seconds.")
@click.option("--memory-mb", type=int, default=512, show_default=True, help="Memory cap, MiB.")
@click.option("--json", "as_json", is_flag=True, help="Print the ExecutionResult as JSON.")
@library_errors
def run(
    file: Path | None, code: str | None, backend: str, timeout: float, memory_mb: int, as_json: bool
) -> None:
    """Run Python code in the sandbox and print what it wrote.

    Exits with the code's exit status (124 if it timed out).

    Example: wm sandbox run -c "import sympy; print(sympy.factorint(360))"
    """
    from sandbox.executor import Limits
    from sandbox.registry import get_executor

    if file is not None and code is None:
        from worldmodel.files import read_utf8

        source = read_utf8(file)
    elif code is not None and file is None:
        source = code
    else:
        raise click.UsageError("give exactly one of FILE or -c CODE")
    options: dict[str, Any] = {"pool_size": 1} if backend == "vm" else {}
    limits = Limits(wall_time_s=timeout, cpu_time_s=timeout, memory_mb=memory_mb)
    executor = get_executor(backend, **options)
    try:
        result = executor.run(source, limits=limits)
    finally:
        executor.close()
    if as_json:
        click.echo(json.dumps(result.to_dict(), indent=2))
    else:
        sys.stdout.write(result.stdout)
        sys.stderr.write(result.stderr)
        flags = [
            name
            for name in ("timed_out", "memory_exceeded", "output_truncated")
            if getattr(result, name)
        ]
        accel = result.details.get("accelerator")
        click.echo(
            f"[{result.backend}{'/' + accel if accel else ''}] exit {result.exit_code} in "
            f"{result.duration_s:.2f}s{' ' + ' '.join(flags) if flags else ''}",
            err=True,
        )
    if result.timed_out:
        sys.exit(124)
    sys.exit(result.exit_code if result.exit_code is not None and result.exit_code >= 0 else 1)


@sandbox.command()
@click.option("--runs", type=int, default=20, show_default=True, help="Executions per latency row.")
@click.option(
    "--throughput-s",
    type=float,
    default=60.0,
    show_default=True,
    help="Seconds each pool size is measured for executions per minute.",
)
@click.option("--pool-sizes", default="1,2,4", show_default=True, help="Pool sizes to compare.")
@click.option("--json", "as_json", is_flag=True, help="Print the measurements as JSON.")
@library_errors
def bench(runs: int, throughput_s: float, pool_sizes: str, as_json: bool) -> None:
    """Measure cold boot, restore-to-ready, per-execution latency and executions per minute.

    Example: wm sandbox bench --runs 10 --throughput-s 30
    """
    from sandbox.vm.bench import format_report, run_bench

    sizes = [int(s) for s in pool_sizes.split(",") if s.strip()]
    report = run_bench(
        runs=runs,
        throughput_s=throughput_s,
        pool_sizes=sizes,
        progress=lambda m: click.echo(m, err=True),
    )
    if as_json:
        click.echo(json.dumps(report, indent=2))
    else:
        click.echo(format_report(report))
