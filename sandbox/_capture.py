"""Start the launcher, enforce the wall-clock deadline and the output caps, collect what ran.

Shared by the process and host backends. One call starts `python -I -S _launch.py CONFIG`
in a new session, reads stdout, stderr and the launcher's status pipe concurrently (one
selector, no extra threads), and kills the whole process group when the deadline passes or a
stream goes over its cap. It is safe to call from many threads at once: every call owns its
pipes, its pidfd and its process group, and nothing uses `preexec_fn`.

What it does not do: decide what the outcome means (that is `sandbox.process`), or set up any
isolation (that is `sandbox._launch`, in the child).
"""

from __future__ import annotations

import ast
import contextlib
import marshal
import os
import selectors
import signal
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sandbox.executor import SandboxUnavailable

LAUNCHER = Path(__file__).with_name("_launch.py")
_CHUNK = 65536
# After the launcher exits, how long a stream may stay open (a child that escaped the process
# group and still holds the pipe) before we stop reading.
_EXIT_GRACE_S = 0.2
# After we kill the group, how long to keep draining the pipes.
_KILL_GRACE_S = 1.0
# The launcher writes a few short records; more than this is not the launcher's doing.
MAX_STATUS_BYTES = 64 * 1024
# Each record's keys and the types of their values; a record has exactly one shape.
_STATUS_SCHEMA: dict[str, dict[str, tuple[type, ...]]] = {
    "setup": {"setup": (dict,)},
    "refused": {"refused": (list,)},
    "proc": {"proc": (str,)},
    "root": {"root": (str,)},
    "exec_error": {"exec_error": (str,)},
    "exit_code": {"exit_code": (int,), "cpu_s": (int, float), "max_rss_kb": (int,)},
}


@dataclass
class Captured:
    """Raw facts about one launcher run, before interpretation."""

    stdout: bytes
    stderr: bytes
    returncode: int | None
    timed_out: bool
    output_truncated: bool
    killed_for: str | None
    duration_s: float
    status: list[dict[str, Any]] = field(default_factory=list)
    status_error: str | None = None
    """Why the status pipe's content was rejected (too big, malformed); None if it was not."""


def parse_status(data: bytes) -> list[dict[str, Any]]:
    """The launcher's status records; ValueError for anything it would not have written."""
    if len(data) > MAX_STATUS_BYTES:
        raise ValueError(f"status over {MAX_STATUS_BYTES} bytes")
    records: list[dict[str, Any]] = []
    for line in data.decode("ascii").splitlines():
        try:
            record = ast.literal_eval(line)
        except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError) as exc:
            raise ValueError(f"unreadable status record: {type(exc).__name__}") from exc
        if not isinstance(record, dict) or not record:
            raise ValueError("status record is not a non-empty dict")
        kind = next((k for k in _STATUS_SCHEMA if k in record), None)
        shape = _STATUS_SCHEMA.get(kind or "")
        if shape is None or set(record) != set(shape):
            raise ValueError(f"unexpected status record keys {sorted(map(str, record))[:8]}")
        for key, types in shape.items():
            value = record[key]
            if not isinstance(value, types) or isinstance(value, bool):
                raise ValueError(f"status field {key!r} has type {type(value).__name__}")
        if kind == "refused" and not all(isinstance(x, str) for x in record["refused"]):
            raise ValueError("status field 'refused' holds non-strings")
        if any(kind in r for r in records):
            raise ValueError(f"status record {kind!r} repeated")
        records.append(record)
    return records


class _Stream:
    def __init__(self, cap: int) -> None:
        self.data = bytearray()
        self.cap = cap
        self.over = False

    def feed(self, chunk: bytes) -> None:
        room = self.cap - len(self.data)
        if len(chunk) > room:
            self.over = True
        if room > 0:
            self.data += chunk[:room]


def _kill_group(pgid: int) -> None:
    # The launcher is a session leader and is not yet reaped, so `pgid` cannot have been
    # reused by another process group.
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signal.SIGKILL)


def run_launcher(
    config: dict[str, Any],
    *,
    python: str,
    env: dict[str, str],
    wall_time_s: float,
    max_output_bytes: int,
    with_status: bool,
) -> Captured:
    """Run the launcher with `config` and capture everything it produces within the limits."""
    status_r = status_w = -1
    if with_status:
        status_r, status_w = os.pipe()
        config = {**config, "status_fd": status_w}
    # marshal format 2 reads the same in every Python 3, in case `python` is not this one.
    argv = [python, "-I", "-S", str(LAUNCHER), marshal.dumps(config, 2).hex()]
    start = time.monotonic()
    try:
        proc = subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
            cwd="/",
            close_fds=True,
            pass_fds=(status_w,) if with_status else (),
            start_new_session=True,
        )
    except OSError as exc:  # no interpreter, or out of fds/processes on the host
        raise SandboxUnavailable(f"cannot start the sandbox launcher {argv[0]!r}: {exc}") from exc
    finally:
        if with_status:
            os.close(status_w)
    assert proc.stdout is not None and proc.stderr is not None
    pidfd = os.pidfd_open(proc.pid)
    out_stream, err_stream = _Stream(max_output_bytes), _Stream(max_output_bytes)
    streams = {proc.stdout.fileno(): out_stream, proc.stderr.fileno(): err_stream}
    status_buf = bytearray()
    sel = selectors.DefaultSelector()
    for fd in streams:
        sel.register(fd, selectors.EVENT_READ)
    if with_status:
        sel.register(status_r, selectors.EVENT_READ)
    sel.register(pidfd, selectors.EVENT_READ)
    open_fds = set(streams) | ({status_r} if with_status else set())
    deadline = start + wall_time_s
    stop_at: float | None = None  # set once the launcher exited or was killed
    timed_out = False
    killed_for: str | None = None
    try:
        while open_fds:
            now = time.monotonic()
            if stop_at is None and now >= deadline:
                timed_out, killed_for = True, "wall_time"
                _kill_group(proc.pid)
                stop_at = now + _KILL_GRACE_S
            if stop_at is not None and now >= stop_at:
                break
            limit = stop_at if stop_at is not None else deadline
            for key, _ in sel.select(timeout=max(0.0, limit - now)):
                fd = key.fd
                if fd == pidfd:
                    sel.unregister(pidfd)
                    if stop_at is None:
                        stop_at = time.monotonic() + _EXIT_GRACE_S
                    continue
                chunk = os.read(fd, _CHUNK)
                if not chunk:
                    sel.unregister(fd)
                    open_fds.discard(fd)
                elif fd == status_r:
                    # Read on past the cap (so a writer never blocks) but keep no more.
                    if len(status_buf) <= MAX_STATUS_BYTES:
                        status_buf += chunk[: MAX_STATUS_BYTES + 1 - len(status_buf)]
                else:
                    stream = streams[fd]
                    stream.feed(chunk)
                    if stream.over and killed_for is None:
                        killed_for = "output_limit"
                        _kill_group(proc.pid)
                        stop_at = time.monotonic() + _KILL_GRACE_S
        # Whatever is left in the group (children that outlived the launcher) goes now,
        # while the launcher is still unreaped and its group id cannot be reused.
        _kill_group(proc.pid)
        returncode = proc.wait()
    finally:
        sel.close()
        os.close(pidfd)
        proc.stdout.close()
        proc.stderr.close()
        if with_status:
            os.close(status_r)
    duration = time.monotonic() - start
    status: list[dict[str, Any]] = []
    status_error = None
    try:
        status = parse_status(bytes(status_buf))
    except (ValueError, UnicodeDecodeError) as exc:
        status_error = str(exc)
    return Captured(
        stdout=bytes(out_stream.data),
        stderr=bytes(err_stream.data),
        returncode=returncode,
        timed_out=timed_out,
        output_truncated=out_stream.over or err_stream.over,
        killed_for=killed_for,
        duration_s=duration,
        status=status,
        status_error=status_error,
    )
