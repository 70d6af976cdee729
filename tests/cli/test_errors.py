"""Library errors at the command-line boundary: every command turns them into one line on
stderr and exit code 1; anything else is a bug and keeps its traceback."""

from __future__ import annotations

from collections.abc import Iterator

import click
import pytest
from click.testing import CliRunner

from worldmodel.cli import wm


def _commands(group: click.Group, prefix: str = "wm") -> Iterator[tuple[str, click.Command]]:
    for name, command in group.commands.items():
        if isinstance(command, click.Group):
            yield from _commands(command, f"{prefix} {name}")
        else:
            yield f"{prefix} {name}", command


def test_every_command_reports_library_errors() -> None:
    bare = [
        name for name, command in _commands(wm) if not hasattr(command.callback, "library_errors")
    ]
    assert not bare, f"commands without @library_errors: {bare}"


def test_a_settings_error_is_one_line_and_exit_1(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WM_BROKER_URL", "redis://127.0.0.1:6390/0")
    monkeypatch.delenv("WM_ALLOW_NO_PASSWORD", raising=False)
    result = CliRunner().invoke(wm, ["worker", "sandbox", "--dry-run"])
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: invalid worker settings")
    assert "has no password" in result.stderr and "Traceback" not in result.stderr


def test_a_sandbox_error_is_one_line_and_exit_1() -> None:
    # No image in the test's fresh WM_HOME: the VM sandbox cannot start.
    result = CliRunner().invoke(wm, ["sandbox", "run", "-c", "print(1)"])
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: no VM image") and "build-image" in result.stderr


def test_a_bug_keeps_its_traceback(monkeypatch: pytest.MonkeyPatch) -> None:
    import worldmodel.data.stats

    def broken(targets: object) -> list[object]:
        raise KeyError("a bug")

    monkeypatch.setattr(worldmodel.data.stats, "dataset_files", broken)
    result = CliRunner().invoke(wm, ["data", "stats", "."])
    assert isinstance(result.exception, KeyError)
