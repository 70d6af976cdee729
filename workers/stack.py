"""The whole job system on one box, without Docker: what `wm stack` starts, checks and stops.

`up` starts, as background processes that outlive the caller (`supervisor`):

- redis-server, from the Redis template (`resource("redis.conf")`), with a password generated
  once and kept (mode 0600) under the stack folder, append-only persistence, bound to loopback;
- Flower with basic auth (`resource("flowerconfig.py")`) on loopback;
- one GPU worker per visible GPU (`wm worker gpu --gpu N`), or one CPU worker when there is
  no GPU (`wm worker gpu`);
- one sandbox worker (`wm worker sandbox`).

It waits for Redis and Flower to answer (a failure stops what it started) and then for a pong
from every worker; a worker still starting (a first start downloads the model) is left running
and reported, a dead one is reported at once. Running processes are never started twice.

Everything lives under `<WM_HOME>/stack`: `state.json` (what runs, without secrets),
`secrets.env` and `stack.env` (0600), `redis.conf` (rendered, 0600), `redis/` (the data),
`logs/<name>.log` and `pids/<name>.pid`. `down` stops the workers first (so they hand running
jobs back while Redis is still up), then Flower, then Redis; each tier gets SIGTERM at once,
and SIGKILL to the whole process group of whatever is left after its timeout.

`write_redis_conf` renders the Redis template for systemd (ops/systemd/redis-server.service.d).

Errors: `ConfigError` for a setting to change (a port, the bind list, the password),
`StackError` for a process that did not start or answer (the message names its log). Nothing
here prints. Linux only (reads /proc). Not covered: several boxes (ops/rollout.sh,
docker-compose.yml).
"""

from __future__ import annotations

import ipaddress
import json
import os
import re
import secrets
import shutil
import socket
import string
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import asdict
from pathlib import Path
from typing import Any

from sandbox.home import private_dir, write_private
from workers.supervisor import (
    Proc,
    StackError,
    is_alive,
    port_free,
    spawn,
    stop_all,
    wait_for,
)
from worldmodel.errors import ConfigError
from worldmodel.home import home_path
from worldmodel.model.device import VISIBLE_DEVICES

__all__ = ["Proc", "StackError", "down", "render_redis_conf", "status", "up", "write_redis_conf"]

RESOURCES = Path(__file__).resolve().parent / "resources"
"""The Redis template and Flower's config: package data, so an installed wheel has them too."""
WM_LAUNCHER = [sys.executable, "-c", "from worldmodel.cli import main; main()"]
PASSWORD_RE = re.compile(r"^[A-Za-z0-9._~-]{16,}$")
"""URL-unreserved characters only: the password goes unescaped into redis:// URLs."""

DEFAULT_FSYNC = "everysec"
DURABLE_FSYNC = "always"
FSYNC_MODES = (DEFAULT_FSYNC, DURABLE_FSYNC)
"""Redis `appendfsync` choices: a host crash loses up to a second of accepted jobs, or none."""

STOP_ORDER = ("worker", "flower", "redis")
LOOPBACK = "127.0.0.1"


# --- Redis configuration ------------------------------------------------------------------


def render_redis_conf(
    template: str,
    *,
    password: str,
    bind: str,
    port: int,
    data_dir: str,
    fsync: str = DEFAULT_FSYNC,
) -> str:
    """Fill the Redis template (`resource("redis.conf")`); every invalid value is reported at
    once."""
    problems: list[str] = []
    if not PASSWORD_RE.match(password):
        problems.append(
            "WM_REDIS_PASSWORD: needs 16 or more of letters, digits and . _ ~ - "
            "(it goes unescaped into redis:// URLs and the config file)"
        )
    addresses = bind.replace(",", " ").split()
    if not addresses:
        problems.append("WM_REDIS_BIND: name at least one interface address, e.g. 127.0.0.1")
    for address in addresses:
        try:
            ipaddress.ip_address(address)
        except ValueError:
            problems.append(f"WM_REDIS_BIND: {address!r} is not an IP address")
    if not 0 < port < 65536:
        problems.append(f"WM_REDIS_PORT: {port} is not a TCP port")
    if not data_dir or not Path(data_dir).is_absolute():
        problems.append(f"WM_REDIS_DIR: {data_dir!r} must be an absolute folder")
    if fsync not in FSYNC_MODES:
        problems.append(f"WM_REDIS_FSYNC: {fsync!r} is not one of {', '.join(FSYNC_MODES)}")
    if problems:
        raise ConfigError("cannot render the Redis config:\n  " + "\n  ".join(problems))
    values = {
        "WM_REDIS_PASSWORD": password,
        "WM_REDIS_BIND": " ".join(addresses),
        "WM_REDIS_PORT": str(port),
        "WM_REDIS_DIR": data_dir,
        "WM_REDIS_FSYNC": fsync,
    }
    try:
        return string.Template(template).substitute(values)
    except (KeyError, ValueError) as exc:
        raise ConfigError(f"the Redis template has an unknown placeholder: {exc}") from exc


def write_redis_conf(
    output: Path,
    *,
    owner: str | None = None,
    bind: str | None = None,
    port: int | None = None,
    data_dir: str | None = None,
    fsync: str | None = None,
    environ: Mapping[str, str] = os.environ,
) -> Path:
    """Render the Redis template into `output` (mode 0600, owned by `owner` if given).

    The password is `WM_REDIS_PASSWORD`; what is not given comes from `WM_REDIS_BIND`
    (127.0.0.1), `WM_REDIS_PORT` (6379), `WM_REDIS_DIR` and `WM_REDIS_FSYNC` (everysec).
    """
    if port is None:
        text = environ.get("WM_REDIS_PORT", "6379")
        try:
            port = int(text)
        except ValueError as exc:
            raise ConfigError(f"WM_REDIS_PORT: {text!r} is not a TCP port") from exc
    conf = render_redis_conf(
        resource("redis.conf").read_text(),
        password=environ.get("WM_REDIS_PASSWORD", ""),
        bind=bind or environ.get("WM_REDIS_BIND", LOOPBACK),
        port=port,
        data_dir=data_dir or environ.get("WM_REDIS_DIR", ""),
        fsync=fsync or environ.get("WM_REDIS_FSYNC", DEFAULT_FSYNC),
    )
    write_private(output, conf)
    if owner:
        shutil.chown(output, user=owner)
    return output


def resource(name: str) -> Path:
    """A file the stack reads, shipped inside this package: "redis.conf", "flowerconfig.py"."""
    path = RESOURCES / name
    if not path.is_file():
        raise StackError(
            f"{path} is missing: reinstall worldmodel (the file is package data of `workers`)"
        )
    return path


# --- State --------------------------------------------------------------------------------


def stack_folder() -> Path:
    """`<WM_HOME>/stack`, with its logs/, pids/ and redis/ folders."""
    folder = home_path("stack")
    for sub in ("logs", "pids", "redis"):
        private_dir(folder / sub)
    return folder


def load_state(folder: Path) -> dict[str, Any]:
    path = folder / "state.json"
    if not path.exists():
        return {"processes": []}
    data = json.loads(path.read_text())
    data["processes"] = [Proc(**item) for item in data.get("processes", [])]
    return data


def save_state(folder: Path, state: dict[str, Any]) -> None:
    data = dict(state, processes=[asdict(p) for p in state["processes"]])
    (folder / "state.json").write_text(json.dumps(data, indent=2) + "\n")


def _secrets(folder: Path) -> dict[str, str]:
    """The stack's passwords: generated on first `up`, then kept so the data stays readable."""
    path = folder / "secrets.env"
    if path.exists():
        pairs = (line.split("=", 1) for line in path.read_text().splitlines() if "=" in line)
        return {key: value for key, value in pairs}
    values = {
        "WM_REDIS_PASSWORD": secrets.token_urlsafe(24),
        "WM_FLOWER_USER": "admin",
        "WM_FLOWER_PASSWORD": secrets.token_urlsafe(18),
    }
    write_private(path, "".join(f"{k}={v}\n" for k, v in values.items()))
    return values


def visible_gpus() -> list[int]:
    """GPU indices this box offers: the *_VISIBLE_DEVICES list if set, else what is installed."""
    for var in VISIBLE_DEVICES:
        if var in os.environ:
            text = os.environ[var].strip()
            try:
                return [int(part) for part in text.split(",") if part.strip()]
            except ValueError as exc:
                raise ConfigError(f"{var}={text!r}: expected GPU indices") from exc
    # ROCm lists compute nodes under kfd; CPU nodes report simd_count 0.
    amd = 0
    for props in sorted(Path("/sys/class/kfd/kfd/topology/nodes").glob("*/properties")):
        match = re.search(r"^simd_count (\d+)$", props.read_text(), re.M)
        amd += bool(match and int(match.group(1)) > 0)
    if amd:
        return list(range(amd))
    nvidia = Path("/proc/driver/nvidia/gpus")
    return list(range(len(list(nvidia.iterdir())))) if nvidia.is_dir() else []


# --- Readiness ----------------------------------------------------------------------------


def redis_ping(host: str, port: int, password: str, timeout_s: float = 1.0) -> str:
    """AUTH then PING over RESP; returns Redis's raw replies (b'+OK' / b'+PONG' when ready)."""
    with socket.create_connection((host, port), timeout=timeout_s) as sock:
        sock.sendall(
            f"*2\r\n$4\r\nAUTH\r\n${len(password)}\r\n{password}\r\n*1\r\n$4\r\nPING\r\n".encode()
        )
        reply = b""
        while reply.count(b"\r\n") < 2:
            chunk = sock.recv(4096)
            if not chunk:
                break
            reply += chunk
    return reply.decode(errors="replace")


def _redis_ready(config: Mapping[str, Any], password: str) -> bool:
    return "+PONG" in redis_ping(LOOPBACK, config["redis_port"], password)


def _flower_ready(port: int) -> bool:
    import urllib.request

    with urllib.request.urlopen(f"http://{LOOPBACK}:{port}/healthcheck", timeout=2) as reply:
        return reply.read() == b"OK"


def workers_ready(
    names: list[str], procs: list[Proc], env: Mapping[str, str], timeout_s: float
) -> tuple[list[str], str]:
    """Ask the workers for a pong through Redis: (names that never answered, last error).

    Gives up early when one of `procs` exits: a dead worker will not answer.
    """
    deadline = time.monotonic() + timeout_s
    missing, error = list(names), ""
    while missing and time.monotonic() < deadline and all(is_alive(p) for p in procs):
        probe = subprocess.run(
            [sys.executable, "-m", "celery", "-A", "workers.app", "inspect", "ping", "--json",
             "-t", "3", "-d", ",".join(missing)],
            env=dict(env), capture_output=True, text=True, timeout=60,
        )  # fmt: skip
        answered: set[str] = set()
        for line in probe.stdout.splitlines():
            if line.startswith("{"):
                answered |= set(json.loads(line))
        # "No nodes replied" is the normal answer while workers still start; anything else
        # (a bad broker URL, an import error) is worth showing if they never answer.
        if probe.returncode != 0 and "No nodes replied" not in probe.stderr + probe.stdout:
            error = probe.stderr.strip().splitlines()[-1] if probe.stderr.strip() else ""
        missing = [name for name in missing if name not in answered]
        if missing:
            time.sleep(1)
    return missing, error


# --- Up, status, down ---------------------------------------------------------------------


def up(
    *,
    redis_port: int | None = None,
    flower_port: int | None = None,
    bind: str | None = None,
    gpus: list[int] | None = None,
    pool_size: int = 2,
    sandbox_backend: str | None = None,
    durable: bool | None = None,
    wait: bool = True,
    timeout_s: float = 180,
) -> dict[str, Any]:
    """Start whatever part of the stack is not running (idempotent); returns `status()`.

    Ports and the bind list default to what the running stack uses (or 6379, 5555, loopback).
    `gpus`: the GPU indices to start a worker on (`[]`: one CPU worker; None: every visible
    GPU). `durable`: Redis fsyncs every write before it answers (`FSYNC_MODES`; None: as last
    time, else not). `wait`: wait up to `timeout_s` for a pong from every worker.
    """
    folder = stack_folder()
    state = load_state(folder)
    running = {p.name: p for p in state["processes"] if is_alive(p)}
    config = state.get("config", {})
    port = redis_port or config.get("redis_port", 6379)
    fport = flower_port or config.get("flower_port", 5555)
    bind = bind or config.get("bind", LOOPBACK)
    last_fsync = config.get("fsync", DEFAULT_FSYNC)
    fsync = last_fsync if durable is None else (DURABLE_FSYNC if durable else DEFAULT_FSYNC)
    if "redis" in running and fsync != last_fsync:
        raise ConfigError(
            f"redis already runs with appendfsync {last_fsync}; `wm stack down` to change it"
        )
    if LOOPBACK not in bind.replace(",", " ").split():
        raise ConfigError(f"bind: {bind!r} must include {LOOPBACK} (the stack connects there)")
    for name, wanted, key in (("redis", port, "redis_port"), ("flower", fport, "flower_port")):
        if name in running and wanted != config.get(key):
            raise ConfigError(
                f"{name} already runs on port {config.get(key)}; `wm stack down` to change it"
            )
    indices = visible_gpus() if gpus is None else gpus
    box = socket.gethostname()
    secret = _secrets(folder)
    broker = f"redis://:{secret['WM_REDIS_PASSWORD']}@{LOOPBACK}:{port}/0"
    env = dict(os.environ, WM_BROKER_URL=broker)
    env.pop("WM_RESULT_URL", None)  # results go to the stack's Redis too
    if sandbox_backend:
        env["WM_SANDBOX_BACKEND"] = sandbox_backend
    config = {"redis_port": port, "flower_port": fport, "bind": bind, "box": box, "fsync": fsync}
    write_private(
        folder / "stack.env",
        f"# source this file to talk to the stack: . {folder / 'stack.env'}\n"
        f"export WM_BROKER_URL={broker}\n",
    )
    workers: list[tuple[str, list[str]]] = [
        (f"gpu{i}", ["worker", "gpu", "--gpu", str(i)]) for i in indices
    ] or [("cpu", ["worker", "gpu"])]
    workers.append(("sandbox", ["worker", "sandbox", "--pool-size", str(pool_size)]))
    plan = _plan(folder, running, env, secret, port=port, fport=fport, bind=bind, fsync=fsync)
    for name, args in workers:
        if f"worker-{name}" not in running:
            plan.append((f"worker-{name}", "worker", [*WM_LAUNCHER, *args, "--hostname", box], env))

    _start(folder, config, running, plan, password=secret["WM_REDIS_PASSWORD"])
    if wait:
        _wait_for_workers([f"{name}@{box}" for name, _ in workers], running, env, timeout_s)
    return status()


Plan = list[tuple[str, str, list[str], dict[str, str]]]
"""What to start, in order: (name, role, argv, environment)."""


def _plan(
    folder: Path,
    running: Mapping[str, Proc],
    env: dict[str, str],
    secret: Mapping[str, str],
    *,
    port: int,
    fport: int,
    bind: str,
    fsync: str,
) -> Plan:
    """Redis and Flower, unless they run; Redis's config is rendered on the way."""
    plan: Plan = []
    if "redis" not in running:
        if not port_free(LOOPBACK, port):
            raise ConfigError(f"port {port} is taken; choose another with --redis-port")
        text = render_redis_conf(
            resource("redis.conf").read_text(),
            password=secret["WM_REDIS_PASSWORD"],
            bind=bind,
            port=port,
            data_dir=str(folder / "redis"),
            fsync=fsync,
        )
        write_private(folder / "redis.conf", text)
        server = shutil.which("redis-server")
        if server is None:
            raise StackError("redis-server is not installed (bash ops/setup.sh --stack)")
        plan.append(("redis", "redis", [server, str(folder / "redis.conf")], env))
    if "flower" not in running:
        if not port_free(LOOPBACK, fport):
            raise ConfigError(f"port {fport} is taken; choose another with --flower-port")
        flower_env = dict(
            env,
            WM_FLOWER_USER=secret["WM_FLOWER_USER"],
            WM_FLOWER_PASSWORD=secret["WM_FLOWER_PASSWORD"],
            WM_FLOWER_ADDRESS=LOOPBACK,
            WM_FLOWER_PORT=str(fport),
        )
        conf = resource("flowerconfig.py")
        argv = [sys.executable, "-m", "celery", "-A", "workers.app", "flower", f"--conf={conf}"]
        plan.append(("flower", "flower", argv, flower_env))
    return plan


def _start(
    folder: Path,
    config: dict[str, Any],
    running: dict[str, Proc],
    plan: Plan,
    *,
    password: str,
) -> None:
    """Start `plan` in order (adding to `running`), Redis and Flower each ready before the
    next; on any failure stop what this call started and raise."""
    started: list[Proc] = []
    try:
        for name, role, argv, proc_env in plan:
            proc = spawn(name, role, argv, proc_env, folder)
            started.append(proc)
            running[name] = proc
            # Redis first and ready, so Flower and the workers connect on their first try.
            if role == "redis":
                wait_for("redis-server", lambda: _redis_ready(config, password), proc, 30)
            if role == "flower":
                wait_for("Flower", lambda: _flower_ready(config["flower_port"]), proc, 60)
    except BaseException:
        # A half-started stack is worse than none: stop what this call started, then report.
        for role in STOP_ORDER:
            stop_all([p for p in started if p.role == role], 10)
        save_state(folder, {"config": config, "processes": [
            p for p in running.values() if p not in started and is_alive(p)
        ]})  # fmt: skip
        raise
    save_state(folder, {"config": config, "processes": list(running.values())})


def _wait_for_workers(
    names: list[str], running: Mapping[str, Proc], env: Mapping[str, str], timeout_s: float
) -> None:
    # Workers that are slow to answer are left running: a GPU worker's first start downloads
    # and converts the model, which can take minutes. A dead one is reported.
    workers = [p for p in running.values() if p.role == "worker"]
    missing, error = workers_ready(names, workers, env, timeout_s)
    dead = [p.name for p in workers if not is_alive(p)]
    logs = ", ".join(p.log for p in workers)
    if dead:
        raise StackError(f"{', '.join(dead)} exited; see {logs}. `wm stack down` stops the rest.")
    if missing:
        raise StackError(
            f"workers {missing} did not answer within {timeout_s:g} s"
            f"{f' ({error})' if error else ''}; they keep starting in the background "
            f"(`wm stack status`, `wm stack down`); see {logs}"
        )


def status() -> dict[str, Any]:
    """Each recorded process (alive or not, pid, log), Flower's URL and the stack's files."""
    folder = stack_folder()
    state = load_state(folder)
    config = state.get("config", {})
    return {
        "folder": str(folder),
        "processes": [
            {"name": p.name, "alive": is_alive(p), "pid": p.pid, "log": p.log}
            for p in state["processes"]
        ],
        "flower_url": f"http://{LOOPBACK}:{config['flower_port']}/" if config else None,
        "env_file": str(folder / "stack.env"),
        "secrets_file": str(folder / "secrets.env"),
    }


def down(
    timeout_s: float = 45, on_stopped: Callable[[dict[str, Any]], None] | None = None
) -> list[dict[str, Any]]:
    """Stop the stack: workers, then Flower, then Redis (its data stays for the next `up`).

    Each process gets `timeout_s` after SIGTERM before SIGKILL. Returns one row per recorded
    process, {"name", "pid", "how"} ("stopped", "killed after N s", "not running"), each also
    given to `on_stopped` as its tier is done.
    """
    folder = stack_folder()
    state = load_state(folder)
    procs: list[Proc] = state["processes"]
    rows = []
    # Tier by tier: workers hand their jobs back while Redis still runs to take them.
    for role in STOP_ORDER:
        tier = [p for p in procs if p.role == role]
        for name, how in stop_all(tier, timeout_s).items():
            row = {"name": name, "pid": next(p.pid for p in tier if p.name == name), "how": how}
            rows.append(row)
            if on_stopped:
                on_stopped(row)
    save_state(folder, {**state, "processes": []})
    return rows
