"""The VM backend's behaviour that needs no running guest: settings, fail-closed, staleness.

Nothing here boots a VM. Every failure path must raise `SandboxUnavailable` naming the fix,
and must never fall back to running code on the host.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from sandbox.executor import SandboxUnavailable
from sandbox.registry import get_executor
from sandbox.vm import image as image_mod
from sandbox.vm.backend import SandboxConfig, VMExecutor
from worldmodel.cli.group import wm


def test_unknown_option_is_rejected_by_name() -> None:
    with pytest.raises(SandboxUnavailable, match="pool_sise"):
        SandboxConfig.from_options(pool_sise=3)


def test_every_invalid_setting_is_reported_at_once() -> None:
    with pytest.raises(SandboxUnavailable) as info:
        SandboxConfig.from_options(pool_size=0, accelerator="xen", memory_mb=64)
    message = str(info.value)
    assert "pool_size" in message and "accelerator" in message and "memory_mb" in message


def test_limits_may_be_given_as_a_dict() -> None:
    config = SandboxConfig.from_options(limits={"wall_time_s": 3.0})
    assert config.limits.wall_time_s == 3.0


def test_no_image_fails_closed_and_names_the_fix() -> None:
    with pytest.raises(SandboxUnavailable, match="wm sandbox build-image"):
        get_executor("vm")


def test_missing_qemu_fails_closed_and_names_the_fix(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(SandboxUnavailable, match=r"install-sandbox\.sh"):
        VMExecutor()


def test_cli_run_without_image_fails_and_runs_nothing_on_the_host(tmp_path: Path) -> None:
    marker = tmp_path / "ran-on-host"
    result = CliRunner().invoke(wm, ["sandbox", "run", "-c", f"open({str(marker)!r}, 'w')"])
    assert result.exit_code == 1
    assert "wm sandbox build-image" in result.output
    assert not marker.exists()


def test_cli_status_reports_the_missing_image() -> None:
    result = CliRunner().invoke(wm, ["sandbox", "status", "--json"])
    assert result.exit_code == 1
    status = json.loads(result.output)
    assert status["ready"] is False
    assert any("wm sandbox build-image" in p for p in status["problems"])


def _fake_built_image(base: Path) -> Path:
    root = image_mod.image_dir_for_recipe(base)
    root.mkdir(parents=True)
    for name in ("vmlinuz", "initramfs.cpio", "host_key.pub", "client_key"):
        (root / name).write_text("x")
    (root / "manifest.json").write_text(json.dumps({"python_modules": ["math", "numpy"]}))
    return root


def test_changed_recipe_makes_the_built_image_stale(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    recipe = tmp_path / "recipe"
    shutil.copytree(image_mod.RECIPE_DIR, recipe)
    monkeypatch.setattr(image_mod, "RECIPE_DIR", recipe)
    base = tmp_path / "images"
    built = _fake_built_image(base)
    assert image_mod.locate_image(base).root == built
    assert image_mod.manifest_modules(built) == frozenset({"math", "numpy"})

    (recipe / "init").write_text((recipe / "init").read_text() + "\n# changed\n")
    with pytest.raises(SandboxUnavailable, match=r"other recipes: .*wm sandbox build-image"):
        image_mod.locate_image(base)


def test_incomplete_image_is_refused(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    base = tmp_path / "images"
    root = _fake_built_image(base)
    (root / "client_key").unlink()
    with pytest.raises(SandboxUnavailable, match="client_key"):
        image_mod.locate_image(base)
