"""`VMExecutor`: the VM backend behind the `Executor` interface, and its configuration.

Every execution takes one ready VM from the pool, sends the code over SSH to the guest
daemon, waits for the result until the wall time plus a grace period, and destroys the VM
whatever happened. If the guest does not answer in time the host kills the VM itself, so a
stuck guest can never outlive its deadline. A reply that breaks the protocol (too large,
too deeply nested, wrong keys or types, output over the cap; sandbox/vm/protocol.py) is a
failed execution (exit_code None, the reason in stderr and details["malformed_reply"]) and
the VM is killed at once; it never raises. Results always say backend="vm" and carry
{"accelerator": "kvm"|"tcg"} in their details.

Fail closed: a missing image, missing QEMU or a VM that does not boot raises
`SandboxUnavailable` naming the fix; nothing here ever runs code on the host.

Not covered here: what happens inside the guest (sandbox/image/guestd.py), pooling (pool.py).
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from sandbox.executor import ExecutionResult, Limits, SandboxUnavailable
from sandbox.vm.image import ImagePaths, locate_image
from sandbox.vm.pool import ReadyVM, VMPool, boot_cold, connect
from sandbox.vm.protocol import MalformedReply
from sandbox.vm.qemu import VMSpec, detect_accelerator, qemu_binary
from sandbox.vm.ssh import GuestTimeout

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SandboxConfig:
    """Settings of the VM sandbox. Every field has a default."""

    pool_size: int = 2
    """Ready VMs kept waiting; each serves one execution and is replaced in the background."""
    refill_threads: int = 1
    """VMs restored at the same time when refilling (each restore uses a CPU core for ~1 s)."""
    memory_mb: int = 1024
    """RAM per VM in MiB (the guest's root file system lives in it too)."""
    tmp_mb: int = 64
    """Size of the guest's /tmp in MiB, the only writable place; caps disk-fill attacks."""
    accelerator: str = "auto"
    """"auto" (KVM if a guest really boots under it, else TCG emulation), "kvm" or "tcg"."""
    boot_timeout_s: float = 240.0
    """Budget in seconds for the one cold boot that makes the saved state."""
    restore_timeout_s: float = 60.0
    """Budget in seconds for restoring one VM and logging in to it."""
    host_grace_s: float = 10.0
    """Seconds the host waits past the wall time before it kills the VM itself."""
    acquire_timeout_s: float = 180.0
    """Seconds an execution waits for a ready VM before failing."""
    image_dir: str | None = None
    """Folder holding built images (default: the `images` folder of the WorldModel home)."""
    limits: Limits = field(default_factory=Limits)
    """Default limits for executions that pass none."""

    @classmethod
    def from_options(cls, **options: Any) -> SandboxConfig:
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(options) - known - {"config"})
        if unknown:
            raise SandboxUnavailable(
                f"unknown VM sandbox option(s): {', '.join(unknown)}; "
                f"known: {', '.join(sorted(known))}"
            )
        base = options.pop("config", None) or cls()
        limits = options.get("limits")
        if isinstance(limits, dict):
            options["limits"] = Limits.from_dict(limits)
        config = replace(base, **options)
        problems = []
        if config.pool_size < 1:
            problems.append("pool_size must be >= 1")
        if config.memory_mb < 256:
            problems.append("memory_mb must be >= 256")
        if config.accelerator not in ("auto", "kvm", "tcg"):
            problems.append("accelerator must be auto, kvm or tcg")
        if problems:
            raise SandboxUnavailable("invalid VM sandbox settings: " + "; ".join(problems))
        return config

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def vm_spec(paths: ImagePaths, config: SandboxConfig) -> VMSpec:
    accelerator = detect_accelerator(paths.kernel, config.accelerator)
    return VMSpec(paths.kernel, paths.initrd, config.memory_mb, accelerator, config.tmp_mb)


def execute(ready: ReadyVM, code: str, limits: Limits, grace_s: float) -> ExecutionResult:
    """Run `code` on one ready VM. The VM is not reusable afterwards."""
    details: dict[str, Any] = {
        "accelerator": ready.accelerator,
        "vm_pid": ready.vm.pid,
        **ready.timings,
    }
    started = time.monotonic()
    try:
        reply = ready.link.run(code, limits, timeout_s=limits.wall_time_s + grace_s)
    except GuestTimeout:
        ready.vm.kill()
        details["killed_by"] = "host deadline"
        return ExecutionResult(
            stdout="",
            stderr="the VM did not answer by the deadline and was destroyed\n",
            exit_code=None,
            timed_out=True,
            duration_s=time.monotonic() - started,
            backend="vm",
            details=details,
        )
    except MalformedReply as exc:
        # Only the daemon should write to the connection, but the code ran beside it: a reply
        # that breaks the protocol is this execution's failure, and the VM is not trusted again.
        ready.vm.kill()
        details["malformed_reply"] = str(exc)
        return ExecutionResult(
            stdout="",
            stderr=f"the guest's reply was malformed ({exc}); the VM was discarded\n",
            exit_code=None,
            duration_s=time.monotonic() - started,
            backend="vm",
            details=details,
        )
    except (SandboxUnavailable, OSError, EOFError) as exc:
        # The guest died or its daemon failed mid-run. Only the code ran there since the VM
        # was made ready, so this is the execution's outcome (data), not a host error.
        details["vm_failure"] = f"{type(exc).__name__}: {exc}"
        return ExecutionResult(
            stdout="",
            stderr=f"the VM failed during the execution: {exc}\n",
            exit_code=None,
            duration_s=time.monotonic() - started,
            backend="vm",
            details=details,
        )
    details["guest_duration_s"] = reply.duration_s
    if reply.cpu_exceeded:
        details["cpu_exceeded"] = True
    return ExecutionResult(
        stdout=reply.stdout.decode("utf-8", "replace"),
        stderr=reply.stderr.decode("utf-8", "replace"),
        exit_code=reply.exit_code,
        timed_out=reply.timed_out,
        memory_exceeded=reply.memory_exceeded,
        output_truncated=reply.output_truncated,
        duration_s=time.monotonic() - started,
        backend="vm",
        details=details,
    )


def run_cold(
    paths: ImagePaths, config: SandboxConfig, code: str, limits: Limits
) -> ExecutionResult:
    """Cold-boot a VM, run one execution, destroy it (image checks and benchmarks)."""
    spec = vm_spec(paths, config)
    vm = boot_cold(paths, spec, config.boot_timeout_s)
    boot_s = time.monotonic() - vm.started_at
    try:
        ready = connect(vm, paths, spec.accelerator, config.restore_timeout_s)
    except BaseException:
        vm.kill()
        raise
    ready.timings["boot_s"] = boot_s
    try:
        return execute(ready, code, limits, config.host_grace_s)
    finally:
        ready.destroy()


class VMExecutor:
    """Runs each code block in its own single-use QEMU VM. Fails closed."""

    name = "vm"

    def __init__(self, **options: Any):
        self.config = SandboxConfig.from_options(**options)
        qemu_binary()  # raises SandboxUnavailable naming the fix
        base = Path(self.config.image_dir) if self.config.image_dir else None
        self.paths = locate_image(base)
        self.spec = vm_spec(self.paths, self.config)
        self._lock = threading.Lock()
        self.pool: VMPool | None = VMPool(
            self.paths,
            self.spec,
            size=self.config.pool_size,
            restore_timeout_s=self.config.restore_timeout_s,
            boot_timeout_s=self.config.boot_timeout_s,
            refill_threads=self.config.refill_threads,
        )

    @property
    def accelerator(self) -> str:
        return self.spec.accelerator

    def run(self, code: str, *, limits: Limits | None = None) -> ExecutionResult:
        pool = self.pool
        if pool is None:
            raise SandboxUnavailable("this VM executor is closed")
        ready = pool.acquire(self.config.acquire_timeout_s)
        try:
            return execute(ready, code, limits or self.config.limits, self.config.host_grace_s)
        finally:
            pool.release(ready)

    def live_pids(self) -> list[int]:
        return self.pool.live_pids() if self.pool else []

    def close(self) -> None:
        with self._lock:
            pool, self.pool = self.pool, None
        if pool is not None:
            pool.close()

    def __enter__(self) -> VMExecutor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
