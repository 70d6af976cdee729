"""The one interface every execution backend implements, and the values it returns.

An execution's failures (non-zero exit, timeout, memory cap, truncated output) are data in
`ExecutionResult`, never exceptions. Exceptions are for the cases where no execution could
happen at all: `SandboxUnavailable` (no image, QEMU missing, boot failure, ...), whose message
names the fix.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Any, Protocol, runtime_checkable


class SandboxError(Exception):
    """Root of the sandbox's errors."""


class SandboxUnavailable(SandboxError):
    """No execution could be started with this backend. The message says how to fix it."""


@dataclass(frozen=True)
class Limits:
    """Resource limits for one execution. Every backend enforces all of them."""

    wall_time_s: float = 10.0
    """Wall-clock deadline in seconds; the code is killed when it passes."""
    cpu_time_s: float = 10.0
    """CPU-time limit in seconds (RLIMIT_CPU)."""
    memory_mb: int = 512
    """Address-space / memory limit in MiB."""
    max_processes: int = 64
    """Most processes/threads the code may run at once."""
    max_output_bytes: int = 1_000_000
    """stdout and stderr are each cut at this many bytes; `output_truncated` says so."""
    max_file_size_mb: int = 16
    """Largest file the code may write, in MiB (RLIMIT_FSIZE)."""
    max_open_files: int = 256
    """Most open file descriptors (RLIMIT_NOFILE)."""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Limits:
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})


@dataclass
class ExecutionResult:
    """What happened when one block of code ran. JSON-serialisable via `to_dict`."""

    stdout: str
    stderr: str
    exit_code: int | None
    """The process's exit status; negative for a signal; None if it never started."""
    timed_out: bool = False
    memory_exceeded: bool = False
    output_truncated: bool = False
    duration_s: float = 0.0
    backend: str = ""
    """Which backend ran the code: "vm", "process" or "host"."""
    details: dict[str, Any] = field(default_factory=dict)
    """Backend specifics, e.g. {"accelerator": "kvm"} for the VM backend."""

    @property
    def ok(self) -> bool:
        return self.exit_code == 0 and not self.timed_out and not self.memory_exceeded

    @property
    def reason(self) -> str | None:
        """Why the run failed in a few words ("timed out", "exit code 1", ...); None if ok."""
        if self.ok:
            return None
        if self.timed_out:
            return "timed out"
        if self.memory_exceeded:
            return "ran out of memory"
        if self.exit_code is None:
            return "never started"
        return f"exit code {self.exit_code}"

    @property
    def last_error_line(self) -> str:
        """The last line the code wrote to stderr (usually the exception), or ""."""
        lines = self.stderr.strip().splitlines()
        return lines[-1] if lines else ""

    def describe_failure(self) -> str | None:
        """`reason` with the last stderr line beside it, for people and logs; None if ok."""
        if self.reason is None:
            return None
        return f"{self.reason} ({self.last_error_line})" if self.last_error_line else self.reason

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ExecutionResult:
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})


@runtime_checkable
class Executor(Protocol):
    """Runs one code block in isolation. Implementations are safe to reuse for many runs."""

    name: str

    def run(self, code: str, *, limits: Limits | None = None) -> ExecutionResult:
        """Run `code` (Python source) and return what happened. Never raises for code errors."""
        ...

    def close(self) -> None:
        """Release every resource (processes, VMs, temp dirs)."""
        ...
