"""The execution daemon inside the sandbox guest (runs as root, started by /init).

It starts once per cold boot, imports the slow modules (numpy, sympy, ...) and then waits on
127.0.0.1:7000 inside the guest. The host saves the VM's state at that moment, so every clone
restored from the saved state already has a warm interpreter. The host reaches the port only
through an SSH direct-tcpip channel (dropbear), with the host key pinned.

A clone serves exactly one connection: the listening socket is closed as soon as the host
connects, so the sandboxed code cannot talk to the daemon. On that connection the host sends
`init` (fresh clock and entropy: every clone shares the saved RNG and clock) and then one `run`.

`run` forks a child that joins a fresh cgroup (memory.max, pids.max; cgroup.kill removes every
process it started, escaped daemons included), sets rlimits (CPU, file size, open files,
processes), drops to the unprivileged user 1000 in a fresh directory under the size-capped
/tmp, and executes the code in the already-warm interpreter. The daemon enforces the wall
deadline and the output cap and reports what happened.

Only the daemon writes to the host connection. The child closes every descriptor but 0
(/dev/null), 1 and 2 (pipes the daemon reads, capped) before it drops privileges, and exits
125 before running any code if one is left open; the listening socket is gone already. The
code, as user 1000, cannot reach the root daemon's descriptors another way either:
/proc/<daemon>/fd is root's and mode 0500, ptrace and pidfd_getfd need the daemon's
credentials, and the console the daemon logs to is root's and mode 0600
(tests/sandbox/test_hostile.py tries each). The host still checks every reply's size,
nesting and schema (sandbox/vm/protocol.py), so even a reply the daemon did not mean to send
costs one failed run, never the host process.

What clones still share, by design of saved-state restore: the kernel's boot id, the
interpreter's string-hash secret (set orders and `hash()` of str are the same in every clone)
and the addresses of everything loaded before the save (no fresh ASLR for the warm
interpreter). Randomness and the clock are refreshed; see `fresh_start`.

Not covered here: anything on the host side (the host also kills the whole VM at its own
deadline; see sandbox/vm/ssh.py). Frames are 4-byte big-endian length + UTF-8 JSON.
"""

import base64
import builtins
import ctypes
import fcntl
import io
import json
import os
import resource
import select
import signal
import socket
import struct
import sys
import time
import traceback
from typing import Any, NoReturn

PORT = 7000
SANDBOX_UID = 1000
CGROUP_ROOT = "/sys/fs/cgroup"
CGROUP = "/sys/fs/cgroup/run"
RNDADDENTROPY = 0x40085203
RNDRESEEDCRNG = 0x5207
PR_SET_CHILD_SUBREAPER = 36
MAX_FRAME = 64 * 1024 * 1024


def log(message: str) -> None:
    print(f"guestd: {message}", flush=True)


def preload() -> None:
    # Importing numpy and sympy takes many seconds under emulation; doing it once, before the
    # state is saved, makes it free for every execution.
    names = []
    try:
        with open("/etc/wm/preload") as handle:
            names = [line.strip() for line in handle if line.strip()]
    except FileNotFoundError:
        pass
    for name in names:
        try:
            __import__(name)
        except Exception as exc:  # reported; the build-time manifest check catches it too
            log(f"preload of {name} failed: {exc!r}")


def recv_exact(conn: socket.socket, size: int) -> bytes:
    chunks = []
    while size:
        chunk = conn.recv(min(size, 1 << 20))
        if not chunk:
            raise EOFError("host closed the connection")
        chunks.append(chunk)
        size -= len(chunk)
    return b"".join(chunks)


def recv_frame(conn: socket.socket) -> dict[str, Any]:
    (size,) = struct.unpack(">I", recv_exact(conn, 4))
    if size > MAX_FRAME:
        raise ValueError(f"frame of {size} bytes is too large")
    return json.loads(recv_exact(conn, size).decode("utf-8"))


def send_frame(conn: socket.socket, message: dict[str, Any]) -> None:
    data = json.dumps(message).encode("utf-8")
    conn.sendall(struct.pack(">I", len(data)) + data)


def write_file(path: str, text: str) -> None:
    with open(path, "w") as handle:
        handle.write(text)


def fresh_start(message: dict[str, Any]) -> dict[str, Any]:
    """Give this clone its own clock and randomness (every clone shares the saved ones)."""
    clock_s = float(message["time"])
    time.clock_settime(time.CLOCK_REALTIME, clock_s)
    entropy = base64.b64decode(message["entropy"])
    with open("/dev/urandom", "wb", buffering=0) as rng:
        info = struct.pack("ii", len(entropy) * 8, len(entropy)) + entropy
        fcntl.ioctl(rng, RNDADDENTROPY, info)
        # Mixing bytes in is not enough: the kernel reseeds its CRNG only on a schedule.
        fcntl.ioctl(rng, RNDRESEEDCRNG)
    started = time.monotonic()
    warm_up()
    return {"ok": True, "clock": time.time(), "warm_up_s": time.monotonic() - started}


def warm_up() -> None:
    """Run one throw-away child through the same steps an execution takes.

    QEMU does not save its translated code with the VM state, so under emulation a fresh
    clone re-translates every code path the first time it runs it. Doing that here, while the
    pool refills, keeps it out of the execution's latency.
    """
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:
        try:
            os.close(read_fd)
            os.dup2(write_fd, 1)
            import random

            random.seed()
            sys.stdout = io.TextIOWrapper(io.FileIO(1, "w", closefd=False), encoding="utf-8")
            exec(compile("print(sum(range(1000)))", "<warm-up>", "exec"), {"__name__": "__main__"})
            sys.stdout.flush()
        finally:
            os._exit(0)
    os.close(write_fd)
    while os.read(read_fd, 4096):
        pass
    os.close(read_fd)
    os.waitpid(pid, 0)


def setup_cgroup(limits: dict[str, Any]) -> None:
    if os.path.isdir(CGROUP):
        raise RuntimeError("a run already happened in this guest (single use)")
    write_file(os.path.join(CGROUP_ROOT, "cgroup.subtree_control"), "+memory +pids")
    os.mkdir(CGROUP)
    write_file(os.path.join(CGROUP, "memory.max"), str(int(limits["memory_mb"]) * 1024 * 1024))
    write_file(os.path.join(CGROUP, "memory.oom.group"), "1")
    write_file(os.path.join(CGROUP, "pids.max"), str(int(limits["max_processes"])))


def cgroup_kill() -> None:
    try:
        write_file(os.path.join(CGROUP, "cgroup.kill"), "1")
    except OSError as exc:
        log(f"cgroup.kill failed: {exc!r}")


def oom_killed() -> bool:
    try:
        with open(os.path.join(CGROUP, "memory.events")) as handle:
            for line in handle:
                key, _, value = line.partition(" ")
                if key == "oom_kill" and int(value) > 0:
                    return True
    except OSError:
        pass
    return False


def resident_kb(field: str) -> int:
    with open("/proc/self/status") as handle:
        for line in handle:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def raised_memory_error(stderr: bytes | bytearray) -> bool:
    lines = [line for line in bytes(stderr).decode("utf-8", "replace").splitlines() if line]
    return bool(lines) and lines[-1].startswith("MemoryError")


def close_inherited_fds() -> None:
    """Close every descriptor but 0-2; raise if one is still open afterwards (fail closed)."""
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    os.closerange(3, hard if hard != resource.RLIM_INFINITY else 1 << 20)
    left = []
    for name in os.listdir("/proc/self/fd"):
        fd = int(name)
        if fd > 2:
            try:
                os.fstat(fd)
            except OSError:
                continue  # the descriptor the listing itself used, closed by now
            left.append((fd, os.readlink(f"/proc/self/fd/{fd}")))
    if left:
        raise RuntimeError(f"descriptors still open before the code runs: {left}")


def child(code: str, limits: dict[str, Any], workdir: str, out_w: int, err_w: int) -> NoReturn:
    """In the forked child: confine, drop privileges, run the code. Never returns."""
    try:
        os.setsid()
        write_file(os.path.join(CGROUP, "cgroup.procs"), "0")
        devnull = os.open("/dev/null", os.O_RDONLY)
        os.dup2(devnull, 0)
        os.dup2(out_w, 1)
        os.dup2(err_w, 2)
        # The fork copied every descriptor the daemon holds, its connection to the host above
        # all: code that found it could write its own reply. The code keeps 0-2 and nothing else.
        close_inherited_fds()
        cpu = max(1, int(float(limits["cpu_time_s"]) + 0.999))
        resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))
        fsize = int(limits["max_file_size_mb"]) * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_FSIZE, (fsize, fsize))
        nofile = int(limits["max_open_files"])
        resource.setrlimit(resource.RLIMIT_NOFILE, (nofile, nofile))
        nproc = int(limits["max_processes"])
        resource.setrlimit(resource.RLIMIT_NPROC, (nproc, nproc))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        # The cgroup caps memory really used; the address-space cap makes a huge allocation
        # fail at once with MemoryError (as on the process backend) instead of lazily.
        # The warm interpreter already maps numpy and sympy, so the cap sits above that.
        mapped = resident_kb("VmSize") * 1024
        budget = mapped + int(limits["memory_mb"]) * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (budget, budget))
        os.setgroups([])
        os.setgid(SANDBOX_UID)
        os.setuid(SANDBOX_UID)
        os.chdir(workdir)
        os.environ.clear()
        os.environ.update(
            HOME=workdir,
            TMPDIR=workdir,
            PATH="/usr/bin:/bin",
            LANG="C.UTF-8",
            PYTHONIOENCODING="utf-8",
        )
        # The warm interpreter's PRNGs were seeded before the state was saved, so every clone
        # would draw the same numbers; reseed them from the (freshly reseeded) kernel RNG.
        import random
        import tempfile

        random.seed()
        tempfile._name_sequence = None  # type: ignore[attr-defined]
        if "numpy" in sys.modules:
            sys.modules["numpy"].random.seed()
        # Over descriptor 0 (/dev/null) rather than a new one: the code starts with 0-2 only.
        sys.stdin = io.TextIOWrapper(io.FileIO(0, "r", closefd=False), encoding="utf-8")
        sys.stdout = io.TextIOWrapper(io.FileIO(1, "w", closefd=False), encoding="utf-8")
        sys.stderr = io.TextIOWrapper(
            io.FileIO(2, "w", closefd=False),
            encoding="utf-8",
            errors="backslashreplace",
            line_buffering=True,
        )
        path = os.path.join(workdir, "main.py")
        with open(path, "w", encoding="utf-8") as handle:
            handle.write(code)
        sys.argv = [path]
        sys.path[0:0] = [workdir]
    except BaseException:
        traceback.print_exc()
        os._exit(125)
    status = 0
    try:
        namespace = {"__name__": "__main__", "__file__": path, "__builtins__": builtins}
        exec(compile(code, path, "exec"), namespace)
    except SystemExit as exc:
        if exc.code is None:
            status = 0
        elif isinstance(exc.code, int):
            status = exc.code & 0xFF
        else:
            print(exc.code, file=sys.stderr)
            status = 1
    except BaseException:
        traceback.print_exc()
        status = 1
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except BaseException:
        status = status or 120
    os._exit(status)


def run(message: dict[str, Any]) -> dict[str, Any]:
    limits = message["limits"]
    code = message["code"]
    setup_cgroup(limits)
    workdir = "/tmp/run"
    os.mkdir(workdir, 0o700)
    os.chown(workdir, SANDBOX_UID, SANDBOX_UID)
    out_r, out_w = os.pipe()
    err_r, err_w = os.pipe()
    started = time.monotonic()
    pid = os.fork()
    if pid == 0:
        os.close(out_r)
        os.close(err_r)
        child(code, limits, workdir, out_w, err_w)
    os.close(out_w)
    os.close(err_w)

    cap = int(limits["max_output_bytes"])
    deadline = started + float(limits["wall_time_s"])
    buffers = {out_r: bytearray(), err_r: bytearray()}
    open_fds = [out_r, err_r]
    status = None
    cpu_used = 0.0
    timed_out = truncated = False
    drain_until = None
    while open_fds:
        now = time.monotonic()
        if status is None and now >= deadline:
            timed_out = True
            cgroup_kill()
            drain_until = now + 2.0
        if drain_until is not None and now >= drain_until:
            break
        wait = 0.05 if status is None else 0.2
        readable, _, _ = select.select(open_fds, [], [], wait)
        for fd in readable:
            chunk = os.read(fd, 1 << 16)
            if not chunk:
                open_fds.remove(fd)
                continue
            buffer = buffers[fd]
            room = cap - len(buffer)
            if len(chunk) > room:
                buffer += chunk[: max(room, 0)]
                if not truncated:
                    truncated = True
                    # Reading on to discard would burn the VM's one CPU for nothing.
                    cgroup_kill()
                    drain_until = time.monotonic() + 2.0
            else:
                buffer += chunk
        # We are the subreaper: reap the main child and any orphans it left behind.
        while True:
            try:
                reaped, raw, usage = os.wait4(-1, os.WNOHANG)
            except ChildProcessError:
                break
            if reaped == 0:
                break
            if reaped == pid:
                status = raw
                cpu_used = usage.ru_utime + usage.ru_stime
                # Children left running after the main one exits die with it.
                cgroup_kill()
                if drain_until is None:
                    drain_until = time.monotonic() + 2.0
    if status is None:
        cgroup_kill()
        _, status, usage = os.wait4(pid, 0)
        cpu_used = usage.ru_utime + usage.ru_stime
    duration = time.monotonic() - started
    exit_code = -os.WTERMSIG(status) if os.WIFSIGNALED(status) else os.WEXITSTATUS(status)
    # RLIMIT_CPU sends SIGXCPU at the soft limit and SIGKILL at the hard one.
    cpu_exceeded = exit_code in (-signal.SIGXCPU, -signal.SIGKILL) and cpu_used >= float(
        limits["cpu_time_s"]
    )
    return {
        "stdout": base64.b64encode(bytes(buffers[out_r])).decode("ascii"),
        "stderr": base64.b64encode(bytes(buffers[err_r])).decode("ascii"),
        "exit_code": exit_code,
        "timed_out": timed_out or cpu_exceeded,
        "memory_exceeded": oom_killed() or (exit_code == 1 and raised_memory_error(buffers[err_r])),
        "output_truncated": truncated,
        "duration_s": duration,
        "cpu_exceeded": cpu_exceeded,
        "cpu_s": cpu_used,
    }


def serve(conn: socket.socket) -> None:
    while True:
        try:
            message = recv_frame(conn)
        except EOFError:
            return
        op = message.get("op")
        try:
            if op == "init":
                reply = fresh_start(message)
            elif op == "run":
                send_frame(conn, run(message))
                return
            elif op == "ping":
                reply = {"ok": True}
            else:
                reply = {"error": f"unknown op {op!r}"}
        except Exception as exc:
            reply = {"error": f"{type(exc).__name__}: {exc}"}
        send_frame(conn, reply)


def main() -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
    preload()
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    server.bind(("127.0.0.1", PORT))
    server.listen(1)
    log("WM-GUESTD-READY")
    conn, _ = server.accept()
    # Single use: nobody else, the sandboxed code included, can connect from now on.
    server.close()
    try:
        serve(conn)
    except Exception as exc:
        log(f"connection failed: {exc!r}")
    finally:
        conn.close()
    # Keep reaping orphans; the host destroys the VM after reading the result.
    while True:
        try:
            os.wait()
        except ChildProcessError:
            time.sleep(1)


if __name__ == "__main__":
    main()
