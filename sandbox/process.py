"""The process sandbox: run one code block in a separate, resource-limited, namespaced process.

Each `run()` gets a fresh work dir (cwd, HOME and TMPDIR), a scrubbed environment, and a
launcher (`sandbox._launch`) that:

- puts the code in new mount, network, PID, IPC and UTS namespaces (inside a new user
  namespace when the caller is not root): no network at all (not even loopback), a private
  /proc and SysV/POSIX IPC, and /tmp, /var/tmp, /dev/shm, /run/lock replaced by the run's own
  work dir, so nothing written there is seen by the host or by the next run;
- remounts every host mount read-only in that mount namespace, so the code cannot delete or
  rewrite host files, even those the caller owns ($WM_HOME, settings, VM images, checkpoints);
- runs the code as a throw-away uid/gid (one per run, no groups): as root, a real drop of
  privileges, so RLIMIT_NPROC is enforced and root-only files (/etc/shadow, /root) are
  unreadable, the interpreter being exposed read-only when it lives under a directory others
  cannot enter (pyenv in /root); as a normal user, the uid the caller maps to inside its user
  namespace (the kernel still sees the caller, hence the read-only mounts);
- makes the work dir a size-capped tmpfs (`disk_mb`), so a run cannot fill the host's disk
  and its files vanish with it;
- sets RLIMIT_CPU, RLIMIT_AS, RLIMIT_NPROC, RLIMIT_FSIZE, RLIMIT_NOFILE and RLIMIT_CORE=0;
- kills every process the code started when the code's main process ends (PID namespace).

It fails closed: where the kernel refuses any of this (no user namespaces for this user, a
container seccomp profile that denies unshare), the code never starts and `run()` raises
`SandboxUnavailable` naming each confinement that did not hold. Nothing falls back to the
host's network or /proc. The launcher's status records are size-bounded and schema-checked
(`sandbox._capture.parse_status`); a malformed one makes the run a failure. The code runs as
`python -I -B -X utf8` with the site module enabled, because `-S` would hide site-packages
(numpy, sympy) that model-written code needs.

What it does not do: hide world-readable host files (the code can read /etc/passwd or this
project's source, and as a normal user that user's own readable files), filter syscalls (no
seccomp), or cap memory across processes with cgroups (RLIMIT_AS is per process). It is
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
from pathlib import Path
from typing import Any

from sandbox._capture import Captured, run_launcher
from sandbox.executor import ExecutionResult, Limits, SandboxUnavailable

log = logging.getLogger(__name__)

# Throw-away uids for dropped privileges: far above any real account and below the
# 2**32-2 ceiling. Each concurrent run gets its own, so one run's fork bomb cannot use up
# another's RLIMIT_NPROC (which counts processes per uid) and runs cannot signal each other.
_UID_BASE = 2_000_000_000
_UID_SPAN = 1 << 24
# World-writable host dirs that the run's own work dir replaces inside its mount namespace.
_PRIVATE_DIRS = ("/tmp", "/var/tmp", "/dev/shm", "/run/lock")
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


def _probe_python(python: str) -> dict[str, str]:
    """Ask the interpreter where it lives, so its files can be exposed to a dropped uid."""
    script = (
        "import sys, os, json; print(json.dumps({'executable': os.path.realpath(sys.executable),"
        " 'prefix': sys.prefix, 'base_prefix': sys.base_prefix}))"
    )
    try:
        out = subprocess.run(
            [python, "-I", "-S", "-c", script],
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


def _expose_plan(paths: list[str]) -> list[tuple[str, list[str]]]:
    """For each path under a dir others cannot enter, that dir (to hide) and the path to show.

    Returns [(cover_dir, [paths...])]: inside the sandbox `cover_dir` becomes an empty tmpfs
    with only `paths` bind-mounted back, read-only, at the same place.
    """
    plan: dict[str, list[str]] = {}
    for raw in paths:
        path = os.path.realpath(raw)
        parts = Path(path).parts
        for i in range(2, len(parts)):
            ancestor = str(Path(*parts[:i]))
            if not _others_can_enter(ancestor):
                plan.setdefault(ancestor, [])
                if path not in plan[ancestor]:
                    plan[ancestor].append(path)
                break
        if not _others_can_enter(path):
            raise SandboxUnavailable(
                f"the interpreter directory {path} is not readable by other users, so code "
                "cannot run under a dropped uid; install Python somewhere world-readable or "
                "pass python= such an interpreter"
            )
    # A path inside another exposed path comes along with it.
    return sorted(
        (cover, [p for p in shown if not any(p.startswith(o + os.sep) for o in shown)])
        for cover, shown in plan.items()
    )


def _under_private_dirs(paths: list[str]) -> list[str]:
    """The outermost of `paths` that lie inside one of the dirs each run makes private."""
    inside = sorted(
        {
            os.path.abspath(p)
            for p in paths
            if any(os.path.abspath(p).startswith(d + os.sep) for d in _PRIVATE_DIRS)
        }
    )
    return [p for p in inside if not any(p.startswith(o + os.sep) for o in inside)]


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
    if setup.get("mount_error"):
        gaps.append(f"private dirs ({setup['mount_error']})")
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
        # The launcher itself runs as root before the uid drop, so only the code's own
        # interpreter must be reachable by the dropped uid.
        self._expose: list[tuple[str, list[str]]] = []
        wanted = [os.path.dirname(info["executable"]), info["prefix"], info["base_prefix"]]
        if self._drop_privileges:
            self._expose = _expose_plan(wanted)
        # An interpreter inside a dir the run makes private (a virtualenv in a checkout under
        # /tmp, say) would vanish when the run's own work dir covers that dir, so it is bound
        # back read-only at the same path.
        self._reexpose = _under_private_dirs([os.path.dirname(python), *wanted])

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
                "cwd": workdir,
                "code_path": code_path,
                "python": self.python,
                "python_args": ["-I", "-B", "-u", "-X", "utf8"],
                "env": scrubbed_env(workdir, self.python),
                "uid": uid,
                "gid": uid,
                "limits": limits.to_dict(),
                "expose": self._expose,
                "private_dirs": list(_PRIVATE_DIRS),
                "reexpose": self._reexpose,
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
