"""Who may read the WorldModel home: its owner only, whatever the umask.

The guest image's initramfs holds the guest's SSH host private key, `client_key` logs in to
every guest and a saved VM state is a guest's whole memory, so the home and the sandbox's
folders are 0700 and what is written there 0600. Each test runs the real writer with a umask
of 022 (the usual default, under which every writer here used to make world-readable files).
"""

from __future__ import annotations

import logging
import os
import shutil
import stat
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from sandbox.vm import pool, qemu
from sandbox.vm.build import _pack_cpio
from sandbox.vm.image import ImagePaths, image_dir_for_recipe, images_dir, locate_image
from sandbox.vm.qemu import QemuVM, VMSpec
from worldmodel.home import home_path


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture(autouse=True)
def usual_umask() -> Iterator[None]:
    previous = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(previous)


def test_the_home_and_its_folders_are_owner_only(wm_home: Path) -> None:
    made = home_path("runs", "jobs")
    assert made == wm_home / "runs" / "jobs"
    assert [mode(p) for p in (wm_home, wm_home / "runs", made)] == [0o700] * 3
    # Asking only for a path (no folder) still makes the home private: a caller that then
    # writes below it with mkdir(parents=True) would otherwise create it world-readable.
    shutil.rmtree(wm_home)
    home_path("artifacts", create=False)
    assert mode(wm_home) == 0o700


def test_a_looser_existing_home_is_tightened_and_logged(
    wm_home: Path, caplog: pytest.LogCaptureFixture
) -> None:
    (wm_home / "images").mkdir(parents=True)
    os.chmod(wm_home, 0o755)
    os.chmod(wm_home / "images", 0o775)
    with caplog.at_level(logging.WARNING, logger="sandbox.home"):
        assert images_dir() == wm_home / "images"
    assert mode(wm_home) == 0o700 and mode(wm_home / "images") == 0o700
    assert f"tightened {wm_home} from mode 0755 to 0700" in caplog.text


def test_a_home_that_cannot_be_tightened_is_refused_with_the_chmod(
    wm_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    wm_home.mkdir()
    os.chmod(wm_home, 0o755)

    def not_ours(path: Any, wanted: int) -> None:
        raise PermissionError(1, "Operation not permitted")

    monkeypatch.setattr(os, "chmod", not_ours)
    with pytest.raises(PermissionError, match=f"chmod 700 {wm_home}"):
        home_path("cache")


def test_the_initramfs_is_packed_owner_only(tmp_path: Path) -> None:
    rootfs = tmp_path / "rootfs"
    (rootfs / "etc/dropbear").mkdir(parents=True)
    (rootfs / "etc/dropbear/host_key").write_bytes(b"PRIVATE KEY")
    initrd = tmp_path / "initramfs.cpio"
    _pack_cpio(rootfs, initrd)
    assert mode(initrd) == 0o600
    assert b"PRIVATE KEY" in initrd.read_bytes()
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".partial")] == []


def test_an_image_built_before_the_rule_is_tightened_when_found(tmp_path: Path) -> None:
    base = tmp_path / "images"
    paths = ImagePaths(image_dir_for_recipe(base))
    paths.states.mkdir(parents=True)
    for name in ("vmlinuz", "initramfs.cpio", "host_key.pub", "client_key", "manifest.json"):
        (paths.root / name).write_text("x")
        os.chmod(paths.root / name, 0o644)
    (paths.states / "kvm.state").write_text("memory")
    os.chmod(paths.states / "kvm.state", 0o644)
    for folder in (base, paths.root, paths.states):
        os.chmod(folder, 0o755)
    assert locate_image(base) == paths
    assert [mode(p) for p in (base, paths.root, paths.states)] == [0o700] * 3
    files = [*paths.root.glob("*.*"), paths.root / "vmlinuz", paths.states / "kvm.state"]
    assert {p.name: mode(p) for p in files} == {p.name: 0o600 for p in files}


class MigratingVM(QemuVM):
    """A QemuVM whose QMP answers without QEMU: `migrate` runs the `exec:` command it is given
    under the umask QEMU would have, the way QEMU itself does."""

    def qmp(self, command: str, arguments: dict | None = None, timeout_s: float = 10.0) -> dict:
        if command == "migrate":
            assert arguments is not None
            shell = arguments["uri"].removeprefix("exec:")
            subprocess.run(["sh", "-c", f"printf 'guest memory' | {shell}"], check=True)
        if command == "query-migrate":
            return {"status": "completed"}
        return {}


def test_a_saved_vm_state_and_its_folder_are_owner_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(qemu, "qemu_version", lambda: "9.0")
    paths = ImagePaths(tmp_path / "image")
    paths.root.mkdir(mode=0o700)
    spec = VMSpec(kernel=paths.kernel, initrd=paths.initrd, memory_mb=256, accelerator="tcg")
    vms: list[QemuVM] = []

    def boot(paths: ImagePaths, spec: VMSpec, timeout_s: float, label: str = "cold") -> QemuVM:
        vms.append(MigratingVM(spec, label=label))
        return vms[-1]

    monkeypatch.setattr(pool, "boot_cold", boot)
    state = pool.ensure_state(paths, spec, boot_timeout_s=1)
    assert state == paths.states / spec.state_name()
    assert state.read_bytes() == b"guest memory"
    assert mode(paths.states) == 0o700 and mode(state) == 0o600
    assert sorted(p.name for p in paths.states.iterdir()) == [state.name]
    assert len(vms) == 1 and not vms[0].workdir.exists()
