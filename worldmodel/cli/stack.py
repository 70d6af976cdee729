"""`wm stack up | down | status | redis-conf`: the whole job system on one box, without Docker.

`up` starts, as background processes that outlive the command:

- redis-server, from the ops/redis/redis.conf template, with a password generated once and
  kept (mode 0600) under the stack folder, append-only persistence, bound to loopback;
- Flower with basic auth (ops/flower/flowerconfig.py) on loopback;
- one GPU worker per visible GPU (`wm worker gpu --gpu N`), or one CPU worker when there is
  no GPU (`wm worker gpu`);
- one sandbox worker (`wm worker sandbox`).

It waits for Redis and Flower to answer (a failure stops what it started) and then for a pong
from every worker; a worker still starting (a first start downloads the model) is left running
and reported, a dead one is reported at once. Running processes are never started twice.

Everything lives under `<WM_HOME>/stack`: `state.json` (what runs, without secrets),
`secrets.env` and `stack.env` (0600), `redis.conf` (rendered, 0600), `redis/` (the data),
`logs/<name>.log` and `pids/<name>.pid`. A pid is trusted only while the process start time
recorded beside it still matches, so `down` never signals a process that merely reused the pid.
`down` stops the workers first (so they hand running jobs back while Redis is still up), then
Flower, then Redis; each tier gets SIGTERM at once, and SIGKILL to the whole process group of
whatever is left after `--timeout`.

`redis-conf` renders the Redis template for systemd (ops/systemd/redis-server.service.d).

Linux only (reads /proc). Not covered: several boxes (ops/rollout.sh, docker-compose.yml).
"""

from __future__ import annotations

import contextlib
import ipaddress
import json
import os
import re
import secrets
import shutil
import signal
import socket
import string
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import click

from worldmodel.cli import wm
from worldmodel.cli.errors import library_errors
from worldmodel.errors import ConfigError
from worldmodel.home import home_path

OPS_DIR = Path(__file__).resolve().parents[2] / "ops"
WM_LAUNCHER = [sys.executable, "-c", "from worldmodel.cli import main; main()"]
PASSWORD_RE = re.compile(r"^[A-Za-z0-9._~-]{16,}$")
"""URL-unreserved characters only: the password goes unescaped into redis:// URLs."""

STOP_ORDER = ("worker", "flower", "redis")


@dataclass
class Proc:
    """One process the stack started. No secrets: they travel in the environment only."""

    name: str
    role: str  # redis | flower | worker
    argv: list[str]
    pid: int
    start_ticks: int  # /proc/<pid>/stat field 22: tells this process from a pid reuse
    log: str


# --- Redis configuration ------------------------------------------------------------------


def render_redis_conf(template: str, *, password: str, bind: str, port: int, data_dir: str) -> str:
    """Fill the ops/redis/redis.conf template; every invalid value is reported at once."""
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
    if problems:
        raise ConfigError("cannot render the Redis config:\n  " + "\n  ".join(problems))
    values = {
        "WM_REDIS_PASSWORD": password,
        "WM_REDIS_BIND": " ".join(addresses),
        "WM_REDIS_PORT": str(port),
        "WM_REDIS_DIR": data_dir,
    }
    try:
        return string.Template(template).substitute(values)
    except (KeyError, ValueError) as exc:
        raise ConfigError(f"the Redis template has an unknown placeholder: {exc}") from exc


def _ops_file(*parts: str) -> Path:
    path = OPS_DIR.joinpath(*parts)
    if not path.is_file():
        raise click.ClickException(
            f"{path} is missing: `wm stack` runs from a source checkout installed with "
            "`pip install -e` (ops/setup.sh does that)"
        )
    return path


def _write_private(path: Path, text: str) -> None:
    """Write a file only its owner can read, atomically (it may hold a password)."""
    tmp = path.with_name(f".{path.name}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(text)
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)


# --- Processes ----------------------------------------------------------------------------


def _start_ticks(pid: int) -> int | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # The command name (field 2) may contain spaces and parentheses: split after the last ')'.
    fields = stat[stat.rindex(")") + 2 :].split()
    if fields[0] == "Z":  # a zombie has exited; only its parent has not reaped it yet
        with contextlib.suppress(ChildProcessError):
            os.waitpid(pid, os.WNOHANG)
        return None
    return int(fields[19])


def is_alive(proc: Proc) -> bool:
    """True while the recorded process (not some later holder of its pid) still runs."""
    return _start_ticks(proc.pid) == proc.start_ticks


def _spawn(name: str, role: str, argv: list[str], env: Mapping[str, str], folder: Path) -> Proc:
    log_path = folder / "logs" / f"{name}.log"
    with open(log_path, "ab") as log:
        log.write(f"\n==> {time.strftime('%Y-%m-%d %H:%M:%S')} wm stack starts {name}\n".encode())
        log.flush()
        # A new session: the process outlives `wm stack up`, no terminal signal reaches it,
        # and its pid is the process-group id that `down` can kill as a whole.
        popen = subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            env=dict(env),
            cwd=folder,
            start_new_session=True,
        )
    ticks = _start_ticks(popen.pid)
    if ticks is None:
        raise click.ClickException(f"{name} exited at once; see {log_path}")
    (folder / "pids" / f"{name}.pid").write_text(f"{popen.pid}\n")
    return Proc(name, role, list(argv), popen.pid, ticks, str(log_path))


def stop_all(procs: list[Proc], timeout_s: float) -> dict[str, str]:
    """SIGTERM every process at once, wait up to `timeout_s`, then SIGKILL their groups.

    Returns, per process name, what it took: "stopped", "killed after N s" or "not running".
    """
    how: dict[str, str] = {}
    for proc in procs:
        if is_alive(proc):
            os.kill(proc.pid, signal.SIGTERM)
            how[proc.name] = "stopped"
        else:
            how[proc.name] = "not running"
    deadline = time.monotonic() + timeout_s
    while any(is_alive(p) for p in procs) and time.monotonic() < deadline:
        time.sleep(0.1)
    for proc in procs:
        if is_alive(proc):
            how[proc.name] = f"killed after {timeout_s:g} s"
        # Whatever is left in the group (the main process past its timeout, or children it
        # left behind, such as a pool process or a VM) is killed: the stack leaves nothing
        # running. The group is ours while its leader is ours, or while no process holds the
        # pid at all (Linux does not hand out a pid whose process group still has members).
        if is_alive(proc) or not Path(f"/proc/{proc.pid}").exists():
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(proc.pid, signal.SIGKILL)
    deadline = time.monotonic() + 5
    while any(is_alive(p) for p in procs) and time.monotonic() < deadline:
        time.sleep(0.05)
    for proc in procs:
        Path(proc.log).parent.parent.joinpath("pids", f"{proc.name}.pid").unlink(missing_ok=True)
    return how


def _tail(path: str, lines: int = 15) -> str:
    try:
        return "\n".join(Path(path).read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


# --- State --------------------------------------------------------------------------------


def _folder() -> Path:
    folder = home_path("stack")
    for sub in ("logs", "pids", "redis"):
        (folder / sub).mkdir(exist_ok=True)
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
    _write_private(path, "".join(f"{k}={v}\n" for k, v in values.items()))
    return values


def visible_gpus() -> list[int]:
    """GPU indices this box offers: the *_VISIBLE_DEVICES list if set, else what is installed."""
    for var in ("HIP_VISIBLE_DEVICES", "CUDA_VISIBLE_DEVICES"):
        if var in os.environ:
            text = os.environ[var].strip()
            try:
                return [int(part) for part in text.split(",") if part.strip()]
            except ValueError as exc:
                raise click.ClickException(f"{var}={text!r}: expected GPU indices") from exc
    # ROCm lists compute nodes under kfd; CPU nodes report simd_count 0.
    amd = 0
    for props in sorted(Path("/sys/class/kfd/kfd/topology/nodes").glob("*/properties")):
        match = re.search(r"^simd_count (\d+)$", props.read_text(), re.M)
        amd += bool(match and int(match.group(1)) > 0)
    if amd:
        return list(range(amd))
    nvidia = Path("/proc/driver/nvidia/gpus")
    return list(range(len(list(nvidia.iterdir())))) if nvidia.is_dir() else []


def _gpu_indices(cpu: bool, gpus: str | None) -> list[int]:
    if cpu:
        return []
    if gpus is None:
        return visible_gpus()
    try:
        return [int(part) for part in gpus.split(",") if part.strip()]
    except ValueError as exc:
        raise click.BadParameter("expected GPU indices like 0,1", param_hint="--gpus") from exc


def _port_free(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as sock:
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


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


def _wait_for(what: str, check: Any, proc: Proc, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    last = ""
    while time.monotonic() < deadline:
        if not is_alive(proc):
            raise click.ClickException(
                f"{what} exited; last lines of {proc.log}:\n{_tail(proc.log)}"
            )
        try:
            if check():
                return
        except OSError as exc:
            last = str(exc)
        time.sleep(0.2)
    raise click.ClickException(
        f"{what} not ready after {timeout_s:g} s ({last or 'no answer'}); see {proc.log}"
    )


def _flower_ready(port: int) -> bool:
    import urllib.request

    with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthcheck", timeout=2) as reply:
        return reply.read() == b"OK"


def _workers_ready(
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


# --- Commands -----------------------------------------------------------------------------


@wm.group()
def stack() -> None:
    """Run Redis, Flower and the workers on this box, without Docker.

    Example: wm stack up && wm stack status
    """


@stack.command()
@click.option("--redis-port", type=int, default=None, help="Redis port [6379, or as last time].")
@click.option("--flower-port", type=int, default=None, help="Flower port [5555, or as last time].")
@click.option(
    "--bind", default=None, help="Interfaces Redis listens on, space-separated [127.0.0.1]."
)
@click.option("--gpus", default=None, help="GPU indices for workers, e.g. 0,1 [all visible].")
@click.option("--cpu", is_flag=True, help="One CPU generation worker, even if GPUs are visible.")
@click.option(
    "--pool-size", type=click.IntRange(min=1), default=2, show_default=True, help="Sandbox runs."
)
@click.option(
    "--sandbox-backend",
    type=click.Choice(["vm", "process", "host"]),
    default=None,
    help="Where the sandbox worker runs code [WM_SANDBOX_BACKEND, else the settings default].",
)
@click.option("--wait/--no-wait", default=True, show_default=True, help="Wait for worker pongs.")
@click.option("--timeout", type=float, default=180, show_default=True, help="Seconds to wait.")
@click.option("--json", "as_json", is_flag=True, help="Print the status as JSON.")
@library_errors
def up(
    redis_port: int | None,
    flower_port: int | None,
    bind: str | None,
    gpus: str | None,
    cpu: bool,
    pool_size: int,
    sandbox_backend: str | None,
    wait: bool,
    timeout: float,
    as_json: bool,
) -> None:
    """Start whatever part of the stack is not running (idempotent).

    Example: wm stack up --gpus 0,1
    """
    folder = _folder()
    state = load_state(folder)
    running = {p.name: p for p in state["processes"] if is_alive(p)}
    config = state.get("config", {})
    port = redis_port or config.get("redis_port", 6379)
    fport = flower_port or config.get("flower_port", 5555)
    bind = bind or config.get("bind", "127.0.0.1")
    if "127.0.0.1" not in bind.replace(",", " ").split():
        # Flower and the workers of the stack connect over loopback.
        raise click.BadParameter("must include 127.0.0.1", param_hint="--bind")
    for name, wanted, key in (("redis", port, "redis_port"), ("flower", fport, "flower_port")):
        if name in running and wanted != config.get(key):
            raise click.ClickException(
                f"{name} already runs on port {config.get(key)}; `wm stack down` to change it"
            )
    indices = _gpu_indices(cpu, gpus)
    box = socket.gethostname()
    secret = _secrets(folder)
    broker = f"redis://:{secret['WM_REDIS_PASSWORD']}@127.0.0.1:{port}/0"
    env = dict(os.environ, WM_BROKER_URL=broker)
    env.pop("WM_RESULT_URL", None)  # results go to the stack's Redis too
    if sandbox_backend:
        env["WM_SANDBOX_BACKEND"] = sandbox_backend
    config = {"redis_port": port, "flower_port": fport, "bind": bind, "box": box}
    _write_private(
        folder / "stack.env",
        f"# source this file to talk to the stack: . {folder / 'stack.env'}\n"
        f"export WM_BROKER_URL={broker}\n",
    )

    plan: list[tuple[str, str, list[str], dict[str, str]]] = []
    if "redis" not in running:
        if not _port_free("127.0.0.1", port):
            raise click.ClickException(f"port {port} is taken; choose another with --redis-port")
        try:
            text = render_redis_conf(
                _ops_file("redis", "redis.conf").read_text(),
                password=secret["WM_REDIS_PASSWORD"],
                bind=bind,
                port=port,
                data_dir=str(folder / "redis"),
            )
        except ConfigError as exc:
            raise click.ClickException(str(exc)) from exc
        _write_private(folder / "redis.conf", text)
        server = shutil.which("redis-server")
        if server is None:
            raise click.ClickException("redis-server is not installed (bash ops/setup.sh --dev)")
        plan.append(("redis", "redis", [server, str(folder / "redis.conf")], env))
    if "flower" not in running:
        if not _port_free("127.0.0.1", fport):
            raise click.ClickException(f"port {fport} is taken; choose another with --flower-port")
        flower_env = dict(
            env,
            WM_FLOWER_USER=secret["WM_FLOWER_USER"],
            WM_FLOWER_PASSWORD=secret["WM_FLOWER_PASSWORD"],
            WM_FLOWER_ADDRESS="127.0.0.1",
            WM_FLOWER_PORT=str(fport),
        )
        conf = _ops_file("flower", "flowerconfig.py")
        argv = [sys.executable, "-m", "celery", "-A", "workers.app", "flower", f"--conf={conf}"]
        plan.append(("flower", "flower", argv, flower_env))
    workers: list[tuple[str, list[str]]] = [
        (f"gpu{i}", ["worker", "gpu", "--gpu", str(i)]) for i in indices
    ] or [("cpu", ["worker", "gpu"])]
    workers.append(("sandbox", ["worker", "sandbox", "--pool-size", str(pool_size)]))
    worker_names = [f"{name}@{box}" for name, _ in workers]
    for name, args in workers:
        if f"worker-{name}" not in running:
            argv = [*WM_LAUNCHER, *args, "--hostname", box]
            plan.append((f"worker-{name}", "worker", argv, env))

    started: list[Proc] = []
    try:
        for name, role, argv, proc_env in plan:
            proc = _spawn(name, role, argv, proc_env, folder)
            started.append(proc)
            running[name] = proc
            # Redis first and ready, so Flower and the workers connect on their first try.
            if role == "redis":
                _wait_for(
                    "redis-server",
                    lambda: "+PONG" in redis_ping("127.0.0.1", port, secret["WM_REDIS_PASSWORD"]),
                    proc,
                    30,
                )
            if role == "flower":
                _wait_for("Flower", lambda: _flower_ready(fport), proc, 60)
    except BaseException:
        # A half-started stack is worse than none: stop what this call started, then report.
        for role in STOP_ORDER:
            stop_all([p for p in started if p.role == role], 10)
        save_state(folder, {"config": config, "processes": [
            p for p in running.values() if p not in started and is_alive(p)
        ]})  # fmt: skip
        raise
    save_state(folder, {"config": config, "processes": list(running.values())})
    if wait:
        # Workers that are slow to answer are left running: a GPU worker's first start
        # downloads and converts the model, which can take minutes. A dead one is reported.
        workers = [p for p in running.values() if p.role == "worker"]
        missing, error = _workers_ready(worker_names, workers, env, timeout)
        dead = [p.name for p in workers if not is_alive(p)]
        logs = ", ".join(p.log for p in workers)
        if dead:
            raise click.ClickException(
                f"{', '.join(dead)} exited; see {logs}. `wm stack down` stops the rest."
            )
        if missing:
            raise click.ClickException(
                f"workers {missing} did not answer within {timeout:g} s"
                f"{f' ({error})' if error else ''}; they keep starting in the background "
                f"(`wm stack status`, `wm stack down`); see {logs}"
            )
    _print_status(folder, as_json)


@stack.command()
@click.option("--json", "as_json", is_flag=True, help="Print the status as JSON.")
@library_errors
def status(as_json: bool) -> None:
    """Show each process of the stack: alive or dead, pid, log file.

    Example: wm stack status --json
    """
    _print_status(_folder(), as_json)


@stack.command()
@click.option(
    "--timeout",
    type=float,
    default=45,
    show_default=True,
    help="Seconds each process gets after SIGTERM before SIGKILL (workers hand jobs back).",
)
@library_errors
def down(timeout: float) -> None:
    """Stop the stack: workers, then Flower, then Redis (its data stays for the next `up`).

    Example: wm stack down
    """
    folder = _folder()
    state = load_state(folder)
    procs: list[Proc] = state["processes"]
    # Tier by tier: workers hand their jobs back while Redis still runs to take them.
    for role in STOP_ORDER:
        tier = [p for p in procs if p.role == role]
        for name, how in stop_all(tier, timeout).items():
            pid = next(p.pid for p in tier if p.name == name)
            click.echo(f"{name:16} {how} (pid {pid})")
    save_state(folder, {**state, "processes": []})
    if not procs:
        click.echo("nothing was running")


@stack.command("redis-conf")
@click.option(
    "--output", "-o", type=click.Path(dir_okay=False), required=True, help="File to write."
)
@click.option("--owner", default=None, help="User to own the file (e.g. redis, for systemd).")
@click.option("--bind", default=None, help="Interfaces [WM_REDIS_BIND, else 127.0.0.1].")
@click.option("--port", type=int, default=None, help="Port [WM_REDIS_PORT, else 6379].")
@click.option("--dir", "data_dir", default=None, help="Data folder [WM_REDIS_DIR].")
@library_errors
def redis_conf(
    output: str, owner: str | None, bind: str | None, port: int | None, data_dir: str | None
) -> None:
    """Render ops/redis/redis.conf with the password from WM_REDIS_PASSWORD (file mode 0600).

    Example: WM_REDIS_PASSWORD=... wm stack redis-conf -o /etc/redis/worldmodel.conf --owner redis
    """
    try:
        text = render_redis_conf(
            _ops_file("redis", "redis.conf").read_text(),
            password=os.environ.get("WM_REDIS_PASSWORD", ""),
            bind=bind or os.environ.get("WM_REDIS_BIND", "127.0.0.1"),
            port=port or int(os.environ.get("WM_REDIS_PORT", "6379")),
            data_dir=data_dir or os.environ.get("WM_REDIS_DIR", ""),
        )
    except (ConfigError, ValueError) as exc:
        raise click.ClickException(str(exc)) from exc
    path = Path(output)
    _write_private(path, text)
    if owner:
        shutil.chown(path, user=owner)
    click.echo(f"wrote {path}", err=True)


def _print_status(folder: Path, as_json: bool) -> None:
    state = load_state(folder)
    config = state.get("config", {})
    rows = [
        {"name": p.name, "alive": is_alive(p), "pid": p.pid, "log": p.log}
        for p in state["processes"]
    ]
    data = {
        "folder": str(folder),
        "processes": rows,
        "flower_url": f"http://127.0.0.1:{config['flower_port']}/" if config else None,
        "env_file": str(folder / "stack.env"),
        "secrets_file": str(folder / "secrets.env"),
    }
    if as_json:
        click.echo(json.dumps(data, indent=2))
        return
    if not rows:
        click.echo(f"the stack is not running ({folder})")
        return
    from rich.console import Console
    from rich.table import Table

    table = Table("process", "state", "pid", "log", box=None)
    for row in rows:
        label = "[green]alive[/]" if row["alive"] else "[red]dead[/]"
        table.add_row(row["name"], label, str(row["pid"]), row["log"])
    console = Console(highlight=False)
    console.print(table)
    console.print(f"Flower:  {data['flower_url']} (user and password in {data['secrets_file']})")
    console.print(f"Clients: . {data['env_file']}   # sets WM_BROKER_URL")
