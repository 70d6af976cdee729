"""The process sandbox: run one code block in a separate, resource-limited, namespaced process.

Each `run()` gets a fresh work dir, a scrubbed environment, and a launcher (`sandbox._launch`)
that:

- puts the code in new mount, network, PID, IPC and UTS namespaces (inside a new user
  namespace when the caller is not root): no network at all (not even loopback), a private
  /proc and SysV/POSIX IPC;
- gives the code a minimal root of its own instead of the host's `/` (as bubblewrap and nsjail
  do): a read-only tmpfs holding read-only binds of /usr (and /bin, /lib... as the host has
  them: merged-/usr symlinks stay symlinks), /etc/ld.so.cache and /etc/localtime, the
  interpreter's own dirs (its prefix, base prefix and site-packages: a virtualenv inside a
  project shows only the virtualenv), /dev/null, zero, full, random and urandom, a made-up
  /etc (passwd and group with only root and the run's user, hosts, nsswitch.conf), a fresh
  /proc, and the run's work dir at /tmp (also /var/tmp and /dev/shm; cwd, HOME and TMPDIR).
  The launcher pivots into it and detaches the host's root, so no other host file (this
  project, the host's /etc, /root, /home, $WM_HOME, a unix socket anywhere) has a path at
  all. `details["exposed"]` lists every host path bound in;
- runs the code as a throw-away uid/gid (one per run, no groups): as root, a real drop of
  privileges, so RLIMIT_NPROC is enforced; as a normal user, the uid the caller maps to inside
  its user namespace;
- makes the work dir a size-capped tmpfs (`disk_mb`), so a run cannot fill the host's disk
  and its files vanish with it;
- sets RLIMIT_CPU, RLIMIT_AS, RLIMIT_NPROC, RLIMIT_FSIZE, RLIMIT_NOFILE and RLIMIT_CORE=0;
- kills every process the code started when the code's main process ends (PID namespace).

It fails closed: where the kernel refuses any of this (no user namespaces for this user, a
container seccomp profile that denies unshare, a bind or the pivot that fails), the code never
starts and `run()` raises `SandboxUnavailable` naming each confinement that did not hold (a
root that could not be built names the step). Nothing falls back to the host's network, /proc
or root. The launcher's status records are size-bounded and schema-checked
(`sandbox._capture.parse_status`); a malformed one makes the run a failure. The code runs as
`python -I -B -X utf8` with the site module enabled, because `-S` would hide site-packages
(numpy, sympy) that model-written code needs.

What it does not do: hide what it binds in (everything under /usr and the interpreter's dirs
is readable), filter syscalls (no seccomp: the code shares the host's kernel and its attack
surface), or cap memory across processes with cgroups (RLIMIT_AS is per process). It is
weaker than the VM backend and must be chosen explicitly.
"""

from __future__ import annotations

import json
import logging
import os
import random
import re
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import threading
from typing import Any

from sandbox._capture import Captured, run_launcher
from sandbox.executor import ExecutionResult, Limits, SandboxUnavailable

log = logging.getLogger(__name__)

# Throw-away uids for dropped privileges: far above any real account and below the
# 2**32-2 ceiling. Each concurrent run gets its own, so one run's fork bomb cannot use up
# another's RLIMIT_NPROC (which counts processes per uid) and runs cannot signal each other.
_UID_BASE = 2_000_000_000
_UID_SPAN = 1 << 24
# What the code's own root shows of the host, read-only, where the host has it (see
# `root_plan`): the system dirs an interpreter and its libraries load from (symlinks on a
# merged-/usr system are recreated as symlinks), the dynamic loader's cache and the time zone.
_SYSTEM_PATHS = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")
_HOST_ETC = ("/etc/ld.so.cache", "/etc/localtime")
_DEVICES = ("/dev/null", "/dev/zero", "/dev/full", "/dev/random", "/dev/urandom")
_DEV_LINKS = (
    ("/dev/fd", "/proc/self/fd"),
    ("/dev/stdin", "/proc/self/fd/0"),
    ("/dev/stdout", "/proc/self/fd/1"),
    ("/dev/stderr", "/proc/self/fd/2"),
)
# The run's work dir (cwd, HOME, TMPDIR) inside its root, and the other dirs that show it.
WORK_DIR = "/tmp"
_WORK_ALIASES = ("/var/tmp", "/dev/shm")
# The whole name service inside the root: local files only, and only these users.
_NSSWITCH = "passwd: files\ngroup: files\nshadow: files\nhosts: files\n"
_HOSTS = "127.0.0.1 localhost\n::1 localhost ip6-localhost ip6-loopback\n"
_CODE_FILE = "main.py"
_MEMORY_ERROR = re.compile(r"MemoryError\b|std::bad_alloc|Cannot allocate memory")
_MEMORY_SIGNALS = {signal.SIGKILL, signal.SIGSEGV, signal.SIGABRT, signal.SIGBUS}


class _UidPool:
    """Hands out distinct throw-away uids to concurrent runs in this process."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._used: set[int] = set()
        self._rng = random.SystemRandom()

    def take(self) -> int:
        with self._lock:
            while True:
                uid = _UID_BASE + self._rng.randrange(_UID_SPAN)
                if uid not in self._used:
                    self._used.add(uid)
                    return uid

    def give(self, uid: int) -> None:
        with self._lock:
            self._used.discard(uid)


_UIDS = _UidPool()


def _probe_python(python: str) -> dict[str, Any]:
    """Ask the interpreter where it lives (its venv applied), so the root can show it."""
    script = (
        "import sys, os, json, site; print(json.dumps({'executable': os.path.realpath("
        "sys.executable), 'prefix': sys.prefix, 'base_prefix': sys.base_prefix, "
        "'site_packages': site.getsitepackages()}))"
    )
    try:
        out = subprocess.run(
            [python, "-I", "-c", script],
            capture_output=True,
            text=True,
            timeout=30,
            check=True,
        )
    except (OSError, subprocess.SubprocessError) as exc:
        raise SandboxUnavailable(
            f"cannot run the sandbox interpreter {python!r} ({exc}); pass python= an existing "
            "Python 3 executable"
        ) from exc
    return json.loads(out.stdout)


def _others_can_enter(path: str) -> bool:
    return bool(os.stat(path).st_mode & stat.S_IXOTH)


def _host_entry(path: str) -> tuple[str, str, str] | None:
    """One root-plan entry that shows host `path` as it is: a symlink is recreated, a dir or
    file bound read-only; None where the host has no `path`."""
    try:
        mode = os.lstat(path).st_mode
    except FileNotFoundError:
        return None
    if stat.S_ISLNK(mode):
        return ("symlink", path, os.readlink(path))
    return ("dir" if stat.S_ISDIR(mode) else "file", path, path)


def _is_char_device(path: str) -> bool:
    try:
        return stat.S_ISCHR(os.lstat(path).st_mode)
    except FileNotFoundError:
        return False


def interpreter_binds(paths: list[str], *, dropped_uid: bool) -> list[tuple[str, str, str]]:
    """Root-plan entries that show the interpreter's own dirs (`paths`) and nothing above.

    Each dir is bound read-only at its own path and, when that path goes through a symlink,
    at its real path too; one inside a system dir or inside another bound dir is left out.
    So a virtualenv inside a project shows only the virtualenv, not the project around it.
    """
    wanted: dict[str, str] = {}
    for raw in paths:
        real = os.path.realpath(raw)
        for target in {os.path.abspath(raw), real}:
            if target == "/":
                raise SandboxUnavailable(
                    f"the interpreter's dir {raw} is the whole file system, which the "
                    "process sandbox does not expose; pass python= an interpreter installed "
                    "in its own prefix"
                )
            top = "/" + target.split("/")[1]
            if top not in _SYSTEM_PATHS:
                wanted[target] = real
    binds = []
    for target in sorted(wanted):
        source = wanted[target]
        if any(
            target.startswith(t + os.sep) and source == os.path.join(s, target[len(t) + 1 :])
            for t, s in wanted.items()
        ):
            continue
        if dropped_uid and not _others_can_enter(source):
            raise SandboxUnavailable(
                f"the interpreter directory {source} is not readable by other users, so code "
                "cannot run under a dropped uid; install Python somewhere world-readable or "
                "pass python= such an interpreter"
            )
        binds.append(("dir", target, source))
    return binds


def system_plan() -> list[tuple[str, str, str]]:
    """Root-plan entries for the host's system dirs, /etc files, devices and /dev links."""
    plan = [e for e in map(_host_entry, (*_SYSTEM_PATHS, *_HOST_ETC)) if e is not None]
    for device in _DEVICES:
        if not _is_char_device(device):
            raise SandboxUnavailable(
                f"{device} on this host is not a character device, and the process sandbox "
                "binds that node into the code's /dev; restore it (mknod) or use the VM backend"
            )
        plan.append(("device", device, device))
    return plan + [("symlink", link, target) for link, target in _DEV_LINKS]


def etc_files(uid: int) -> list[tuple[str, str, str]]:
    """The root's own /etc: only root and the run's throw-away user exist there."""
    nologin = "/usr/sbin/nologin"
    passwd = f"root:x:0:0::/:{nologin}\nsandbox:x:{uid}:{uid}::{WORK_DIR}:{nologin}\n"
    return [
        ("write", "/etc/passwd", passwd),
        ("write", "/etc/group", f"root:x:0:\nsandbox:x:{uid}:\n"),
        ("write", "/etc/nsswitch.conf", _NSSWITCH),
        ("write", "/etc/hosts", _HOSTS),
    ]


def scrubbed_env(home: str, python: str) -> dict[str, str]:
    """The whole environment the code sees: no WM_*, no credentials, no broker URLs."""
    path = os.pathsep.join([os.path.dirname(python), "/usr/local/bin", "/usr/bin", "/bin"])
    return {
        "PATH": path,
        "HOME": home,
        "TMPDIR": home,
        "LANG": "C.UTF-8",
        "LC_ALL": "C.UTF-8",
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONIOENCODING": "utf-8",
        # Why: RLIMIT_NPROC counts threads and RLIMIT_AS counts every thread's arena, so a
        # BLAS that starts one thread per host core would fail inside the limits.
        "OMP_NUM_THREADS": "1",
        "OPENBLAS_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
    }


def memory_exceeded(stderr: str, exit_code: int | None, max_rss_kb: int, memory_mb: int) -> bool:
    """Did the code die of the memory limit? A MemoryError, or a crash signal near the cap."""
    if exit_code == 0 or exit_code is None:
        return False
    if _MEMORY_ERROR.search(stderr[-4000:]):
        return True
    near_cap = max_rss_kb * 1024 >= 0.9 * memory_mb * 1024 * 1024
    return exit_code < 0 and signal.Signals(-exit_code) in _MEMORY_SIGNALS and near_cap


def interpret(captured: Captured, limits: Limits, backend: str) -> ExecutionResult:
    """Turn the raw capture into an `ExecutionResult` (shared with the host backend)."""
    details: dict[str, Any] = {}
    exit_code: int | None = captured.returncode
    max_rss_kb = 0
    for record in captured.status:
        if "setup" in record:
            details.update(record["setup"])
        if "proc" in record:
            details["proc"] = record["proc"]
        if "root" in record:
            details["root"] = record["root"]
        if "exec_error" in record:
            raise SandboxUnavailable(
                f"the sandbox could not start the interpreter: {record['exec_error']}; "
                f"details: {details}; launcher stderr: {captured.stderr[-2000:]!r}"
            )
        if "exit_code" in record:
            exit_code = record["exit_code"]
            max_rss_kb = int(record["max_rss_kb"])
            details["cpu_s"] = record["cpu_s"]
            details["max_rss_kb"] = max_rss_kb
    timed_out = captured.timed_out
    if exit_code == -signal.SIGXCPU:
        timed_out = True
        details["killed_for"] = "cpu_time"
    if captured.killed_for:
        details["killed_for"] = captured.killed_for
    stderr = captured.stderr.decode("utf-8", errors="replace")
    return ExecutionResult(
        stdout=captured.stdout.decode("utf-8", errors="replace"),
        stderr=stderr,
        exit_code=exit_code,
        timed_out=timed_out,
        memory_exceeded=memory_exceeded(stderr, exit_code, max_rss_kb, limits.memory_mb),
        output_truncated=captured.output_truncated,
        duration_s=round(captured.duration_s, 4),
        backend=backend,
        details=details,
    )


def confinement_gaps(setup: dict[str, Any], *, root: bool) -> list[str]:
    """What the launcher's setup record says did not hold, each named; empty if all did."""
    why = f" ({setup['why']})" if setup.get("why") else ""
    gaps = []
    if not root and setup.get("user_namespace") is not True:
        gaps.append("user namespace" + why)
    if setup.get("mount_namespace") is not True:
        gaps.append("mount namespace" + why)
    if setup.get("pid_namespace") is not True:
        gaps.append("PID namespace" + why)
    if setup.get("network") != "isolated":
        gaps.append("network namespace (no host network)" + why)
    if setup.get("mount_namespace") is True and setup.get("host_files") != "read-only":
        still = ", ".join(setup.get("writable_host_mounts") or []) or "not set up"
        gaps.append(f"read-only host files (writable: {still})")
    if setup.get("root_error"):
        gaps.append(f"own root ({setup['root_error']})")
    return gaps


def require_confinement(captured: Captured) -> None:
    """Raise `SandboxUnavailable`, naming each confinement that did not hold, unless all did.

    Checked here as well as in the launcher (which refuses to start the code), so a launcher
    that skipped its own check still cannot report a run that was not confined.
    """
    setup = next((r["setup"] for r in captured.status if "setup" in r), None)
    if setup is None:
        raise SandboxUnavailable(
            "the process sandbox launcher failed before reporting its setup; stderr: "
            f"{captured.stderr.decode(errors='replace')[-2000:]!r}"
        )
    gaps = confinement_gaps(setup, root=os.geteuid() == 0)
    for record in captured.status:
        gaps += [g for g in record.get("refused", []) if g not in gaps]
    procs = [r["proc"] for r in captured.status if "proc" in r]
    ran = any("exit_code" in r for r in captured.status)
    if any(p != "private" for p in procs) or (ran and not procs):
        gaps.append(f"private /proc ({procs[0] if procs else 'not reported'})")
    roots = [r["root"] for r in captured.status if "root" in r]
    if any(r != "own" for r in roots) or (ran and not roots):
        gaps.append(f"own root ({roots[0] if roots else 'not reported'})")
    if gaps:
        raise SandboxUnavailable(
            "the process sandbox refuses to run code: these confinements did not hold on "
            f"this machine: {'; '.join(gaps)}. Run as root, or as a user allowed to create "
            "user namespaces (kernel.unprivileged_userns_clone=1, a container seccomp "
            "profile that allows unshare), or use the VM backend"
        )


def _untrusted(captured: Captured, backend: str) -> ExecutionResult:
    """A run whose status could not be trusted: a failure, with the code's output kept."""
    return ExecutionResult(
        stdout=captured.stdout.decode("utf-8", errors="replace"),
        stderr=captured.stderr.decode("utf-8", errors="replace"),
        exit_code=None,
        timed_out=captured.timed_out,
        output_truncated=captured.output_truncated,
        duration_s=round(captured.duration_s, 4),
        backend=backend,
        details={"status_error": captured.status_error, "isolation": "process (weaker than vm)"},
    )


class ProcessExecutor:
    """Runs code in a separate, limited process; see the module docstring for the isolation."""

    name = "process"

    def __init__(
        self,
        *,
        limits: Limits | None = None,
        python: str = sys.executable,
        workdir_base: str | None = None,
        disk_mb: int = 64,
    ) -> None:
        """`disk_mb`: total size of the run's work dir (a tmpfs, in RAM), where the kernel lets
        us mount one; 0 keeps a plain host directory capped only per file."""
        self.limits = limits or Limits()
        self.disk_mb = disk_mb
        self.python = python
        self.workdir_base = workdir_base
        self._drop_privileges = os.geteuid() == 0
        info = _probe_python(python)
        wanted = [
            os.path.dirname(python),
            os.path.dirname(info["executable"]),
            info["prefix"],
            info["base_prefix"],
            *info["site_packages"],
        ]
        # What the code's root shows besides its /etc and work dir; `run` adds those.
        self._system_plan = system_plan()
        self._interpreter_plan = interpreter_binds(wanted, dropped_uid=self._drop_privileges)

    def root_plan(self, uid: int) -> list[tuple[str, str, str]]:
        """Everything the code's own root holds, in the order the launcher makes it: the host's
        system dirs, /etc, the work dir and its aliases, then the interpreter's dirs (last, so
        a virtualenv under /tmp lands on top of the work dir)."""
        work = [("work", WORK_DIR, "")] + [("alias", a, WORK_DIR) for a in _WORK_ALIASES]
        return [*self._system_plan, *etc_files(uid), *work, *self._interpreter_plan]

    def run(self, code: str, *, limits: Limits | None = None) -> ExecutionResult:
        """Run `code` under `limits` (default: the executor's) and report what happened."""
        limits = limits or self.limits
        workdir = tempfile.mkdtemp(prefix="wm-run-", dir=self.workdir_base)
        uid = _UIDS.take()
        try:
            code_path = os.path.join(workdir, _CODE_FILE)
            with open(code_path, "w", encoding="utf-8") as f:
                f.write(code)
            if self._drop_privileges:
                os.chown(workdir, uid, uid)
                os.chown(code_path, uid, uid)
            config = {
                "mode": "process",
                "workdir": workdir,
                "cwd": WORK_DIR,
                "host_code_path": code_path,
                "code_path": f"{WORK_DIR}/{_CODE_FILE}",
                "python": self.python,
                "python_args": ["-I", "-B", "-u", "-X", "utf8"],
                "env": scrubbed_env(WORK_DIR, self.python),
                "uid": uid,
                "gid": uid,
                "limits": limits.to_dict(),
                "root_plan": self.root_plan(uid),
                "disk_mb": self.disk_mb,
            }
            captured = run_launcher(
                config,
                python=self.python,
                env=scrubbed_env(workdir, self.python),
                wall_time_s=limits.wall_time_s,
                max_output_bytes=limits.max_output_bytes,
                with_status=True,
            )
        finally:
            self._remove(workdir)
            _UIDS.give(uid)
        if captured.status_error is not None:
            return _untrusted(captured, self.name)
        require_confinement(captured)
        result = interpret(captured, limits, self.name)
        result.details["isolation"] = "process (weaker than vm)"
        result.details["uid"] = uid
        return result

    def check(self) -> None:
        """Run an empty program once: raises `SandboxUnavailable` if any confinement fails."""
        self.run("pass", limits=Limits(wall_time_s=30, cpu_time_s=30))

    @staticmethod
    def _remove(workdir: str) -> None:
        """Delete a run's work dir; a failure is logged, never hidden."""

        def report(_func: Any, path: str, exc_info: Any) -> None:
            log.warning("could not remove sandbox file %s: %s", path, exc_info[1])

        shutil.rmtree(workdir, onerror=report)

    def close(self) -> None:
        """Nothing is held between runs; every run cleans up after itself."""
