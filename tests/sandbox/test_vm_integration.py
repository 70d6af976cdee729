"""The VM backend against a real guest: real QEMU, real SSH (paramiko + dropbear), no fakes.

Uses the session image and executor from conftest.py (built once into a cache folder).
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import time
from pathlib import Path

import paramiko
import pytest
from click.testing import CliRunner

from sandbox.executor import Limits, SandboxUnavailable
from sandbox.vm.backend import SandboxConfig, VMExecutor, execute, vm_spec
from sandbox.vm.image import ImagePaths, image_dir_for_recipe, manifest_modules
from sandbox.vm.pool import ensure_state, restore
from sandbox.vm.qemu import live_vm_pids
from worldmodel.cli.group import wm

pytestmark = [pytest.mark.vm, pytest.mark.integration, pytest.mark.slow]


def test_image_provides_every_module_requires_may_name(vm_image: ImagePaths) -> None:
    from worldmodel.format import DEFAULT_ALLOWED_MODULES

    provided = manifest_modules(vm_image.root)
    assert provided >= DEFAULT_ALLOWED_MODULES, DEFAULT_ALLOWED_MODULES - provided


def test_code_runs_unprivileged_in_a_vm_and_says_so(vm_executor: VMExecutor) -> None:
    code = (
        "import os, numpy, sympy\nprint(os.getuid(), int(numpy.arange(5).sum()), sympy.isprime(97))"
    )
    result = vm_executor.run(code)
    assert result.ok, result
    assert result.stdout.split() == ["1000", "10", "True"]
    assert result.backend == "vm"
    assert result.details["accelerator"] in ("kvm", "tcg")


def test_each_vm_serves_one_execution_and_is_destroyed(vm_executor: VMExecutor) -> None:
    first = vm_executor.run("print('a')")
    second = vm_executor.run("print('b')")
    assert first.details["vm_pid"] != second.details["vm_pid"]
    alive = live_vm_pids()
    assert first.details["vm_pid"] not in alive and second.details["vm_pid"] not in alive


def test_clones_get_fresh_randomness_and_the_host_clock(vm_executor: VMExecutor) -> None:
    code = (
        "import os, random, time, numpy\n"
        "print(os.urandom(16).hex(), random.random(), numpy.random.random(), time.time())"
    )
    outputs = []
    for _ in range(2):
        result = vm_executor.run(code)
        assert result.ok, result
        outputs.append(result.stdout.split())
    for column in range(3):
        assert outputs[0][column] != outputs[1][column], f"clones share randomness: {outputs}"
    for row in outputs:
        assert abs(float(row[3]) - time.time()) < 60, f"guest clock is off: {row[3]}"


def _random_ed25519_public() -> str:
    message = paramiko.Message()
    message.add_string("ssh-ed25519")
    message.add_string(os.urandom(32))
    key = paramiko.Ed25519Key(data=message.asbytes())
    return f"{key.get_name()} {key.get_base64()}\n"


def _copy_image(vm_image: ImagePaths, dest: Path) -> ImagePaths:
    dest.mkdir(parents=True)
    for name in ("vmlinuz", "initramfs.cpio", "host_key.pub", "client_key", "manifest.json"):
        (dest / name).symlink_to(vm_image.root / name)
    return ImagePaths(dest)


def _vms_of(image_root: Path) -> list[int]:
    """Live QEMU processes of this session booted from `image_root` (the session's own pool
    refills in the background, so a before/after count of all VMs would race with it)."""
    found = []
    for pid in live_vm_pids():
        with contextlib.suppress(OSError):
            if str(image_root) in Path(f"/proc/{pid}/cmdline").read_bytes().decode():
                found.append(pid)
    return found


def test_a_guest_with_another_host_key_is_refused(vm_image: ImagePaths, tmp_path: Path) -> None:
    config = SandboxConfig()
    spec = vm_spec(vm_image, config)
    state = ensure_state(vm_image, spec, config.boot_timeout_s)
    forged = _copy_image(vm_image, tmp_path / "forged")
    (forged.root / "host_key.pub").unlink()
    (forged.root / "host_key.pub").write_text(_random_ed25519_public())
    with pytest.raises(SandboxUnavailable, match="SSH identity does not match"):
        restore(forged, spec, state, config.restore_timeout_s)
    assert not _vms_of(forged.root), "the refused VM was left running"


def test_host_kills_a_guest_that_does_not_answer(vm_image: ImagePaths) -> None:
    config = SandboxConfig()
    spec = vm_spec(vm_image, config)
    ready = restore(vm_image, spec, ensure_state(vm_image, spec, 600), config.restore_timeout_s)
    try:
        ready.vm.qmp("stop")  # a frozen guest: its own deadline can never fire
        started = time.monotonic()
        result = execute(ready, "print(1)", Limits(wall_time_s=1.0), grace_s=2.0)
        assert time.monotonic() - started < 10
        assert result.timed_out and result.exit_code is None
        assert result.details["killed_by"] == "host deadline"
        assert not ready.vm.alive()
    finally:
        ready.destroy()


def test_a_guest_that_does_not_boot_fails_closed(vm_image: ImagePaths, tmp_path: Path) -> None:
    base = tmp_path / "images"
    broken = image_dir_for_recipe(base)
    copy = _copy_image(vm_image, broken)
    (copy.root / "initramfs.cpio").unlink()
    (copy.root / "initramfs.cpio").write_bytes(b"\0" * 4096)
    with pytest.raises(SandboxUnavailable, match="build-image --force"):
        VMExecutor(image_dir=str(base), boot_timeout_s=120)
    assert not _vms_of(copy.root), "the VM that did not boot was left running"


def test_cli_run_in_the_vm(vm_image: ImagePaths, wm_home: Path) -> None:
    (wm_home).mkdir(parents=True, exist_ok=True)
    shutil.rmtree(wm_home / "images", ignore_errors=True)
    (wm_home / "images").symlink_to(vm_image.root.parent)
    result = CliRunner().invoke(wm, ["sandbox", "run", "--json", "-c", "print(6 * 7)"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["stdout"] == "42\n" and data["backend"] == "vm"


def test_cli_status_reports_a_ready_sandbox(vm_image: ImagePaths, wm_home: Path) -> None:
    wm_home.mkdir(parents=True, exist_ok=True)
    (wm_home / "images").symlink_to(vm_image.root.parent)
    result = CliRunner().invoke(wm, ["sandbox", "status", "--json"])
    assert result.exit_code == 0, result.output
    status = json.loads(result.output)
    assert status["ready"] is True and status["problems"] == []
    assert status["accelerator"] in ("kvm", "tcg")
    assert "sympy" in status["modules"]


def test_a_process_that_exits_without_closing_its_pool_leaves_no_vm_running(
    vm_image: ImagePaths, tmp_path: Path
) -> None:
    # A worker that is stopped (or forgets to close its executor) must not leave its warm VMs
    # behind: the process's exit kills every VM it started, even one a refill thread is
    # restoring at that moment.
    import subprocess
    import sys

    script = (
        "import sys, time\n"
        "from sandbox.vm.backend import VMExecutor\n"
        "from sandbox.vm.qemu import live_vm_pids\n"
        f"executor = VMExecutor(image_dir={str(vm_image.root.parent)!r}, pool_size=2)\n"
        "assert executor.run('print(1)').ok\n"
        "time.sleep(0.5)\n"
        "print(' '.join(map(str, live_vm_pids())), flush=True)\n"
        "sys.exit(0)\n"  # no executor.close(): the exit must clean up
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr[-2000:]
    pids = [int(pid) for pid in done.stdout.split()]
    assert pids, "the pool had no VM running to leave behind"
    time.sleep(0.5)
    left = [pid for pid in pids if Path(f"/proc/{pid}").exists()]
    assert not left, f"QEMU processes outlived the process that started them: {left}"
