"""ops/setup.sh: which Debian packages each kind of set-up asks for.

The script runs for real against fake `apt-get`, `dpkg-query` and `sudo` and a fake
virtualenv, which only record what they were asked; nothing is installed.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]

FAKES = {
    "bin/apt-get": 'echo "apt-get $*" >> "$WM_FAKE_LOG"',
    "bin/dpkg-query": "exit 1",  # nothing is installed
    "bin/sudo": 'exec "$@"',
    "venv/bin/python": "exit 0",  # `python -c "import torch"` succeeds: torch is kept
    "venv/bin/pip": 'echo "pip $*" >> "$WM_FAKE_LOG"',
}


def _setup(tmp_path: Path, *args: str) -> list[str]:
    for name, body in FAKES.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f"#!/bin/sh\n{body}\n")
        path.chmod(0o755)
    log = tmp_path / "log"
    log.unlink(missing_ok=True)
    env = dict(
        os.environ,
        PATH=f"{tmp_path / 'bin'}:/usr/bin:/bin",
        WM_VENV=str(tmp_path / "venv"),
        WM_FAKE_LOG=str(log),
    )
    env.pop("WM_SKIP_APT", None)
    result = subprocess.run(
        ["bash", str(REPO / "ops" / "setup.sh"), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return log.read_text().splitlines()


def _installed(calls: list[str]) -> set[str]:
    line = next(call for call in calls if call.startswith("apt-get install"))
    return {word for word in line.split()[2:] if not word.startswith("-")}


@pytest.mark.parametrize(
    ("args", "redis", "test_tools"),
    [((), False, False), (("--stack",), True, False), (("--dev",), True, True)],
)
def test_each_setup_asks_for_its_packages(
    tmp_path: Path, args: tuple[str, ...], redis: bool, test_tools: bool
) -> None:
    calls = _setup(tmp_path, *args)
    packages = _installed(calls)
    assert {"qemu-system-x86", "python3-venv"} <= packages
    # `wm stack up` runs redis-server: --stack installs it; a worker box (the default) has none.
    assert ("redis-server" in packages) is redis
    assert ("shellcheck" in packages) is test_tools
    pip = next(call for call in calls if call.startswith("pip install"))
    assert ".[model,vm,workers" in pip
