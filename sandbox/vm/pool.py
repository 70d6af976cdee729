"""A pool of ready, single-use VMs, refilled in the background from a saved state.

The first start for an image and VM shape cold-boots one guest, waits until its daemon has
imported the slow modules and is waiting for a connection, and saves the VM's whole state to
a file beside the image. Every pool VM after that is a clone restored from that file (seconds,
not a cold boot). A clone is "ready" once it has an authenticated SSH link, a channel to its
daemon, and has been given the host's clock and fresh entropy (clones share the saved ones).

Each VM serves exactly one execution and is then destroyed; the refill thread replaces it.
If refills keep failing, `acquire` raises `SandboxUnavailable` with the last error instead of
waiting forever.

Not covered here: the execution protocol (ssh.py, backend.py), the QEMU command (qemu.py).
"""

from __future__ import annotations

import contextlib
import logging
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from sandbox.executor import SandboxUnavailable
from sandbox.home import private_dir
from sandbox.vm.image import ImagePaths
from sandbox.vm.qemu import QemuVM, VMSpec
from sandbox.vm.ssh import GuestLink, SSHTimeouts

log = logging.getLogger(__name__)

MAX_REFILL_FAILURES = 3


@dataclass
class ReadyVM:
    """A running guest with an open link to its daemon; serves one execution."""

    vm: QemuVM
    link: GuestLink
    accelerator: str
    timings: dict[str, float] = field(default_factory=dict)

    def destroy(self) -> None:
        with contextlib.suppress(Exception):
            self.link.close()
        self.vm.kill()


def boot_cold(paths: ImagePaths, spec: VMSpec, timeout_s: float, label: str = "cold") -> QemuVM:
    """Cold-boot a VM and wait for its daemon (no SSH yet). Kills it on failure."""
    vm = QemuVM(spec, label=label)
    vm.start()
    try:
        vm.wait_ready(timeout_s)
    except BaseException:
        vm.kill()
        raise
    return vm


def connect(vm: QemuVM, paths: ImagePaths, accelerator: str, timeout_s: float) -> ReadyVM:
    """Log in to a running VM, reach its daemon and give it a fresh clock and entropy."""
    start = time.monotonic()
    link = GuestLink.open(
        vm.port,
        paths.host_key,
        paths.client_key,
        SSHTimeouts(connect_s=timeout_s),
        retry_until=start + timeout_s,
    )
    try:
        reply = link.fresh_start()
    except BaseException:
        link.close()
        raise
    timings = {"connect_s": time.monotonic() - start, "warm_up_s": reply.warm_up_s}
    return ReadyVM(vm, link, accelerator, timings)


def ensure_state(paths: ImagePaths, spec: VMSpec, boot_timeout_s: float) -> Path:
    """The saved-state file for this image and VM shape; made by one cold boot if missing."""
    private_dir(paths.states, top=paths.root)
    state = paths.states / spec.state_name()
    if state.is_file():
        return state
    log.info("saving a VM state for %s (one cold boot)", state.name)
    vm = boot_cold(paths, spec, boot_timeout_s, label="save")
    try:
        vm.save_state(state)
    finally:
        vm.kill()
    return state


def restore(
    paths: ImagePaths,
    spec: VMSpec,
    state: Path,
    timeout_s: float,
    label: str = "pool",
    on_start: Callable[[QemuVM], None] | None = None,
) -> ReadyVM:
    """Start a clone from `state` and make it ready. Kills it on failure.

    `on_start` sees the VM as soon as its QEMU runs, so an owner can kill it mid-restore.
    """
    vm = QemuVM(spec, incoming=state, label=label)
    vm.start()
    if on_start is not None:
        on_start(vm)
    try:
        restore_s = vm.wait_incoming(timeout_s)
        ready = connect(vm, paths, spec.accelerator, timeout_s)
    except BaseException:
        vm.kill()
        raise
    ready.timings["restore_s"] = restore_s
    ready.timings["ready_s"] = time.monotonic() - vm.started_at
    return ready


class VMPool:
    """`size` ready clones, each used once; refilled by background threads."""

    def __init__(
        self,
        paths: ImagePaths,
        spec: VMSpec,
        *,
        size: int,
        restore_timeout_s: float,
        boot_timeout_s: float,
        refill_threads: int = 1,
    ):
        if size < 1:
            raise ValueError("pool size must be at least 1")
        self.paths = paths
        self.spec = spec
        self.size = size
        self.restore_timeout_s = restore_timeout_s
        self.state = ensure_state(paths, spec, boot_timeout_s)
        self._ready: queue.Queue[ReadyVM] = queue.Queue()
        self._lock = threading.Lock()
        self._wanted = threading.Condition(self._lock)
        self._starting = 0
        self._failures = 0
        self._last_error: BaseException | None = None
        self._closed = False
        self._live: set[QemuVM] = set()
        self._threads = [
            threading.Thread(target=self._refill, name=f"wm-vm-refill-{i}", daemon=True)
            for i in range(max(1, refill_threads))
        ]
        for thread in self._threads:
            thread.start()

    def live_pids(self) -> list[int]:
        """QEMU pids this pool has running (ready, starting or executing)."""
        with self._lock:
            return [vm.pid for vm in self._live if vm.pid and vm.alive()]

    def _refill(self) -> None:
        while True:
            with self._wanted:
                while not self._closed and (
                    self._ready.qsize() + self._starting >= self.size
                    or self._failures >= MAX_REFILL_FAILURES
                ):
                    self._wanted.wait(1.0)
                if self._closed:
                    return
                self._starting += 1
            try:
                ready = restore(
                    self.paths,
                    self.spec,
                    self.state,
                    self.restore_timeout_s,
                    on_start=self._track,
                )
            except Exception as exc:
                with self._wanted:
                    if self._closed:  # killed mid-restore by close(): not a failure
                        self._starting -= 1
                        return
                log.warning("a sandbox VM failed to start: %s", exc)
                with self._wanted:
                    self._starting -= 1
                    self._failures += 1
                    self._last_error = exc
                    self._wanted.notify_all()
                continue
            with self._wanted:
                self._starting -= 1
                self._failures = 0
                if self._closed:
                    ready.destroy()
                    return
                self._ready.put(ready)
                self._wanted.notify_all()

    def acquire(self, timeout_s: float) -> ReadyVM:
        """Take a ready VM (the caller must `release` it after its one execution)."""
        deadline = time.monotonic() + timeout_s
        while True:
            with self._lock:
                if self._closed:
                    raise SandboxUnavailable("the VM pool is closed")
                if self._failures >= MAX_REFILL_FAILURES:
                    error = self._last_error
                    raise SandboxUnavailable(
                        f"sandbox VMs keep failing to start ({error}); check `wm sandbox "
                        "status`, or rebuild with `wm sandbox build-image --force`"
                    )
            try:
                ready = self._ready.get(timeout=0.2)
            except queue.Empty:
                if time.monotonic() >= deadline:
                    raise SandboxUnavailable(
                        f"no sandbox VM became ready within {timeout_s:.0f}s; raise "
                        "acquire_timeout_s or pool_size"
                    ) from None
                continue
            if ready.vm.alive():
                with self._wanted:
                    self._wanted.notify_all()
                return ready
            # It died while waiting (it should not); drop it and let refill replace it.
            log.warning("a ready sandbox VM died while idle: %s", ready.vm.qemu_log())
            self.release(ready)

    def ready_count(self) -> int:
        return self._ready.qsize()

    def wait_full(self, timeout_s: float) -> None:
        """Block until `size` VMs are ready (benchmarks measure a warm pool)."""
        deadline = time.monotonic() + timeout_s
        with self._wanted:
            while self._ready.qsize() < self.size:
                if self._failures >= MAX_REFILL_FAILURES:
                    raise SandboxUnavailable(f"sandbox VMs keep failing: {self._last_error}")
                if time.monotonic() >= deadline:
                    raise SandboxUnavailable(f"the pool did not fill within {timeout_s:.0f}s")
                self._wanted.wait(0.2)

    def release(self, ready: ReadyVM) -> None:
        """Destroy a used VM; the refill threads replace it."""
        ready.destroy()
        with self._wanted:
            self._live.discard(ready.vm)
            self._wanted.notify_all()

    def _track(self, vm: QemuVM) -> None:
        with self._lock:
            self._live.add(vm)
            closed = self._closed
        if closed:
            vm.kill()

    def close(self) -> None:
        with self._wanted:
            self._closed = True
            self._wanted.notify_all()
            starting = list(self._live)
        # Kill VMs still being restored now rather than waiting for them to be ready.
        for vm in starting:
            vm.kill()
        for thread in self._threads:
            thread.join(timeout=self.restore_timeout_s + 30)
        while True:
            try:
                self._ready.get_nowait().destroy()
            except queue.Empty:
                break
        with self._lock:
            for vm in list(self._live):
                vm.kill()
            self._live.clear()
