"""Worker start-up: GPU pinning, naming, the command line, and the objects a worker keeps warm.

`gpu_worker_command` / `sandbox_worker_command` build the environment and argv of a
`celery worker` process; `wm worker gpu|sandbox` execs them (so the pid the user sees is the
worker). Pinning is done in the environment of the new process (`HIP_VISIBLE_DEVICES` and
`CUDA_VISIBLE_DEVICES` = the GPU index), i.e. before any torch import can happen there; the
GPUs of the whole box go into `WM_BOX_GPUS` first, for data-parallel jobs (`workers.gpus`).

Both kinds run Celery's thread pool: a generation worker needs its threads to share the one
model in memory (batching, `workers.batching`), and a sandbox worker's executions are
subprocesses or VMs anyway. Celery's time limits are not enforced by the thread pool, so the
tasks bound themselves (batcher timeout, block limits, training deadline).

Inside a worker, `load_completer` builds the generator once per process and `executor` the
sandbox backend; `describe` reports both for `wm workers`. A generation worker has a thread
per batch slot plus one, and takes one message per free thread, but it runs one training job at
a time (`begin_training`): while one trains it stops taking from the `train` queue, so the
others wait there for any worker, not on this worker's GPU gate. This module never imports torch; a
sandbox worker never loads the completer, so torch never enters its process.
"""

from __future__ import annotations

import importlib
import logging
import os
import socket
import sys
import threading
import time
from typing import Any

from workers.gpus import BOX_GPUS_ENV, BoxGate, lock_folder
from workers.routes import GPU_QUEUES, SANDBOX_QUEUES, ordered_queues
from workers.settings import WorkerSettings
from worldmodel.errors import ConfigError

log = logging.getLogger(__name__)

_warm: dict[str, Any] = {"batcher": None, "executor": None, "loaded_s": None, "choice": None}
_lock = threading.Lock()
_stopping = threading.Event()
_current: dict[str, dict[str, Any]] = {}
"""Task id -> what this worker is doing for it (shown by `wm workers`)."""
_training = threading.Lock()
"""Held by the one training job this process runs."""
_consumer: dict[str, Any] = {"consumer": None, "paused": False}


def gpu_worker_name(gpu: int | None, host: str | None = None) -> str:
    """`gpu{N}@{host}`, or `cpu@{host}` for a CPU-only generation worker."""
    return f"{'cpu' if gpu is None else f'gpu{gpu}'}@{host or socket.gethostname()}"


def gpu_worker_command(
    settings: WorkerSettings,
    *,
    gpu: int | None,
    queues: list[str] | None = None,
    host: str | None = None,
    loglevel: str = "INFO",
) -> tuple[list[str], dict[str, str]]:
    """(argv, env) of a generation/training worker pinned to one GPU (or the CPU)."""
    env = dict(os.environ)
    device = "" if gpu is None else str(gpu)
    # Set in the child's environment, so it holds before torch is imported there; an empty
    # value hides every GPU from a CPU worker.
    env["HIP_VISIBLE_DEVICES"] = device
    env["CUDA_VISIBLE_DEVICES"] = device
    env["WM_WORKER_KIND"] = "gpu"
    env["WM_BOX"] = host or socket.gethostname()
    env["WM_GPU"] = device
    if BOX_GPUS_ENV not in env:  # the box's GPUs, read before this worker is pinned to one
        from workers.stack import visible_gpus

        env[BOX_GPUS_ENV] = ",".join(map(str, visible_gpus()))
    chosen = ordered_queues(queues, GPU_QUEUES)
    argv = _celery_argv(
        name=gpu_worker_name(gpu, host),
        queues=chosen,
        # One slot per batch position, plus one for a training job beside the batches.
        concurrency=settings.generation.batch_size + ("train" in chosen),
        loglevel=loglevel,
    )
    return argv, env


def sandbox_worker_command(
    settings: WorkerSettings, *, pool_size: int, host: str | None = None, loglevel: str = "INFO"
) -> tuple[list[str], dict[str, str]]:
    """(argv, env) of a sandbox worker running `pool_size` executions at once."""
    env = dict(os.environ)
    env["WM_WORKER_KIND"] = "sandbox"
    env["WM_BOX"] = host or socket.gethostname()
    env["WM_POOL_SIZE"] = str(pool_size)
    argv = _celery_argv(
        name=f"sandbox@{host or socket.gethostname()}",
        queues=list(SANDBOX_QUEUES),
        concurrency=pool_size,
        loglevel=loglevel,
    )
    return argv, env


def _celery_argv(*, name: str, queues: list[str], concurrency: int, loglevel: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        "celery",
        "-A",
        "workers.app",
        "worker",
        "--hostname",
        name,
        "--queues",
        ",".join(queues),
        "--pool",
        "threads",
        "--concurrency",
        str(concurrency),
        "--prefetch-multiplier",
        "1",
        "--loglevel",
        loglevel,
        "--without-gossip",
        "--without-mingle",
    ]


def load_completer(settings: WorkerSettings) -> Any:
    """Build the generator once per process and wrap it in the batcher; return the batcher."""
    from workers.batching import Batcher

    with _lock:
        if _warm["batcher"] is None:
            started = time.perf_counter()
            module_name, _, factory_name = settings.completer.partition(":")
            factory = getattr(importlib.import_module(module_name), factory_name)
            completer = factory(settings)
            gpu = own_gpu()
            _warm["batcher"] = Batcher(
                completer,
                max_batch=settings.generation.batch_size,
                max_wait_s=settings.batch_wait_s,
                device_lock=None if gpu is None else lambda: box_gate().shared(gpu),
            )
            _warm["choice"] = worker_choice(settings)
            _warm["loaded_s"] = round(time.perf_counter() - started, 3)
            log.info("completer %s loaded in %.2f s", settings.completer, _warm["loaded_s"])
        return _warm["batcher"]


def worker_choice(settings: WorkerSettings) -> Any:
    """The model, adapter and mode this worker answers with when a job names none: its
    settings, with what they leave empty filled in as for `wm query`."""
    from worldmodel.model.defaults import resolve_model

    return resolve_model(settings.model or None, settings.adapter or None, settings.mode or None)


def batcher(settings: WorkerSettings) -> Any:
    """The warm batcher (loaded on first use if the worker was not started by `wm worker`)."""
    return _warm["batcher"] or load_completer(settings)


def gpu_gate() -> Any | None:
    """The GPU gate of this process's batcher (None when no model is loaded here)."""
    warm = _warm["batcher"]
    return warm.gate if warm is not None else None


def own_gpu() -> int | None:
    """The GPU index this worker is pinned to (`wm worker gpu --gpu N`); None for the CPU."""
    text = os.environ.get("WM_GPU") or ""
    return int(text) if text.isdigit() else None


def box_gate() -> BoxGate:
    """This box's GPU lock files (`workers.gpus`), shared by every worker process of the box."""
    from worldmodel.home import home_path

    return BoxGate(lock_folder(home_path(create=False), os.environ.get("WM_BOX")))


def executor(settings: WorkerSettings) -> Any:
    """This process's sandbox executor, built once and shared by the worker's threads."""
    from sandbox.registry import get_executor

    with _lock:
        if _warm["executor"] is None:
            # Settings built in code skip `load_settings`; the backend rule holds here too.
            problem = settings.backend_problem()
            if problem:
                raise ConfigError(problem)
            options: dict[str, Any] = {}
            if settings.sandbox_backend == "vm" and os.environ.get("WM_POOL_SIZE"):
                options["pool_size"] = int(os.environ["WM_POOL_SIZE"])
            _warm["executor"] = get_executor(settings.sandbox_backend, **options)
        return _warm["executor"]


def close_executor() -> None:
    """Close this process's sandbox executor, if it built one (its VM pool, its warm VMs)."""
    with _lock:
        built, _warm["executor"] = _warm["executor"], None
    if built is not None:
        built.close()


def mark_stopping() -> None:
    """The worker was asked to stop (SIGTERM): long jobs checkpoint and hand themselves back."""
    _stopping.set()


def stopping() -> bool:
    return _stopping.is_set()


def remember_consumer(consumer: Any) -> None:
    """The worker's Celery consumer (`worker_ready`), whose `train` queue training pauses."""
    _consumer["consumer"] = consumer


def begin_training() -> bool:
    """Take this process's one training slot; False if a training job runs here already.

    While the slot is held the worker takes nothing more from the `train` queue, so no other
    training job waits here (on the GPU gate, its time running) while another worker could run
    it. The pause is asked of the consumer's own loop (`call_soon`), the way Celery's
    `cancel_consumer` control does it; a training message taken before it lands is handed back
    by its task (the False here).
    """
    if not _training.acquire(blocking=False):
        return False
    consumer = _consumer["consumer"]
    if consumer is not None and "train" in _consuming(consumer):
        consumer.call_soon(consumer.cancel_task_queue, "train")
        _consumer["paused"] = True
    return True


def end_training() -> None:
    """Free the training slot and take from the `train` queue again."""
    consumer = _consumer["consumer"]
    if _consumer["paused"] and consumer is not None:
        consumer.call_soon(consumer.add_task_queue, "train")
        _consumer["paused"] = False
    _training.release()


def _consuming(consumer: Any) -> set[str]:
    task_consumer = getattr(consumer, "task_consumer", None)
    return {queue.name for queue in getattr(task_consumer, "queues", [])}


def track(task_id: str, name: str, **facts: Any) -> None:
    _current[task_id] = {"task": name, "since": time.time(), **facts}


def untrack(task_id: str) -> None:
    _current.pop(task_id, None)


def describe() -> dict[str, Any]:
    """What `wm workers` shows about this worker process."""
    warm = _warm["batcher"]
    completer = warm.completer if warm is not None else None
    return {
        "kind": os.environ.get("WM_WORKER_KIND", "unknown"),
        "gpu": os.environ.get("WM_GPU") or None,
        "hip_visible_devices": os.environ.get("HIP_VISIBLE_DEVICES"),
        "cuda_visible_devices": os.environ.get("CUDA_VISIBLE_DEVICES"),
        "host": os.environ.get("WM_BOX") or socket.gethostname(),
        "pid": os.getpid(),
        "torch_imported": "torch" in sys.modules,
        "model_loaded": warm is not None,
        "model_load_s": _warm["loaded_s"],
        # What answers a query that names no adapter or mode (None until the model loads).
        "answers_with": _warm["choice"].describe() if _warm["choice"] is not None else None,
        "batches": list(warm.stats.batches[-50:]) if warm is not None else [],
        # Per-query adapters held beside the model, and how many times one was loaded.
        "warm_adapters": list(getattr(completer, "warm_adapters", [])),
        "adapter_loads": len(getattr(completer, "adapter_loads", [])),
        "current": [{"id": task_id, **facts} for task_id, facts in list(_current.items())],
    }
