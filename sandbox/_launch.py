"""The child side of the process and host sandboxes: set up isolation, then exec the code.

This file runs as a script (`python -I -S _launch.py CONFIG`, CONFIG being hex-encoded marshal
of plain values) in a fresh process that the parent (`sandbox._capture`) started in its own
session. It imports only the standard library and nothing from this project, so it starts fast
and sees none of the parent's state.

Process tree in "process" mode (root, or a user allowed to create user namespaces):

    A  this script: unshare(mount, net, pid, ipc, uts[, user]); make every host mount
       read-only; make the run's dirs private; refuse (report, never exec) if any of that
       failed; fork
    └─ B  PID 1 of the new PID namespace: mount a fresh /proc, fork, reap, report, exit
       └─ C  set rlimits, drop to a throw-away uid, exec `python -I main.py`

When B exits the kernel SIGKILLs every process left in its PID namespace, so nothing the
code started (background children, double-forked daemons) outlives the execution. B reports
C's exit status and resource use as one `repr`'d dict per line on the status fd; A reports
which isolation it applied, and {"refused": [...]} instead of running the code when any
confinement did not hold. A and B are not dumpable, so the code cannot reach their
descriptors through /proc. "host" mode only sets rlimits and execs (no namespaces, no uid
change).

What it does not do: filter syscalls (no seccomp), or cap memory with cgroups (RLIMIT_AS caps
each process's address space instead).
"""

from __future__ import annotations

import ctypes
import marshal
import os
import resource
import sys

CLONE_NEWNS = 0x00020000
CLONE_NEWUTS = 0x04000000
CLONE_NEWIPC = 0x08000000
CLONE_NEWUSER = 0x10000000
CLONE_NEWPID = 0x20000000
CLONE_NEWNET = 0x40000000
# IPC and UTS too: SysV shared memory, message queues and POSIX mqueues a run creates die
# with it instead of waiting on the host for the next run.
_NAMESPACES = CLONE_NEWNS | CLONE_NEWNET | CLONE_NEWPID | CLONE_NEWIPC | CLONE_NEWUTS
MS_RDONLY = 1
MS_NOSUID = 2
MS_NODEV = 4
MS_NOEXEC = 8
MS_REMOUNT = 32
MS_BIND = 4096
MS_REC = 16384
MS_PRIVATE = 1 << 18
MS_NOATIME = 1024
MS_NODIRATIME = 2048
MS_RELATIME = 1 << 21
# Per-mount options a read-only remount must repeat (a user namespace locks them).
_KEEP_FLAGS = {
    "nosuid": MS_NOSUID,
    "nodev": MS_NODEV,
    "noexec": MS_NOEXEC,
    "noatime": MS_NOATIME,
    "nodiratime": MS_NODIRATIME,
    "relatime": MS_RELATIME,
}
PR_SET_PDEATHSIG = 1
PR_SET_DUMPABLE = 4
# Not `signal.SIGKILL`: importing `signal` pulls in `enum`, a few ms on every run.
SIGKILL = 9

_libc = ctypes.CDLL(None, use_errno=True)


def _check(rc: int, what: str) -> None:
    if rc != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"{what}: {os.strerror(err)}")


def _unshare(flags: int) -> None:
    _check(_libc.unshare(ctypes.c_int(flags)), "unshare")


def _mount(source: str | None, target: str, fstype: str | None, flags: int, data: str = "") -> None:
    rc = _libc.mount(
        source.encode() if source is not None else None,
        target.encode(),
        fstype.encode() if fstype is not None else None,
        ctypes.c_ulong(flags),
        data.encode() if data else None,
    )
    _check(rc, f"mount {target}")


def _die_with_parent() -> None:
    # Why: if the process above us is killed (deadline), we must not live on unobserved.
    _libc.prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0)


def _write_status(fd: int, record: dict) -> None:
    # repr, not json: importing json costs more than the rest of this script's start-up.
    os.write(fd, (repr(record) + "\n").encode())


def _enter_namespaces(cfg: dict, applied: dict) -> set[str]:
    """Unshare mount/net/pid (and user, when not root) all at once; record why if refused.

    Nothing falls back to fewer namespaces: either every one holds or none does, and the
    caller refuses to run the code.
    """
    euid, egid = os.geteuid(), os.getegid()
    if euid != 0:
        # An unprivileged user gets the other namespaces only inside its own user namespace.
        # The caller's uid shows there as the run's throw-away uid; the kernel still knows it
        # as the caller, which is why every host mount is made read-only below.
        try:
            _unshare(CLONE_NEWUSER | _NAMESPACES)
            with open("/proc/self/setgroups", "w") as f:
                f.write("deny")
            with open("/proc/self/uid_map", "w") as f:
                f.write(f"{cfg['uid']} {euid} 1")
            with open("/proc/self/gid_map", "w") as f:
                f.write(f"{cfg['gid']} {egid} 1")
        except OSError as exc:
            applied["why"] = f"user namespace refused: {exc}"
            return set()
        applied["user_namespace"] = True
        return {"mount", "network", "pid"}
    try:
        _unshare(_NAMESPACES)
    except OSError as exc:
        applied["why"] = f"unshare(mount|net|pid|ipc|uts) refused: {exc}"
        return set()
    return {"mount", "network", "pid"}


def _mount_points() -> list[tuple[str, int, bool]]:
    """(mount point, flags to keep on remount, read-only?) for every mount, from mountinfo."""
    found = []
    with open("/proc/self/mountinfo") as f:
        for line in f:
            fields = line.split()
            # Why: mountinfo escapes space, tab, newline and backslash as octal (`re` would
            # cost every run a few ms to import).
            parts = fields[4].split("\\")
            point = parts[0] + "".join(chr(int(x[:3], 8)) + x[3:] for x in parts[1:])
            options = fields[5].split(",")
            flags = sum(_KEEP_FLAGS.get(o, 0) for o in options)
            found.append((point, flags, "ro" in options))
    return found


def _make_host_read_only(applied: dict) -> None:
    """Remount every host mount read-only in this mount namespace; list what stayed writable.

    Flags the kernel locks in a user namespace (nosuid, nodev, noexec, atime) are kept, or
    the remount is refused. /proc is replaced by a fresh one in the PID namespace.
    """
    for point, flags, _ in _mount_points():
        if point == "/proc" or point.startswith("/proc/"):
            continue
        # A refusal is judged below, from mountinfo: each mount left writable is named.
        flags |= MS_BIND | MS_REMOUNT | MS_RDONLY
        _libc.mount(None, point.encode(), None, ctypes.c_ulong(flags), None)
    # A mount point listed twice is judged by its last (topmost, the only reachable) mount.
    now = {point: ro for point, _, ro in _mount_points()}
    writable = sorted(
        p for p, ro in now.items() if not ro and p != "/proc" and not p.startswith("/proc/")
    )
    if writable:
        applied["writable_host_mounts"] = writable
    else:
        applied["host_files"] = "read-only"


def _make_host_dirs_private(cfg: dict, applied: dict) -> None:
    """In the new mount namespace: host files read-only, the run's dirs private, python shown."""
    _mount(None, "/", None, MS_REC | MS_PRIVATE)
    _make_host_read_only(applied)
    # Keep handles on the paths to expose before a tmpfs covers their parent.
    exposed = []
    for cover, paths in cfg["expose"]:
        fds = [(p, os.open(p, os.O_PATH | os.O_DIRECTORY)) for p in paths]
        _mount("tmpfs", cover, "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755,size=64k")
        for path, fd in fds:
            os.makedirs(path, mode=0o755, exist_ok=True)
            _mount(f"/proc/self/fd/{fd}", path, None, MS_BIND | MS_REC)
            _mount(None, path, None, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID)
            os.close(fd)
            exposed.append(path)
        applied.setdefault("hidden", []).append(cover)
    applied["exposed"] = exposed
    if cfg["disk_mb"]:
        # A size-capped tmpfs over the work dir bounds the run's total disk use, and vanishes
        # with the namespace. The code file written by the parent is carried over.
        with open(cfg["code_path"], "rb") as f:
            code = f.read()
        owner = f",uid={cfg['uid']},gid={cfg['gid']}" if cfg["uid"] is not None else ""
        options = f"size={int(cfg['disk_mb'])}m,mode=0700{owner}"
        _mount("tmpfs", cfg["workdir"], "tmpfs", MS_NOSUID | MS_NODEV, options)
        fd = os.open(cfg["code_path"], os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        os.write(fd, code)
        if cfg["uid"] is not None:
            os.fchown(fd, cfg["uid"], cfg["gid"])
        os.close(fd)
        applied["workdir"] = f"tmpfs, {int(cfg['disk_mb'])} MiB"
    else:
        # The only writable host directory: the run's own, bound over itself and made
        # writable again (it was made read-only with everything else).
        _mount(cfg["workdir"], cfg["workdir"], None, MS_BIND)
        _mount(None, cfg["workdir"], None, MS_BIND | MS_REMOUNT | MS_NOSUID | MS_NODEV)
        applied["workdir"] = "host directory, capped per file"
    # A handle, because once /tmp is covered the work dir's own path no longer resolves.
    workdir_fd = os.open(cfg["workdir"], os.O_PATH | os.O_DIRECTORY)
    # Likewise for interpreter dirs inside the private dirs (a virtualenv under /tmp).
    keep = [(p, os.open(p, os.O_PATH | os.O_DIRECTORY)) for p in cfg.get("reexpose", [])]
    for target in cfg["private_dirs"]:
        if os.path.isdir(target) and not os.path.islink(target):
            _mount(f"/proc/self/fd/{workdir_fd}", target, None, MS_BIND)
            applied.setdefault("private_dirs", []).append(target)
    os.close(workdir_fd)
    for path, fd in keep:
        os.makedirs(path, mode=0o755, exist_ok=True)
        _mount(f"/proc/self/fd/{fd}", path, None, MS_BIND | MS_REC)
        _mount(None, path, None, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID)
        os.close(fd)
        applied.setdefault("exposed", []).append(path)


def _set_limits(limits: dict, *, nproc: bool) -> None:
    cpu = max(1, int(-(-limits["cpu_time_s"] // 1)))
    mem = int(limits["memory_mb"]) * 1024 * 1024
    fsize = int(limits["max_file_size_mb"]) * 1024 * 1024
    nofile = int(limits["max_open_files"])
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))
    resource.setrlimit(resource.RLIMIT_AS, (mem, mem))
    resource.setrlimit(resource.RLIMIT_FSIZE, (fsize, fsize))
    resource.setrlimit(resource.RLIMIT_NOFILE, (nofile, nofile))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    if nproc and limits["max_processes"] is not None:
        n = int(limits["max_processes"])
        resource.setrlimit(resource.RLIMIT_NPROC, (n, n))


def _exec_code(cfg: dict, status_fd: int | None) -> None:
    """Become the user's code. Only returns by raising; reports exec failures on status_fd."""
    try:
        os.chdir(cfg["cwd"])
        os.umask(0o077)
        _set_limits(cfg["limits"], nproc=cfg["uid"] is not None or os.geteuid() != 0)
        if cfg["uid"] is not None:
            if not cfg.get("user_namespace"):
                os.setgroups([])
            os.setgid(cfg["gid"])
            os.setuid(cfg["uid"])
        argv = [cfg["python"], *cfg["python_args"], cfg["code_path"]]
        os.execve(cfg["python"], argv, cfg["env"])
    except OSError as exc:
        message = f"{type(exc).__name__}: {exc}"
        if status_fd is not None:
            _write_status(status_fd, {"exec_error": message})
        else:
            os.write(2, f"sandbox launcher: cannot start the code: {message}\n".encode())
        os._exit(127)


def _pid_one(cfg: dict, status_fd: int) -> None:
    """B: PID 1 of the namespace. Runs C, reaps orphans until C ends, reports, exits."""
    _die_with_parent()
    try:
        _mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC)
    except OSError as exc:
        _write_status(status_fd, {"refused": [f"private /proc ({exc})"]})
        os._exit(0)
    _write_status(status_fd, {"proc": "private"})
    child = os.fork()
    if child == 0:
        _exec_code(cfg, status_fd)
    while True:
        pid, status, usage = os.wait4(-1, 0)
        if pid == child:
            break
    record = {
        "exit_code": os.waitstatus_to_exitcode(status),
        "cpu_s": round(usage.ru_utime + usage.ru_stime, 4),
        "max_rss_kb": usage.ru_maxrss,
    }
    _write_status(status_fd, record)
    # Leaving now makes the kernel SIGKILL everything still running in this PID namespace.
    os._exit(0)


def main() -> None:
    cfg = marshal.loads(bytes.fromhex(sys.argv[1]))
    _die_with_parent()
    if cfg["mode"] == "host":
        _exec_code(cfg, None)
        return
    status_fd = cfg["status_fd"]
    os.set_inheritable(status_fd, False)
    applied: dict = {}
    got = _enter_namespaces(cfg, applied)
    applied["network"] = "isolated" if "network" in got else "host"
    applied["pid_namespace"] = "pid" in got
    applied["mount_namespace"] = "mount" in got
    cfg["user_namespace"] = applied.get("user_namespace", False)
    if "mount" in got:
        try:
            _make_host_dirs_private(cfg, applied)
        except OSError as exc:
            applied["mount_error"] = str(exc)
    if "/tmp" in applied.get("private_dirs", []):
        cfg["cwd"] = "/tmp"
        cfg["code_path"] = "/tmp/" + os.path.basename(cfg["code_path"])
        for var in ("HOME", "TMPDIR"):
            cfg["env"][var] = "/tmp"
    # Why: a process that is not dumpable has its /proc entries owned by root, so the code
    # (same kernel uid when not root) cannot reach our status pipe through /proc/PID/fd.
    _libc.prctl(PR_SET_DUMPABLE, 0, 0, 0, 0)
    _write_status(status_fd, {"setup": applied})
    refused = missing_confinement(applied, cfg)
    if refused:
        _write_status(status_fd, {"refused": refused})
        os._exit(0)
    child = os.fork()
    if child == 0:
        _libc.prctl(PR_SET_DUMPABLE, 0, 0, 0, 0)
        _pid_one(cfg, status_fd)
    _, status = os.waitpid(child, 0)
    os._exit(os.waitstatus_to_exitcode(status) & 0xFF)


def missing_confinement(applied: dict, cfg: dict) -> list[str]:
    """Each promised confinement that did not hold (empty when the code may run)."""
    why = f" ({applied['why']})" if applied.get("why") else ""
    missing = []
    if os.geteuid() != 0 and not applied.get("user_namespace"):
        missing.append("user namespace" + why)
    for key, name in (
        ("mount_namespace", "mount namespace"),
        ("pid_namespace", "PID namespace"),
    ):
        if not applied.get(key):
            missing.append(name + why)
    if applied.get("network") != "isolated":
        missing.append("network namespace (no host network)" + why)
    if applied.get("mount_namespace"):
        if applied.get("mount_error"):
            missing.append(f"private dirs ({applied['mount_error']})")
        if applied.get("host_files") != "read-only":
            still = ", ".join(applied.get("writable_host_mounts", [])) or "not attempted"
            missing.append(f"read-only host files (writable: {still})")
    if cfg.get("uid") is None:
        missing.append("throw-away uid")
    return missing


if __name__ == "__main__":
    main()
