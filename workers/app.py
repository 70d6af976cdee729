"""The one Celery app: settings, queues, routes, tasks, and the worker start-up wiring.

The first use of `app` (or `settings`) reads the worker settings (`load_settings`) and raises
`ConfigError` if they are unusable (for example a Redis URL without a password), so nothing ever
talks to an unauthenticated broker by accident. Clients (`wm submit-*`) and workers use the
same app, so both sides agree on serializers, queues and transport options; `create_app` builds
one for explicit settings (tests, benchmarks).

Worker start-up (signals connected here, code in `workers.worker` and `workers.recovery`):

- `worker_init`: kombu's Redis channels start settling messages through `workers.recovery`
  (`workers.transport`); a generation worker loads its model once and keeps it warm; every
  worker imports the hook modules named in settings;
- `worker_ready`: the heartbeat and the reaper that requeues a dead worker's jobs start, and
  the consumer is kept for training to pause its `train` queue (`workers.worker`);
- `task_received`: which worker holds which unacked message.

Every task is a `recovery.FencedTask`: its result commits only while its worker still holds
the message (`recovery.fence`).

It also registers the `wm_info` inspect command behind `wm workers`. It does not define tasks
(see `workers.tasks`).
"""

from __future__ import annotations

import importlib
import logging
import os
from typing import Any

from celery import Celery, signals
from celery.worker.control import inspect_command
from kombu import Exchange, Queue

from workers import recovery
from workers.routes import TASK_ROUTES
from workers.settings import QUEUES, WorkerSettings, celery_config, load_settings

log = logging.getLogger(__name__)

TASK_MODULES = [
    "workers.tasks.generate",
    "workers.tasks.sandbox",
    "workers.tasks.compose",
    "workers.tasks.train",
]


def create_app(settings: WorkerSettings) -> Celery[recovery.FencedTask]:
    """A Celery app for these settings. `app` below is the one built from the environment;
    clients that talk to another Redis (tests, benchmarks) build their own."""
    made = Celery(
        "worldmodel", include=TASK_MODULES, set_as_current=False, task_cls=recovery.FencedTask
    )
    made.conf.update(celery_config(settings))
    made.conf.task_queues = [Queue(name, Exchange(name), routing_key=name) for name in QUEUES]
    made.conf.task_routes = TASK_ROUTES
    # Our own attribute on Celery's object (read back by _settings_of): not in Celery's types.
    made.wm_settings = settings  # type: ignore[attr-defined]
    return made


_default: dict[str, Any] = {}


def __getattr__(name: str) -> Any:
    # `app` and `settings` are built on first use (PEP 562), so a client that builds its own
    # app with `create_app` never needs the environment's broker settings to be valid.
    if name in ("app", "settings"):
        if not _default:
            _default["settings"] = load_settings()
            _default["app"] = create_app(_default["settings"])
            _default["app"].set_current()
        return _default[name]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _settings_of(sender: Any) -> WorkerSettings:
    app = getattr(sender, "app", None)
    return getattr(app, "wm_settings", None) or __getattr__("settings")


@signals.worker_init.connect
def _on_worker_init(sender: Any = None, **_: Any) -> None:
    from workers import transport

    transport.install()
    settings = _settings_of(sender)
    for module in filter(None, (m.strip() for m in settings.hooks.split(","))):
        importlib.import_module(module)
    if os.environ.get("WM_WORKER_KIND") == "gpu":
        from workers.worker import load_completer

        load_completer(settings)


@signals.worker_process_init.connect
def _on_worker_process_init(**_: Any) -> None:
    # Only prefork children get this signal; the default pools are threads (see worker.py),
    # where worker_init above already loaded the model in the one process.
    if os.environ.get("WM_WORKER_KIND") == "gpu":
        from workers.worker import load_completer

        load_completer(_settings_of(None))


@signals.worker_ready.connect
def _on_worker_ready(sender: Any = None, **_: Any) -> None:
    from workers.worker import remember_consumer

    remember_consumer(sender)  # Celery's consumer: training pauses its `train` queue
    recovery.start(sender.app, sender.hostname, _settings_of(sender).heartbeat_ttl_s)


@signals.worker_shutting_down.connect
def _on_worker_shutting_down(**_: Any) -> None:
    # Warm shutdown waits for running tasks; a training job sees this at its next step,
    # checkpoints and puts itself back on the queue instead of holding the stop for hours.
    from workers.worker import mark_stopping

    mark_stopping()


@signals.worker_shutdown.connect
def _on_worker_shutdown(**_: Any) -> None:
    from workers.worker import close_executor

    recovery.stop()
    close_executor()  # a sandbox worker's warm VMs go with it


@signals.task_received.connect
def _on_task_received(request: Any = None, **_: Any) -> None:
    recovery.claim(request)


@inspect_command()
def wm_info(state: Any, **_: Any) -> dict[str, Any]:
    """Everything `wm workers` shows, in one broadcast: kind, GPU, pinning, queues, jobs."""
    from celery.worker import state as worker_state

    from workers.worker import describe

    consumer = state.consumer
    queues = [queue.name for queue in consumer.task_consumer.queues]
    active = [
        {"id": request.id, "task": request.name} for request in list(worker_state.active_requests)
    ]
    return describe() | {"queues": queues, "active": active}
