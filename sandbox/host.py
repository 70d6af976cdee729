"""The host backend: run model-written code directly on this machine, with no isolation.

It exists only for an explicit `--no-sandbox` (a worker also needs `WM_HOST_BACKEND_ACK`, see
`workers.settings`). It keeps what protects the caller rather than the host: a wall-clock
deadline that kills the whole process group, per-stream output caps, rlimits (CPU, address
space, file size, open files, no core dumps), a fresh temp dir as cwd, HOME and TMPDIR that is
removed afterwards, stdin closed, and the process backend's scrubbed environment
(`sandbox.process.scrubbed_env`: PATH, HOME, LANG and a few tuning variables; nothing of the
caller's, so no WM_*, broker URL, password, token or key reaches the code by inheritance).

What it does not do: hide the network, the file system or other processes from the code, drop
privileges, or kill children that leave the process group. The code can do anything the
calling user can, including reading that user's other processes' environments
(/proc/PID/environ) and files: the scrubbed environment stops an accidental leak, not a
deliberate one. RLIMIT_NPROC is not set (as root it would not be enforced,
and as a normal user it counts every process that user owns).
"""

from __future__ import annotations

import logging
import os
import sys
import tempfile

from sandbox._capture import run_launcher
from sandbox.executor import ExecutionResult, Limits
from sandbox.process import ProcessExecutor, interpret, scrubbed_env

log = logging.getLogger(__name__)

_CODE_FILE = "main.py"


class HostExecutor:
    """Runs code as a plain subprocess of this user; only deadline, caps and rlimits apply."""

    name = "host"

    def __init__(self, *, limits: Limits | None = None, python: str = sys.executable) -> None:
        self.limits = limits or Limits()
        self.python = python
        log.warning(
            "HostExecutor runs model-written code on the host with no isolation "
            "(network, files and other processes are all reachable); use only with --no-sandbox"
        )

    def run(self, code: str, *, limits: Limits | None = None) -> ExecutionResult:
        """Run `code` under `limits` (default: the executor's) and report what happened."""
        limits = limits or self.limits
        workdir = tempfile.mkdtemp(prefix="wm-host-")
        try:
            code_path = os.path.join(workdir, _CODE_FILE)
            with open(code_path, "w", encoding="utf-8") as f:
                f.write(code)
            config = {
                "mode": "host",
                "cwd": workdir,
                "code_path": code_path,
                "python": self.python,
                "python_args": ["-B", "-u", "-X", "utf8"],
                "env": scrubbed_env(workdir, self.python),
                "uid": None,
                "limits": {**limits.to_dict(), "max_processes": None},
            }
            captured = run_launcher(
                config,
                python=self.python,
                env=scrubbed_env(workdir, self.python),
                wall_time_s=limits.wall_time_s,
                max_output_bytes=limits.max_output_bytes,
                with_status=False,
            )
        finally:
            ProcessExecutor._remove(workdir)
        result = interpret(captured, limits, self.name)
        result.details["isolation"] = "none"
        return result

    def close(self) -> None:
        """Nothing is held between runs."""
