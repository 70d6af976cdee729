"""The child side of the process and host sandboxes: set up isolation, then exec the code.

This file runs as a script (`python -I -S _launch.py CONFIG`, CONFIG being hex-encoded marshal
of plain values) in a fresh process that the parent (`sandbox._capture`) started in its own
session. It imports only the standard library and nothing from this project, so it starts fast
and sees none of the parent's state.

Process tree in "process" mode (root, or a user allowed to create user namespaces):

    A  this script: unshare(mount, net, pid, ipc, uts[, user]); build the code's own root
       (below); refuse (report, never exec) if any of that failed; fork
    └─ B  PID 1 of the new PID namespace: mount a fresh /proc in the new root, pivot_root
       into it and detach the host's root; fork, reap, report, exit
       └─ C  set rlimits, drop to a throw-away uid, exec `python -I main.py`

The new root is a small read-only tmpfs mounted over the run's work dir (in A's private mount
namespace), holding only what the parent's plan (`cfg["root_plan"]`, made by
`sandbox.process`) lists: read-only binds of host dirs and files, recreated symlinks, a few
written files (/etc/passwd...), the run's writable work dir, and aliases of it. Every bind is
made read-only as soon as it exists, and a last pass over mountinfo makes their submounts
read-only too. After B's pivot no path leads to the host's root: B checks that the mounts it
sees are exactly the planned ones. /proc is mounted before the pivot because an unprivileged
user namespace may mount proc only while a full one is visible.

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
# statvfs flags of a mount that a read-only remount of it must repeat, and their mount flags.
_STATVFS_KEEP = (
    (os.ST_NOSUID, MS_NOSUID),
    (os.ST_NODEV, MS_NODEV),
    (os.ST_NOEXEC, MS_NOEXEC),
    (os.ST_NOATIME, MS_NOATIME),
    (os.ST_NODIRATIME, MS_NODIRATIME),
    (os.ST_RELATIME, MS_RELATIME),
)
MNT_DETACH = 2
# glibc has no pivot_root wrapper; the syscall's number per machine.
_PIVOT_ROOT = {"x86_64": 155, "aarch64": 41, "riscv64": 41}
# The new root holds only mount points, symlinks and a few /etc files.
_ROOT_TMPFS = "mode=0755,size=1m,nr_inodes=4096"
_NEW_FILE = os.O_WRONLY | os.O_CREAT | os.O_EXCL
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


def _kept_flags(path: str) -> int:
    """The per-mount flags of the mount at `path` that a remount must repeat (statvfs)."""
    got = os.statvfs(path).f_flag
    return sum(ms for st, ms in _STATVFS_KEEP if got & st)


def _make_parents(root: str, target: str) -> None:
    """Create `target`'s missing parent dirs inside `root` (0755), never through a symlink.

    Why: a symlink in the new root resolves against the host's root until the pivot, so
    following one here could create dirs on the host.
    """
    path = root
    for part in target.strip("/").split("/")[:-1]:
        path += "/" + part
        if os.path.islink(path):
            raise OSError(40, f"{path} is a symlink")  # ELOOP
        if not os.path.isdir(path):
            os.mkdir(path, 0o755)


def _mount_point(root: str, target: str, *, is_dir: bool) -> str:
    """An empty dir or file at `target` inside `root` to mount on; returns its path."""
    _make_parents(root, target)
    dest = root + target
    if os.path.islink(dest):
        raise OSError(40, f"{dest} is a symlink")
    if is_dir:
        if not os.path.isdir(dest):
            os.mkdir(dest, 0o755)
    elif not os.path.exists(dest):
        os.close(os.open(dest, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644))
    return dest


def _bind_read_only(source: str, dest: str, *, recursive: bool, device: bool) -> None:
    """Bind `source` at `dest`, then make that mount read-only, nosuid (and nodev unless it
    is a device node). Submounts of a recursive bind are made read-only by `_seal_root`."""
    _mount(source, dest, None, MS_BIND | (MS_REC if recursive else 0))
    flags = MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | (0 if device else MS_NODEV)
    _mount(None, dest, None, flags | _kept_flags(dest))


def _mount_work(cfg: dict, dest: str, work_fd: int, code: bytes | None) -> str:
    """The run's only writable dir at `dest`: a size-capped tmpfs holding the code file, or
    (disk_mb 0) the host work dir itself, capped per file only. Returns how it was made."""
    if code is None:
        _mount(f"/proc/self/fd/{work_fd}", dest, None, MS_BIND)
        flags = MS_BIND | MS_REMOUNT | MS_NOSUID | MS_NODEV
        _mount(None, dest, None, flags | _kept_flags(dest))
        return "host directory, capped per file"
    # A size-capped tmpfs bounds the run's total disk use and vanishes with the namespace.
    owner = f",uid={cfg['uid']},gid={cfg['gid']}" if cfg["uid"] is not None else ""
    options = f"size={int(cfg['disk_mb'])}m,mode=0700{owner}"
    _mount("tmpfs", dest, "tmpfs", MS_NOSUID | MS_NODEV, options)
    fd = os.open(dest + "/" + os.path.basename(cfg["code_path"]), _NEW_FILE, 0o600)
    os.write(fd, code)
    if cfg["uid"] is not None:
        os.fchown(fd, cfg["uid"], cfg["gid"])
    os.close(fd)
    return f"tmpfs, {int(cfg['disk_mb'])} MiB"


def _add_entry(cfg: dict, root: str, entry: tuple, work: tuple[int, bytes | None]) -> str:
    """Put one entry of the root plan in place; returns what it exposed ('' for nothing)."""
    kind, target, arg = entry
    if kind == "symlink":
        _make_parents(root, target)
        os.symlink(arg, root + target)
        return ""
    if kind == "write":
        _make_parents(root, target)
        fd = os.open(root + target, _NEW_FILE, 0o644)
        os.write(fd, arg.encode())
        os.close(fd)
        return ""
    if kind in ("dir", "file", "device"):
        dest = _mount_point(root, target, is_dir=kind == "dir")
        _bind_read_only(arg, dest, recursive=kind == "dir", device=kind == "device")
        return target if arg == target else f"{target} (from {arg})"
    if kind == "work":
        cfg["work_mount"] = _mount_work(cfg, _mount_point(root, target, is_dir=True), *work)
        return ""
    if kind == "alias":
        _mount(root + arg, _mount_point(root, target, is_dir=True), None, MS_BIND)
        return ""
    raise OSError(22, f"unknown root entry kind {kind!r}")  # EINVAL


def _seal_root(root: str, writable: set[str], devices: set[str]) -> tuple[list[str], list[str]]:
    """Make every mount in the new root read-only but the work dir's; return (every mount
    point, relative to the root, and those still writable that should not be)."""
    inside = [(p[len(root) :] or "/", f, ro) for p, f, ro in _mount_points() if _under(p, root)]
    for point, flags, ro in inside:
        if ro or point in writable:
            continue
        flags |= MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID
        flags |= 0 if point in devices else MS_NODEV
        # A refusal is judged below, from mountinfo: each mount left writable is named.
        _libc.mount(None, (root + point.rstrip("/")).encode(), None, ctypes.c_ulong(flags), None)
    now = {(p[len(root) :] or "/"): ro for p, _, ro in _mount_points() if _under(p, root)}
    return sorted(now), sorted(p for p, ro in now.items() if not ro and p not in writable)


def _under(path: str, root: str) -> bool:
    return path == root or path.startswith(root + "/")


def _build_root(cfg: dict, applied: dict) -> None:
    """A: the code's own root, on a tmpfs mounted over the run's work dir (see the module).

    Every step names itself in the OSError it raises; the caller refuses to run the code.
    """
    os.umask(0o022)
    _mount(None, "/", None, MS_REC | MS_PRIVATE)
    root = cfg["workdir"]
    # Handles on the work dir and the code before the root covers them.
    work_fd = os.open(root, os.O_PATH | os.O_DIRECTORY)
    code = None
    if cfg["disk_mb"]:
        with open(cfg["host_code_path"], "rb") as f:
            code = f.read()
    try:
        try:
            _mount("wm-root", root, "tmpfs", MS_NOSUID | MS_NODEV, _ROOT_TMPFS)
            os.mkdir(root + "/proc", 0o555)
        except OSError as exc:
            raise OSError(exc.errno, f"root tmpfs: {exc.strerror}") from exc
        exposed = []
        for entry in cfg["root_plan"]:
            try:
                shown = _add_entry(cfg, root, entry, (work_fd, code))
            except OSError as exc:
                raise OSError(exc.errno, f"{entry[0]} {entry[1]}: {exc.strerror}") from exc
            if shown:
                exposed.append(shown)
    finally:
        os.close(work_fd)
    if "work_mount" not in cfg:
        raise OSError(22, "the root plan has no work dir")  # EINVAL
    applied["exposed"] = exposed
    applied["workdir"] = cfg["work_mount"]
    writable = {e[1] for e in cfg["root_plan"] if e[0] in ("work", "alias")}
    devices = {e[1] for e in cfg["root_plan"] if e[0] == "device"}
    cfg["root_points"], left = _seal_root(root, writable, devices)
    if left:
        applied["writable_host_mounts"] = left
    else:
        applied["host_files"] = "read-only"


def _enter_root(cfg: dict) -> str | None:
    """B: mount a fresh /proc in the new root, pivot into it and detach the host's root.

    Returns the confinement that did not hold, or None. /proc is mounted before the pivot
    because an unprivileged user namespace may mount proc only while one is visible.
    """
    root = cfg["workdir"]
    try:
        _mount("proc", root + "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC)
    except OSError as exc:
        return f"private /proc ({exc})"
    number = _PIVOT_ROOT.get(os.uname().machine)
    if number is None:
        return f"own root (no pivot_root syscall number for {os.uname().machine})"
    try:
        os.chdir(root)
        # pivot_root(".", "."): the host's root ends up stacked on the new one, and the
        # detach below takes it (and every host mount under it) away for good.
        _check(_libc.syscall(number, b".", b"."), "pivot_root")
        _check(_libc.umount2(b".", MNT_DETACH), "detach the host's root")
        os.chdir("/")
    except OSError as exc:
        return f"own root ({exc})"
    seen = {p for p, _, _ in _mount_points()}
    expected = {*cfg["root_points"], "/proc"}
    if seen != expected:
        return f"own root (unexpected mounts after the pivot: {sorted(seen ^ expected)[:8]})"
    return None


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
    failed = _enter_root(cfg)
    if failed:
        _write_status(status_fd, {"refused": [failed]})
        os._exit(0)
    _write_status(status_fd, {"proc": "private"})
    _write_status(status_fd, {"root": "own"})
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
            _build_root(cfg, applied)
        except OSError as exc:
            applied["root_error"] = exc.strerror or str(exc)
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
        if applied.get("root_error"):
            missing.append(f"own root ({applied['root_error']})")
        if applied.get("host_files") != "read-only":
            still = ", ".join(applied.get("writable_host_mounts", [])) or "not attempted"
            missing.append(f"read-only host files (writable: {still})")
    if cfg.get("uid") is None:
        missing.append("throw-away uid")
    return missing


if __name__ == "__main__":
    main()
