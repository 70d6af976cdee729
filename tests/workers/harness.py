"""Real processes for the job-system tests: a password-protected redis-server and Celery workers.

`RedisServer` runs `redis-server` on a free loopback port (or a given address), with a password,
append-only persistence (fsync on every write) and `noeviction`, in its own folder. `Worker` is
one `wm worker gpu|sandbox` process in its own session, so `kill9` kills the whole worker.
`Cluster` ties them together for a test and, at teardown, stops everything it started and
prints what that was (pids, ports, log tails), which pytest shows when the test failed.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
WM = str(Path(sys.executable).parent / "wm")
PASSWORD = "test-redis-password"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(predicate: Any, timeout_s: float, what: str, interval_s: float = 0.05) -> Any:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval_s)
    raise AssertionError(f"timed out after {timeout_s} s waiting for {what}")


def percentile(values: list[float], share: float) -> float:
    """The nearest-rank percentile (`share` in 0..1) of `values`."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(share * len(ordered)) - 1))]


def finished_at(app: Any, job_id: str) -> float:
    """When the job's last step stored its result: the result backend's `date_done` (UTC), as
    a Unix time, so latencies do not include how late a client looked."""
    done = app.AsyncResult(job_id).date_done
    if isinstance(done, str):
        done = datetime.fromisoformat(done)
    if done.tzinfo is None:
        done = done.replace(tzinfo=timezone.utc)
    return float(done.timestamp())


class RedisServer:
    def __init__(
        self,
        folder: Path,
        *,
        port: int | None = None,
        bind: str = "127.0.0.1",
        netns: str | None = None,
        fsync: str | None = None,
    ):
        if shutil.which("redis-server") is None:
            raise RuntimeError("redis-server is not installed (apt-get install redis-server)")
        self.folder = folder
        self.folder.mkdir(parents=True, exist_ok=True)
        self.port = port or free_port()
        self.bind = bind
        self.host = bind.split()[0]
        self.netns = netns
        self.fsync = fsync
        self.proc: subprocess.Popen[bytes] | None = None
        self.starts = 0

    @property
    def url(self) -> str:
        return f"redis://:{PASSWORD}@{self.host}:{self.port}/0"

    def start(self) -> None:
        # The project's own Redis template (`wm stack` renders the same), with this test's
        # port, folder and password, and its fsync setting (the default: everysec).
        from workers.stack import DEFAULT_FSYNC, render_redis_conf, resource

        conf = self.folder / "redis.conf"
        conf.write_text(
            render_redis_conf(
                resource("redis.conf").read_text(),
                password=PASSWORD,
                bind=self.bind,
                port=self.port,
                data_dir=str(self.folder),
                fsync=self.fsync or DEFAULT_FSYNC,
            )
        )
        prefix = ["ip", "netns", "exec", self.netns] if self.netns else []
        log = open(self.folder / "redis.log", "ab")  # noqa: SIM115 - closed with the process
        self.proc = subprocess.Popen(
            [*prefix, "redis-server", str(conf)],
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.starts += 1
        if not self.netns:
            wait_for(self.ping, 10, f"redis-server on port {self.port}")

    def client(self) -> Any:
        import redis

        return redis.Redis(
            host=self.host,
            port=self.port,
            password=PASSWORD,
            socket_connect_timeout=1,
            socket_timeout=5,
        )

    def ping(self) -> bool:
        try:
            return bool(self.client().ping())
        except Exception:
            return False

    def stop(self) -> None:
        """SIGTERM: Redis fsyncs its append-only file and exits (a clean shutdown)."""
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=15)

    def restart(self) -> None:
        self.stop()
        self.start()

    def describe(self) -> str:
        pid = self.proc.pid if self.proc else None
        return f"redis-server pid {pid} on {self.host}:{self.port} (folder {self.folder})"


@dataclass
class Worker:
    name: str
    kind: str
    proc: subprocess.Popen[bytes]
    log: Path
    env: dict[str, str] = field(repr=False)

    @property
    def pid(self) -> int:
        return self.proc.pid

    def kill9(self) -> None:
        """kill -9 the worker and everything it started (its own session)."""
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)

    def stop(self, timeout_s: float = 20) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=timeout_s)
            except subprocess.TimeoutExpired:
                self.kill9()

    def tail(self, lines: int = 15) -> str:
        if not self.log.is_file():
            return ""
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])


class Cluster:
    """A Redis server plus the workers a test starts, with a client app for that Redis."""

    def __init__(self, folder: Path, redis: RedisServer, **settings: str):
        self.folder = folder
        self.redis = redis
        self.workers: list[Worker] = []
        self.gen_log = folder / "generations.jsonl"
        self.success_log = folder / "successes.jsonl"
        self.settings = {
            "WM_BROKER_URL": redis.url,
            "WM_COMPLETER": "scripted_completer:factory",
            # The stand-in is no model: results name it, and it answers in plain mode unless a
            # job asks otherwise (the bundled adapter's recorded mode is not its own).
            "WM_MODEL": "scripted-completer",
            "WM_SANDBOX_BACKEND": "process",
            "WM_HOOKS": "sidechannel",
            "WM_HEARTBEAT_TTL_S": "3",
            "WM_VISIBILITY_TIMEOUT_S": "600",
            "WM_GENERATE_TIME_LIMIT_S": "120",
            "WM_SANDBOX_TIME_LIMIT_S": "120",
            "WM_TRAIN_TIME_LIMIT_S": "300",
            "WM_SOFT_SHUTDOWN_S": "5",
            "WM_BATCH_SIZE": "4",
            "WM_BATCH_WAIT_S": "0.05",
            "WM_TEST_LOG": str(self.gen_log),
            "WM_TEST_SUCCESS_LOG": str(self.success_log),
            **settings,
        }
        self._app: Any = None

    def env(self, **extra: str) -> dict[str, str]:
        env = dict(os.environ)
        env.update(self.settings)
        env.update(extra)
        env["PYTHONPATH"] = os.pathsep.join([str(HERE), str(REPO)])
        env.setdefault("WM_HOME", str(self.folder / "wm-home"))
        return env

    @property
    def app(self) -> Any:
        """A client Celery app for this cluster's Redis (built like a user's `wm`)."""
        if self._app is None:
            from workers.app import create_app
            from workers.settings import load_settings

            self._app = create_app(load_settings(self.env()))
        return self._app

    def start_worker(
        self,
        kind: str,
        *args: str,
        box: str,
        netns: str | None = None,
        wait: bool = True,
        **extra: str,
    ) -> Worker:
        log = self.folder / f"worker-{kind}-{box}-{len(self.workers)}.log"
        prefix = ["ip", "netns", "exec", netns] if netns else []
        argv = [*prefix, WM, "worker", kind, "--hostname", box, *args]
        env = self.env(**extra)
        with open(log, "ab") as handle:
            proc = subprocess.Popen(
                argv,
                env=env,
                stdout=handle,
                stderr=subprocess.STDOUT,
                cwd=REPO,
                start_new_session=True,
            )
        gpu = None
        if "--gpu" in args:
            gpu = args[args.index("--gpu") + 1]
        role = "sandbox" if kind == "sandbox" else ("cpu" if gpu is None else f"gpu{gpu}")
        name = f"{role}@{box}"
        worker = Worker(name=name, kind=kind, proc=proc, log=log, env=env)
        self.workers.append(worker)
        if wait:
            self.wait_ready(worker)
        return worker

    def start_pair(
        self, box: str = "a", gpu: tuple[str, ...] = (), sandbox: tuple[str, ...] = (), **extra: str
    ) -> tuple[Worker, Worker]:
        """A generation worker and a sandbox worker on one box, started side by side."""
        first = self.start_worker("gpu", *gpu, box=box, wait=False, **extra)
        second = self.start_worker("sandbox", *sandbox, box=box, wait=False, **extra)
        self.wait_ready(first)
        self.wait_ready(second)
        return first, second

    def wait_ready(self, worker: Worker, timeout_s: float = 60) -> None:
        client = self.redis.client()

        def ready() -> bool:
            if worker.proc.poll() is not None:
                raise AssertionError(f"worker {worker.name} exited:\n{worker.tail()}")
            return any(True for _ in client.scan_iter(f"wm:alive:{worker.name}/{worker.pid}/*"))

        wait_for(ready, timeout_s, f"worker {worker.name} to be ready", interval_s=0.1)

    def lines(self, path: Path) -> list[dict[str, Any]]:
        if not path.is_file():
            return []
        return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]

    def successes(self) -> list[dict[str, Any]]:
        return self.lines(self.success_log)

    def generations(self) -> list[dict[str, Any]]:
        return self.lines(self.gen_log)

    def teardown(self) -> str:
        report = [f"started: {self.redis.describe()}"]
        for worker in self.workers:
            state = "running" if worker.proc.poll() is None else f"exit {worker.proc.returncode}"
            report.append(
                f"started: worker {worker.name} pid {worker.pid} ({state}), log {worker.log}"
            )
            worker.stop(timeout_s=10)
        self.redis.stop()
        for worker in self.workers:
            report.append(f"--- {worker.name} log tail ---\n{worker.tail()}")
        return "\n".join(report)
