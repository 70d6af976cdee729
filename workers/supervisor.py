"""Background processes on one box: start them, tell whether they still run, stop them.

`spawn` starts a process in a session of its own (it outlives the caller, no terminal signal
reaches it, and its pid is the id of a process group that can be killed as a whole), with its
output appended to a log, and records its pid and start time (`Proc`). A pid is trusted only
while the start time read from /proc still matches (`is_alive`), so a process that merely
reused the pid is never signalled. `stop_all` sends SIGTERM to a set of processes at once and
SIGKILL to the process group of whatever is left after a timeout.

Linux only (reads /proc). What to run, and in which order, is the stack's business (`stack`).
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from worldmodel.errors import WorldModelError


class StackError(WorldModelError):
    """A process of the stack did not start, exited, or never became ready; the message names
    it and its log."""


@dataclass
class Proc:
    """One process the stack started. No secrets: they travel in the environment only."""

    name: str
    role: str  # redis | flower | worker
    argv: list[str]
    pid: int
    start_ticks: int  # /proc/<pid>/stat field 22: tells this process from a pid reuse
    log: str


def start_ticks(pid: int) -> int | None:
    """When process `pid` started, in clock ticks since boot; None if it does not run."""
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
    return start_ticks(proc.pid) == proc.start_ticks


def spawn(name: str, role: str, argv: list[str], env: Mapping[str, str], folder: Path) -> Proc:
    """Start `argv` in the background with its output in `folder/logs/<name>.log` and its pid
    in `folder/pids/<name>.pid`; `StackError` if it exits at once."""
    log_path = folder / "logs" / f"{name}.log"
    with open(log_path, "ab") as log:
        log.write(f"\n==> {time.strftime('%Y-%m-%d %H:%M:%S')} wm stack starts {name}\n".encode())
        log.flush()
        # A new session: the process outlives `wm stack up`, no terminal signal reaches it,
        # and its pid is the process-group id that `stop_all` can kill as a whole.
        popen = subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            env=dict(env),
            cwd=folder,
            start_new_session=True,
        )
    ticks = start_ticks(popen.pid)
    if ticks is None:
        raise StackError(f"{name} exited at once; see {log_path}")
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


def tail(path: str, lines: int = 15) -> str:
    """The last `lines` lines of a log, for an error message."""
    try:
        return "\n".join(Path(path).read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def wait_for(what: str, check: Callable[[], bool], proc: Proc, timeout_s: float) -> None:
    """Poll `check` until it is true; `StackError` if `proc` exits or `timeout_s` passes."""
    deadline = time.monotonic() + timeout_s
    last = ""
    while time.monotonic() < deadline:
        if not is_alive(proc):
            raise StackError(f"{what} exited; last lines of {proc.log}:\n{tail(proc.log)}")
        try:
            if check():
                return
        except OSError as exc:
            last = str(exc)
        time.sleep(0.2)
    raise StackError(
        f"{what} not ready after {timeout_s:g} s ({last or 'no answer'}); see {proc.log}"
    )


def port_free(host: str, port: int) -> bool:
    """True if nothing listens on `host:port` (TCP), so a server started now can bind it."""
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as sock:
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True
