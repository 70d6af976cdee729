"""ops/rollout.sh: the plan it prints with --dry-run, its argument checks, and shellcheck.

No SSH happens here: --dry-run prints every command it would run on each box, in order, and
touches nothing. shellcheck (where installed) must report nothing.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]

SCRIPT = REPO / "ops" / "rollout.sh"


def _rollout(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", str(SCRIPT), *args], capture_output=True, text=True, timeout=60, cwd=REPO
    )


def _plan(result: subprocess.CompletedProcess[str], host: str) -> list[str]:
    return [
        line.split("] ", 1)[1]
        for line in result.stdout.splitlines()
        if line.startswith(f"[{host}]")
    ]


def test_shellcheck_is_clean() -> None:
    if shutil.which("shellcheck") is None:
        pytest.skip("shellcheck is not installed (apt-get install shellcheck)")
    result = subprocess.run(["shellcheck", str(SCRIPT)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout


def test_dry_run_plans_each_box_in_order_and_runs_nothing() -> None:
    result = _rollout("--dry-run", "--gpus", "2", "--ref", "v1.2.3", "box-a", "box-b")
    assert result.returncode == 0, result.stderr
    hosts = [line[1:].split("]")[0] for line in result.stdout.splitlines()]
    # box-a completely before box-b: a rollout goes one box at a time.
    assert hosts == sorted(hosts) and set(hosts) == {"box-a", "box-b"}
    plan = _plan(result, "box-a")
    steps = ["git checkout --quiet --detach v1.2.3", "bash ops/setup.sh", "daemon-reload",
             "systemctl restart wm-gpu-worker@0 wm-gpu-worker@1 wm-sandbox-worker",
             "systemctl is-active", "wm workers --json"]  # fmt: skip
    positions = [next(i for i, line in enumerate(plan) if step in line) for step in steps]
    assert positions == sorted(positions), plan
    assert "-ge 3" in plan[-1]  # waits for 2 GPU workers + 1 sandbox worker to answer
    assert "nothing was changed" in result.stderr
    assert _plan(result, "box-b") == plan


def test_rsync_method_and_hosts_file(tmp_path: Path) -> None:
    hosts = tmp_path / "boxes.txt"
    hosts.write_text("# the fleet\ngpu-1\n\n  gpu-2   # spare\n")
    result = _rollout("--dry-run", "--method", "rsync", "--user", "ops", "--no-sandbox",
                      "--gpus", "1", "--hosts-file", str(hosts))  # fmt: skip
    assert result.returncode == 0, result.stderr
    plan = _plan(result, "gpu-2")
    assert plan[0].startswith("rsync -az --delete") and "ops@gpu-2:/opt/worldmodel/" in plan[0]
    assert any("systemctl restart wm-gpu-worker@0" in line for line in plan)
    assert not any("wm-sandbox-worker" in line and "restart" in line for line in plan)
    assert _plan(result, "gpu-1")


def test_broker_box_gets_the_redis_drop_in_and_no_workers() -> None:
    result = _rollout("--dry-run", "--with-redis", "--no-sandbox", "--gpus", "0", "broker")
    assert result.returncode == 0, result.stderr
    plan = _plan(result, "broker")
    assert any("redis-server.service.d/wm-redis.conf" in line for line in plan)
    assert any("systemctl restart redis-server" in line for line in plan)
    assert not any("wm-gpu-worker@" in line and "restart" in line for line in plan)
    # Without Redis, a box with nothing to run is a mistake, not a success.
    assert _rollout("--dry-run", "--no-sandbox", "--gpus", "0", "idle").returncode == 1


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((), "name at least one host"),
        (("--bogus", "h"), "unknown option --bogus"),
        (("--method", "ftp", "h"), "--method must be git or rsync"),
        (("--gpus", "many", "h"), "--gpus must be a number or auto"),
        (("--hosts-file", "/nonexistent"), "cannot read hosts file"),
    ],
)
def test_bad_arguments_exit_2_with_a_reason(args: tuple[str, ...], message: str) -> None:
    result = _rollout(*args)
    assert result.returncode == 2
    assert message in result.stderr
