"""Every setting of the job system, where it comes from, and the Celery config built from it.

Two layers, each with a reason per value:

- `WorkerSettings`: what an operator chooses (broker URL, time limits, sandbox backend, artifact
  store, ...). How to generate is a `worldmodel.generate.GenerationConfig` (`generation`), the
  same object `wm query` and `wm eval` build, validated by its own `problems`; each of its fields
  is a flat setting (`batch_size`, `WM_BATCH_SIZE`). Model, adapter and mode left empty are
  filled in by `worldmodel.model.defaults.resolve_model`, as for `wm query` (see
  `workers.tasks.generate`). Precedence: field defaults < YAML file (`WM_WORKERS_CONFIG`, or
  `<WM_HOME>/workers.yaml` when it exists) < environment variables (`WM_*`, listed in `ENV`).
  `load_settings` checks every value against its type and raises one `ConfigError` listing
  every problem.
- `celery_config(settings)`: the Celery/kombu settings derived from them, each commented with
  why it is set. These are chosen for long GPU jobs and for never losing an accepted job.

Fail-closed: a Redis URL without a password is refused unless `allow_no_password` is set on
purpose (tests on loopback, a laptop). The host backend (`sandbox_backend: host`, no isolation:
the code runs as the worker's user) is refused unless `host_backend_ack` also holds exactly
`HOST_BACKEND_ACK`, a second setting no one sets by accident (`backend_problem`, checked when
settings load and again when a worker builds its executor). This module does not create the
Celery app (`app`).
"""

from __future__ import annotations

import dataclasses
import os
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from workers.urls import dot_part, is_url, redact
from worldmodel.errors import ConfigError
from worldmodel.format import MODES
from worldmodel.generate import GenerationConfig
from worldmodel.model.defaults import NO_ADAPTER

QUEUES = ("generate", "generate-batch", "train", "sandbox")
"""generate: interactive queries; generate-batch: evaluation/bulk; train; sandbox."""

BACKENDS = ("vm", "process", "host")
"""The sandbox backends a worker can be given (`sandbox.registry.BACKENDS`)."""
HOST_BACKEND_ACK = "run-untrusted-code-on-this-host"
"""The exact `host_backend_ack` (`WM_HOST_BACKEND_ACK`) without which `host` is refused."""

PRIORITY_INTERACTIVE = 0
PRIORITY_BATCH = 6
"""Redis priority steps: kombu pops lower numbers first (0 is the most urgent)."""


def _f(default: Any, help: str) -> Any:
    return field(default=default, metadata={"help": help})


@dataclass
class WorkerSettings:
    """What an operator chooses. Every field has a default, units, and an env variable."""

    broker_url: str = _f("redis://127.0.0.1:6379/0", "Redis URL for the queues (WM_BROKER_URL)")
    result_url: str = _f("", "Redis URL for results; '' uses broker_url (WM_RESULT_URL)")
    allow_no_password: bool = _f(
        False, "accept a Redis URL without a password (loopback tests only)"
    )
    connect_timeout_s: float = _f(3.0, "seconds to wait for Redis to accept a connection")
    visibility_timeout_s: int = _f(
        43_200, "seconds before Redis hands an unacked job to another worker (12 h)"
    )
    train_time_limit_s: int = _f(36_000, "hard limit of one training job in seconds (10 h)")
    generate_time_limit_s: int = _f(600, "hard limit of one generation step in seconds")
    sandbox_time_limit_s: int = _f(300, "hard limit of one sandbox step (all its blocks)")
    result_expires_s: int = _f(7 * 86_400, "seconds results and job records are kept (7 days)")
    soft_shutdown_s: float = _f(
        30.0, "seconds a stopping worker lets running jobs finish before handing them back"
    )
    heartbeat_ttl_s: float = _f(
        30.0, "a worker silent this long is dead; its jobs go back to the queue at once"
    )
    batch_wait_s: float = _f(0.05, "seconds a batch waits for more questions once one arrives")
    sandbox_backend: str = _f("vm", "where code runs: vm|process|host (fail-closed)")
    host_backend_ack: str = _f(
        "",
        f"must be exactly '{HOST_BACKEND_ACK}' for sandbox_backend=host to be accepted (the "
        "code then runs unisolated as the worker's user)",
    )
    block_timeout_s: float = _f(10.0, "wall-time limit of one code block in seconds")
    completer: str = _f(
        "workers.tasks.generate:model_completer",
        "import path 'module:factory' of the text generator a generation worker loads",
    )
    model: str = _f("", "base model directory for generation; '' = the bundled model")
    adapter: str = _f(
        "",
        "LoRA adapter directory; '' = the model's default (the bundled adapter for the bundled "
        f"model), '{NO_ADAPTER}' = the base model alone",
    )
    mode: str = _f(
        "",
        "answer mode of queries that name none: plain|after-execution; '' = the mode recorded "
        "beside the answering adapter, as `wm query` chooses",
    )
    adapter_cache_keep: int = _f(
        64, "most fetched adapters a box keeps in <WM_HOME>/cache/adapters (least recent go)"
    )
    generation: GenerationConfig = field(
        default_factory=GenerationConfig,
        metadata={
            "help": "how to generate: each field of worldmodel.generate.GenerationConfig is a "
            "setting of its own (batch_size, max_new_tokens, think_budget, loop_guard, ...)"
        },
    )
    artifacts: str = _f("", "artifact store: a path or fsspec URL; '' means <WM_HOME>/artifacts")
    artifact_stores: str = _f(
        "",
        "comma-separated store URLs, besides `artifacts`, under which jobs may name their "
        "artifacts or adapter URL; any other URL is refused",
    )
    ssh_known_hosts: str = _f(
        "", "known_hosts file pinning sftp:// artifact stores' host keys; '' = ~/.ssh/known_hosts"
    )
    hooks: str = _f("", "comma-separated modules every worker imports at start (signals)")

    def problems(self) -> list[str]:
        found: list[str] = []
        for name in ("broker_url", "result_url"):
            url = getattr(self, name) or self.broker_url
            found += [f"{name}: {p}" for p in _url_problems(url, self.allow_no_password)]
        longest = max(
            self.train_time_limit_s, self.generate_time_limit_s, self.sandbox_time_limit_s
        )
        if self.visibility_timeout_s <= longest:
            found.append(
                f"visibility_timeout_s: {self.visibility_timeout_s} must exceed the longest "
                f"time limit ({longest} s), or Redis hands a running job to a second worker"
            )
        for name in ("train_time_limit_s", "generate_time_limit_s", "sandbox_time_limit_s"):
            if getattr(self, name) < 2:
                found.append(f"{name}: must be >= 2 seconds")
        found += [f"generation.{problem}" for problem in self.generation.problems()]
        if self.adapter_cache_keep < self.generation.warm_adapters:
            found.append(
                f"adapter_cache_keep: {self.adapter_cache_keep} must be at least warm_adapters "
                f"({self.generation.warm_adapters})"
            )
        if self.batch_wait_s < 0:
            found.append("batch_wait_s: must be >= 0")
        if self.heartbeat_ttl_s < 1:
            found.append("heartbeat_ttl_s: must be >= 1 second")
        if self.connect_timeout_s <= 0:
            found.append("connect_timeout_s: must be > 0")
        backend = self.backend_problem()
        if backend:
            found.append(backend)
        if self.mode and self.mode not in MODES:
            found.append(f"mode: must be {' or '.join(MODES)}, or '' for the recorded mode")
        for store in self.listed_stores():
            if not is_url(store):
                found.append(f"artifact_stores: {store!r} is not a store URL (scheme://host/path)")
            elif dot_part(store):
                found.append(f"artifact_stores: {redact(store)!r} has a '..' or '.' path part")
        if ":" not in self.completer:
            found.append("completer: must be 'package.module:factory'")
        return found

    def backend_problem(self) -> str | None:
        """Why `sandbox_backend` cannot be used, or None: the one home of the backend rule."""
        if self.sandbox_backend not in BACKENDS:
            return f"sandbox_backend: must be {', '.join(BACKENDS[:-1])} or {BACKENDS[-1]}"
        if self.sandbox_backend == "host" and self.host_backend_ack != HOST_BACKEND_ACK:
            return (
                "sandbox_backend: host runs model-written code on this host as the worker's "
                "user, with no isolation; to allow it, also set "
                f"WM_HOST_BACKEND_ACK={HOST_BACKEND_ACK} (host_backend_ack), or choose vm or "
                "process"
            )
        return None

    @property
    def results(self) -> str:
        return self.result_url or self.broker_url

    def artifact_url(self) -> str:
        if self.artifacts:
            return self.artifacts
        from worldmodel.home import home_path

        return str(home_path("artifacts", create=False))

    def listed_stores(self) -> list[str]:
        """The `artifact_stores` setting as a list."""
        return [part.strip() for part in self.artifact_stores.split(",") if part.strip()]

    def allowed_stores(self) -> list[str]:
        """Every store a job's artifacts or adapter URL may lie under (`workers.artifacts`):
        the `artifacts` store, then those listed in `artifact_stores`."""
        return [self.artifact_url(), *self.listed_stores()]


GENERATION = tuple(f.name for f in dataclasses.fields(GenerationConfig))
"""The generation settings: `GenerationConfig`'s fields, each a setting of its own."""
SETTINGS = tuple(f.name for f in dataclasses.fields(WorkerSettings) if f.name != "generation")
ENV = {name: "WM_" + name.upper() for name in SETTINGS + GENERATION if name != "rocm_env"}
"""Setting -> environment variable, e.g. broker_url -> WM_BROKER_URL, batch_size ->
WM_BATCH_SIZE. `rocm_env` (a mapping) is set in the YAML file only; the worker's own
environment reaches ROCm directly."""


def load_settings(env: typing.Mapping[str, str] | None = None) -> WorkerSettings:
    """Defaults < YAML file < environment; every problem reported at once.

    Each value is checked against its setting's type, whether it came from the file or the
    environment (a YAML `"false"` is false, a YAML `[1]` for a number is an error naming it).
    """
    env = os.environ if env is None else env
    hints = typing.get_type_hints(WorkerSettings) | typing.get_type_hints(GenerationConfig)
    values: dict[str, Any] = {}
    problems: list[str] = []
    for key, value in _yaml_layer(env).items():
        if key not in hints or key == "generation":
            problems.append(f"{key}: unknown setting")
            continue
        try:
            values[key] = _typed(value, hints[key])
        except ValueError as exc:
            problems.append(f"{key}: {exc}")
    for name, var in ENV.items():
        if var in env:
            try:
                values[name] = _typed(env[var], hints[name])
            except ValueError as exc:
                problems.append(f"{var}: {exc}")
    # A value that could not be read keeps its default, so the checks below still run and
    # every problem is reported at once.
    generation = GenerationConfig(**{k: v for k, v in values.items() if k in GENERATION})
    settings = WorkerSettings(
        **{k: v for k, v in values.items() if k in SETTINGS}, generation=generation
    )
    problems += settings.problems()
    if problems:
        raise ConfigError("invalid worker settings:\n  " + "\n  ".join(problems))
    return settings


def celery_config(settings: WorkerSettings) -> dict[str, Any]:
    """The Celery settings, each with the reason it is set."""
    limits = {
        "wm.generate": settings.generate_time_limit_s,
        "wm.compose": settings.generate_time_limit_s,
        "wm.sandbox": settings.sandbox_time_limit_s,
        "wm.train": settings.train_time_limit_s,
    }
    transport = {
        # Longer than the longest job: Redis has no real acks, so a job held unacked for longer
        # than this is handed to a second worker while the first still runs it.
        "visibility_timeout": settings.visibility_timeout_s,
        # Pop the queues in the order a worker lists them (interactive first), not round-robin.
        "queue_order_strategy": "priority",
        # Messages carry a priority; kombu keeps one Redis list per step and pops 0 first.
        "priority_steps": list(range(10)),
        "sep": ":",
        # A dead Redis must fail fast at submit time instead of hanging the client.
        "socket_connect_timeout": settings.connect_timeout_s,
    }
    return {
        "broker_url": settings.broker_url,
        "result_backend": settings.results,
        # JSON only: a pickled message from anyone who reaches Redis would run code.
        "task_serializer": "json",
        "result_serializer": "json",
        "accept_content": ["json"],
        "result_accept_content": ["json"],
        "broker_transport_options": transport,
        # kombu also reads the visibility timeout from the result backend's options (the
        # redis backend uses it for its own unacked bookkeeping); keep both equal.
        "result_backend_transport_options": {
            "visibility_timeout": settings.visibility_timeout_s,
            "retry_policy": {"max_retries": 5, "interval_start": 0, "interval_step": 1},
        },
        "redis_socket_connect_timeout": settings.connect_timeout_s,
        "redis_socket_timeout": 30,
        "redis_retry_on_timeout": True,
        # Ack after the job finishes: a worker that dies mid-job leaves it in Redis.
        "task_acks_late": True,
        # A pool child killed mid-job (OOM, kill -9) requeues the job instead of failing it.
        "task_reject_on_worker_lost": True,
        # A redelivered job that already succeeded is acked, not run (or chained) again.
        "worker_deduplicate_successful_tasks": True,
        # Reserve one job per free slot: a long job never sits behind another in a buffer.
        "worker_prefetch_multiplier": 1,
        # Hard limits below the visibility timeout (checked in `WorkerSettings.problems`);
        # the soft limit lets a job save its state first.
        "task_annotations": {
            name: {"time_limit": limit, "soft_time_limit": max(1, int(limit * 0.9))}
            for name, limit in limits.items()
        },
        # Results (and job records, see `jobs`) are kept this long, then Redis drops them.
        "result_expires": settings.result_expires_s,
        "result_extended": True,
        # STARTED is stored, so `wm status` tells queued from running.
        "task_track_started": True,
        # A running job keeps running through a broker reconnect: its ack goes through a
        # connection of its own (`workers.transport`), so it lands after the reconnect, and
        # the thread pools cannot cancel a job anyway (Celery would only log a failed cancel).
        "worker_cancel_long_running_tasks_on_connection_loss": False,
        # Soft shutdown (Celery 5.5): a stopping prefork worker gets this long to finish, then
        # requeues what is unfinished. The thread pools `wm worker` runs wait for running tasks
        # instead (each bounded by its own limit), and a training job checkpoints and puts
        # itself back on the queue at its next step (`tasks.train`).
        "worker_soft_shutdown_timeout": settings.soft_shutdown_s,
        "worker_enable_soft_shutdown_on_idle": True,
        # The connection is retried at worker start-up and after a Redis restart.
        "broker_connection_retry_on_startup": True,
        "broker_connection_timeout": settings.connect_timeout_s,
        # Publishing retries briefly, then fails: the client says "not accepted" at once
        # instead of hanging on a dead broker.
        "task_publish_retry": True,
        "task_publish_retry_policy": {
            "max_retries": 2,
            "interval_start": 0,
            "interval_step": 0.5,
            "interval_max": 1,
        },
        # Events feed `wm workers`, Flower and Prometheus.
        "worker_send_task_events": True,
        "task_send_sent_event": True,
        "task_create_missing_queues": False,
        "task_default_queue": "generate",
        "worker_hijack_root_logger": False,
    }


def _url_problems(url: str, allow_no_password: bool) -> list[str]:
    parts = urlsplit(url)
    if parts.scheme not in ("redis", "rediss"):
        return [f"{redact(url)!r} is not a redis:// or rediss:// URL"]
    if not parts.password and not allow_no_password:
        return [
            f"{redact(url)!r} has no password; use redis://:PASSWORD@host:port/db "
            "(or set WM_ALLOW_NO_PASSWORD=1 on a private loopback only)"
        ]
    return []


def _yaml_layer(env: typing.Mapping[str, str]) -> dict[str, Any]:
    path_text = env.get("WM_WORKERS_CONFIG")
    if path_text:
        path = Path(path_text)
        if not path.is_file():
            raise ConfigError(f"WM_WORKERS_CONFIG: {path} does not exist")
    else:
        home = env.get("WM_HOME")
        if not home:
            from worldmodel.home import home_path

            home = str(home_path(create=False))
        path = Path(home) / "workers.yaml"
        if not path.is_file():
            return {}
    import yaml

    try:
        data = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path} is not valid YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise ConfigError(f"{path} must hold a mapping of settings")
    return data


def _typed(value: Any, hint: Any) -> Any:
    """`value` (text from the environment, or whatever YAML made of it) as a `hint`; a
    ValueError names what was expected and what was given."""
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        options = [arg for arg in typing.get_args(hint) if arg is not type(None)]
        if value is None or (isinstance(value, str) and value.strip().lower() in ("", "none")):
            return None
        return _typed(value, options[0])
    if typing.get_origin(hint) is dict or hint is dict:
        if not isinstance(value, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in value.items()
        ):
            raise ValueError(f"expected a mapping of names to text, got {value!r}")
        return dict(value)
    if isinstance(value, str):
        return _from_text(value, hint)
    if hint is bool and isinstance(value, bool):
        return value
    if hint is int and isinstance(value, int) and not isinstance(value, bool):
        return value
    if hint is float and isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    if hint is str and isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    raise ValueError(f"expected {_TYPE_NAMES.get(hint, hint)}, got {value!r}")


_TYPE_NAMES = {bool: "true/false", int: "an integer", float: "a number", str: "text"}


def _from_text(text: str, hint: Any) -> Any:
    if hint is bool:
        lowered = text.strip().lower()
        if lowered in ("1", "true", "yes", "on"):
            return True
        if lowered in ("0", "false", "no", "off", ""):
            return False
        raise ValueError(f"expected true/false, got {text!r}")
    if hint is int:
        try:
            return int(text)
        except ValueError:
            raise ValueError(f"expected an integer, got {text!r}") from None
    if hint is float:
        try:
            return float(text)
        except ValueError:
            raise ValueError(f"expected a number, got {text!r}") from None
    if hint is str:
        return text
    raise ValueError(f"expected {_TYPE_NAMES.get(hint, hint)}, got {text!r}")
