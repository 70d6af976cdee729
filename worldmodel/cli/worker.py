"""`wm worker gpu` and `wm worker sandbox`: start one Celery worker process in the foreground.

The command builds the worker's environment and argv (`workers.worker`) and replaces itself
with `celery worker` (exec), so the pid the user or systemd sees is the worker itself, and the
GPU pinning variables are in its environment before anything there can import torch. Logs go to
stderr. This module does not define tasks.
"""

from __future__ import annotations

import os
import sys
from typing import Any

import click

from worldmodel.cli.errors import library_errors
from worldmodel.cli.group import wm


def _settings() -> Any:
    from workers.settings import load_settings

    return load_settings()


def _exec(argv: list[str], env: dict[str, str], dry_run: bool) -> None:
    if dry_run:
        click.echo(" ".join(argv))
        for key in ("WM_WORKER_KIND", "WM_GPU", "HIP_VISIBLE_DEVICES", "CUDA_VISIBLE_DEVICES"):
            if key in env:
                click.echo(f"{key}={env[key]}")
        return
    sys.stdout.flush()
    sys.stderr.flush()
    os.execve(argv[0], argv, env)


@wm.group("worker")
def worker() -> None:
    """Run a worker of the job system (needs Redis: WM_BROKER_URL)."""


@worker.command("gpu")
@click.option(
    "--gpu",
    type=int,
    default=None,
    help="GPU index to pin (HIP_VISIBLE_DEVICES/CUDA_VISIBLE_DEVICES); omit for CPU.",
)
@click.option(
    "--queues",
    default=None,
    help="Comma-separated queues (default: generate,generate-batch,train).",
)
@click.option("--hostname", "host", default=None, help="Box name in the worker name.")
@click.option("--loglevel", default="INFO", show_default=True)
@click.option("--dry-run", is_flag=True, help="Print the worker command and pinning; run nothing.")
@library_errors
def gpu(
    gpu: int | None, queues: str | None, host: str | None, loglevel: str, dry_run: bool
) -> None:
    """Run a generation/training worker named gpu{N}@{box}, pinned to GPU N.

    Example: wm worker gpu --gpu 0
    """
    from workers.routes import GPU_QUEUES
    from workers.worker import gpu_worker_command

    chosen = [q.strip() for q in queues.split(",") if q.strip()] if queues else None
    unknown = sorted(set(chosen or ()) - set(GPU_QUEUES))
    if unknown:
        raise click.UsageError(f"unknown queue(s) {unknown}; choose from {list(GPU_QUEUES)}")
    if gpu is not None and gpu < 0:
        raise click.UsageError("--gpu must be >= 0")
    argv, env = gpu_worker_command(
        _settings(), gpu=gpu, queues=chosen, host=host, loglevel=loglevel
    )
    _exec(argv, env, dry_run)


@worker.command("sandbox")
@click.option(
    "--pool-size",
    type=int,
    default=2,
    show_default=True,
    help="Executions at once (and ready VMs kept, with the VM backend).",
)
@click.option("--hostname", "host", default=None, help="Box name in the worker name.")
@click.option("--loglevel", default="INFO", show_default=True)
@click.option("--dry-run", is_flag=True, help="Print the worker command; run nothing.")
@library_errors
def sandbox(pool_size: int, host: str | None, loglevel: str, dry_run: bool) -> None:
    """Run a sandbox worker named sandbox@{box}, executing code blocks (never loads torch).

    Example: wm worker sandbox --pool-size 4
    """
    from workers.worker import sandbox_worker_command

    if pool_size < 1:
        raise click.UsageError("--pool-size must be >= 1")
    argv, env = sandbox_worker_command(
        _settings(), pool_size=pool_size, host=host, loglevel=loglevel
    )
    _exec(argv, env, dry_run)
