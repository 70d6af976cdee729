"""One QEMU virtual machine: start it (cold boot or restore from saved state), wait for it,
save its state, and destroy it. Also detects whether KVM really works here.

Every VM gets user-mode networking with `restrict=on` (the guest reaches nothing: no host
services, no internet, no DNS) and a single port forward from a random free port on
127.0.0.1 to the guest's SSH port. The serial console goes to a file, where the guest's
daemon announces readiness and where boot failures show up.

Not covered here: SSH and the execution protocol (ssh.py), pooling (pool.py).
"""

from __future__ import annotations

import atexit
import contextlib
import json
import logging
import os
import shlex
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from sandbox.executor import SandboxUnavailable
from sandbox.home import private_partial

log = logging.getLogger(__name__)

QEMU = "qemu-system-x86_64"
READY_MARK = b"WM-GUESTD-READY"
FAIL_MARK = b"WM-INIT-FAILED"
KVM_PROBE_S = 5.0
GUEST_SSH = "10.0.2.15:22"
INSTALL_FIX = "install QEMU with ops/install-sandbox.sh (Debian: apt-get install qemu-system-x86)"

_accel_lock = threading.Lock()
_accel_cache: dict[str, str] = {}
# Every VM this process started and has not killed, so none outlives the process. Strong
# references: a VM whose object was dropped without `kill()` is still found and killed at exit.
_live_vms: set[QemuVM] = set()
_live_lock = threading.Lock()
_exiting = False


@atexit.register
def _kill_all() -> None:
    """At interpreter exit: refuse new VMs (a pool's refill thread may still be restoring one),
    then kill every VM this process started."""
    global _exiting
    with _live_lock:
        _exiting = True
        vms = list(_live_vms)
    for vm in vms:
        vm.kill()


def live_vm_pids() -> list[int]:
    """Pids of every QEMU this process started that is still running."""
    return [vm.pid for vm in list(_live_vms) if vm.pid and vm.alive()]


@dataclass(frozen=True)
class VMSpec:
    """Everything that must be identical between the VM that saved a state and its clones."""

    kernel: Path
    initrd: Path
    memory_mb: int
    accelerator: str
    tmp_mb: int = 64

    def state_name(self) -> str:
        return f"{self.accelerator}-{self.memory_mb}m-tmp{self.tmp_mb}-{qemu_version()}.state"


def qemu_binary() -> str:
    path = shutil.which(QEMU)
    if not path:
        raise SandboxUnavailable(f"{QEMU} is not installed; {INSTALL_FIX}")
    return path


def qemu_version() -> str:
    out = subprocess.run([qemu_binary(), "--version"], capture_output=True, text=True).stdout
    first = out.split("\n", 1)[0]
    return first.split("version", 1)[-1].split()[0] if "version" in first else "unknown"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def detect_accelerator(kernel: Path, wanted: str = "auto") -> str:
    """ "kvm" if a guest kernel really boots under KVM here, else "tcg".

    /dev/kvm can exist and still not run a guest (nested virtualization), so this boots the
    kernel under KVM and waits up to KVM_PROBE_S for its first console line. "kvm" or "tcg"
    force a choice; a forced "kvm" that does not work fails instead of falling back.
    """
    if wanted == "tcg":
        return "tcg"
    with _accel_lock:
        if "probe" not in _accel_cache:
            _accel_cache["probe"] = _probe_kvm(kernel)
        works = _accel_cache["probe"]
    if wanted == "kvm" and works != "kvm":
        raise SandboxUnavailable(f"KVM was requested but does not boot a guest here ({works})")
    return "kvm" if works == "kvm" else "tcg"


def _probe_kvm(kernel: Path) -> str:
    if not os.access("/dev/kvm", os.R_OK | os.W_OK):
        return "no usable /dev/kvm"
    cmd = [
        qemu_binary(),
        "-accel",
        "kvm",
        "-cpu",
        "host",
        "-m",
        "128",
        "-nodefaults",
        "-no-user-config",
        "-display",
        "none",
        "-serial",
        "stdio",
        "-no-reboot",
        "-kernel",
        str(kernel),
        "-append",
        "console=ttyS0 panic=-1",
    ]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    seen = b""
    deadline = time.monotonic() + KVM_PROBE_S
    try:
        assert proc.stdout is not None
        os.set_blocking(proc.stdout.fileno(), False)
        while time.monotonic() < deadline and proc.poll() is None:
            with contextlib.suppress(BlockingIOError, TypeError):
                seen += proc.stdout.read() or b""
            if b"Linux version" in seen:
                return "kvm"
            time.sleep(0.05)
    finally:
        proc.kill()
        proc.wait()
    log.info("KVM does not boot a guest here; using TCG. Output: %r", seen[-300:])
    return f"kvm printed nothing in {KVM_PROBE_S:.0f}s"


class QemuVM:
    """A QEMU process. `kill()` always cleans up; it is safe to call twice."""

    def __init__(self, spec: VMSpec, *, incoming: Path | None = None, label: str = "vm"):
        self.spec = spec
        self.incoming = incoming
        self.label = label
        self.workdir = Path(tempfile.mkdtemp(prefix=f"wm-{label}-"))
        self.console = self.workdir / "console.log"
        self.qmp_path = self.workdir / "qmp.sock"
        self.port = 0
        self.proc: subprocess.Popen[bytes] | None = None
        self.started_at = 0.0

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc else None

    def command(self) -> list[str]:
        spec = self.spec
        accel = (
            ["-accel", "kvm", "-cpu", "host"]
            if spec.accelerator == "kvm"
            else ["-accel", "tcg", "-cpu", "max"]
        )
        netdev = f"user,id=n0,restrict=on,ipv6=off,hostfwd=tcp:127.0.0.1:{self.port}-{GUEST_SSH}"
        cmd = [
            qemu_binary(),
            *accel,
            "-machine",
            "pc",
            "-m",
            str(spec.memory_mb),
            "-smp",
            "1",
            "-nodefaults",
            "-no-user-config",
            "-display",
            "none",
            "-no-reboot",
            "-serial",
            f"file:{self.console}",
            "-qmp",
            f"unix:{self.qmp_path},server=on,wait=off",
            "-kernel",
            str(spec.kernel),
            "-initrd",
            str(spec.initrd),
            "-append",
            f"console=ttyS0 quiet panic=-1 wm.tmp_mb={spec.tmp_mb}",
            "-netdev",
            netdev,
            "-device",
            "virtio-net-pci,netdev=n0",
        ]
        if self.incoming is not None:
            cmd += ["-incoming", f"exec:cat {shlex.quote(str(self.incoming))}"]
        return cmd

    def start(self) -> None:
        self.port = free_port()
        self.started_at = time.monotonic()
        log_file = (self.workdir / "qemu.log").open("wb")
        try:
            with _live_lock:
                if _exiting:
                    raise SandboxUnavailable("this process is exiting: no new VM is started")
                # A new session: a signal aimed at our process group never half-kills a VM.
                self.proc = subprocess.Popen(
                    self.command(),
                    stdin=subprocess.DEVNULL,
                    stdout=log_file,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
                _live_vms.add(self)
        finally:
            log_file.close()

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def console_text(self, tail: int = 2000) -> str:
        try:
            data = self.console.read_bytes()
        except OSError:
            data = b""
        return data[-tail:].decode("utf-8", "replace")

    def qemu_log(self) -> str:
        try:
            return (self.workdir / "qemu.log").read_text(errors="replace")[-2000:]
        except OSError:
            return ""

    def wait_ready(self, timeout_s: float) -> float:
        """Wait for the guest daemon's ready line on the console (cold boot only)."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            data = self.console.read_bytes() if self.console.exists() else b""
            if READY_MARK in data:
                return time.monotonic() - self.started_at
            if FAIL_MARK in data or not self.alive():
                break
            time.sleep(0.1)
        if FAIL_MARK in self.console.read_bytes() if self.console.exists() else False:
            problem = "failed to boot"
        elif self.alive():
            problem = "did not become ready in time"
        else:
            problem = "exited"
        raise SandboxUnavailable(
            f"the sandbox VM {problem} ({timeout_s:.0f}s budget); console: "
            f"{self.console_text(800)!r}; qemu: {self.qemu_log()!r}. If the image is stale or "
            f"broken, run `wm sandbox build-image --force`"
        )

    def wait_incoming(self, timeout_s: float) -> float:
        """Wait until a restored VM has loaded its state and runs."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline and self.alive():
            try:
                status = self.qmp("query-status")
            except OSError:
                time.sleep(0.05)
                continue
            state = status.get("status")
            if state == "running":
                return time.monotonic() - self.started_at
            if state == "paused":
                # The state was saved from a stopped VM, so the clone arrives stopped too.
                self.qmp("cont")
            time.sleep(0.05)
        raise SandboxUnavailable(
            f"restoring the sandbox VM from {self.incoming} failed: {self.qemu_log()!r}; "
            f"delete that file to make a fresh one, or run `wm sandbox build-image --force`"
        )

    def qmp(self, command: str, arguments: dict | None = None, timeout_s: float = 10.0) -> dict:
        """One QMP command on a fresh connection (QEMU accepts one client at a time)."""
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(timeout_s)
            sock.connect(str(self.qmp_path))
            reader = sock.makefile("rb")
            json.loads(reader.readline())  # greeting
            sock.sendall(b'{"execute": "qmp_capabilities"}\n')
            _read_reply(reader)
            message = {"execute": command, **({"arguments": arguments} if arguments else {})}
            sock.sendall(json.dumps(message).encode() + b"\n")
            return _read_reply(reader)

    def save_state(self, dest: Path, timeout_s: float = 300.0) -> None:
        """Pause the VM and write its whole state to `dest` (atomically, owner-only: 0600).

        QEMU's `cat` fills a fresh `mkstemp` file made 0600 beforehand, so the state (the
        guest's whole memory) is never readable by others, whatever QEMU's umask.
        """
        partial = private_partial(dest)
        info: dict = {}
        try:
            self.qmp("stop")
            self.qmp("migrate", {"uri": f"exec:cat > {shlex.quote(str(partial))}"})
            deadline = time.monotonic() + timeout_s
            while time.monotonic() < deadline:
                info = self.qmp("query-migrate")
                status = info.get("status")
                if status == "completed":
                    partial.rename(dest)
                    return
                if status in ("failed", "cancelled"):
                    break
                time.sleep(0.2)
        finally:
            partial.unlink(missing_ok=True)
        raise SandboxUnavailable(f"saving the VM state failed: {info!r}")

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
        with _live_lock:
            _live_vms.discard(self)
        shutil.rmtree(self.workdir, ignore_errors=True)


def _read_reply(reader: BinaryIO) -> dict:
    while True:
        line = reader.readline()
        if not line:
            raise OSError("QMP connection closed")
        message = json.loads(line)
        if "return" in message:
            return message["return"]
        if "error" in message:
            raise OSError(f"QMP error: {message['error']}")
        # Anything else is an asynchronous event; skip it.
