"""The host backend: no isolation, but the deadline, output caps and rlimits still hold."""

from __future__ import annotations

import logging
import time
from pathlib import Path

import pytest

from sandbox.executor import Limits
from sandbox.host import HostExecutor
from sandbox.registry import get_executor

WALL = 2.0


@pytest.fixture
def executor() -> HostExecutor:
    return HostExecutor(limits=Limits(wall_time_s=WALL))


def test_construction_warns(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="sandbox.host"):
        HostExecutor()
    assert any("no isolation" in r.getMessage() for r in caplog.records)


def test_output_exit_code_and_details(executor: HostExecutor) -> None:
    result = executor.run("import sys\nprint('hi')\nsys.exit(4)")
    assert result.stdout == "hi\n"
    assert result.exit_code == 4
    assert result.backend == "host"
    assert result.details["isolation"] == "none"


def test_exception_gives_traceback(executor: HostExecutor) -> None:
    result = executor.run("raise ValueError('boom')")
    assert result.exit_code == 1
    assert "ValueError: boom" in result.stderr


def test_deadline_kills(executor: HostExecutor) -> None:
    start = time.monotonic()
    result = executor.run("import time\ntime.sleep(30)")
    assert result.timed_out
    assert time.monotonic() - start < WALL + 1.5


def test_output_cap(executor: HostExecutor) -> None:
    start = time.monotonic()
    result = executor.run(
        "while True:\n    print('x' * 1000)\n",
        limits=Limits(wall_time_s=10, max_output_bytes=20_000),
    )
    assert result.output_truncated
    assert len(result.stdout) == 20_000
    assert time.monotonic() - start < 5


def test_memory_limit_holds(executor: HostExecutor) -> None:
    result = executor.run("x = bytearray(2 * 1024**3)", limits=Limits(memory_mb=256))
    assert result.memory_exceeded


def test_no_isolation_is_real_but_the_environment_is_scrubbed(
    executor: HostExecutor, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # The host backend hides no files (the code reads what this user can), but it does not
    # hand the caller's environment down: no WM_*, no secrets.
    (tmp_path / "host-file").write_text("readable")
    monkeypatch.setenv("WM_SECRET", "visible")
    result = executor.run(
        "import os\n"
        f"print(open({str(tmp_path / 'host-file')!r}).read())\n"
        "print(os.environ.get('WM_SECRET'), os.environ['HOME'] == os.getcwd())"
    )
    assert result.stdout == "readable\nNone True\n"


def test_workdir_removed(executor: HostExecutor) -> None:
    result = executor.run("import os\nopen('f.txt', 'w').write('x')\nprint(os.getcwd())")
    workdir = Path(result.stdout.strip())
    assert workdir.name.startswith("wm-host-")
    assert not workdir.exists()


def test_registry_returns_host_backend() -> None:
    ex = get_executor("host", limits=Limits(wall_time_s=WALL))
    assert isinstance(ex, HostExecutor)
    assert ex.run("print(2 ** 10)").stdout == "1024\n"
