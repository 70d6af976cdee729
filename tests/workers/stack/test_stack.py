"""`wm stack`: a real single-box stack on loopback, started, used, inspected and stopped.

The session fixture `stack` (conftest) runs `wm stack up`; these tests check what a user sees:
every process alive with its pid and log, a question answered through the stack's queues, a
second `up` that starts nothing new, the Redis it started refusing clients without the
generated password, and `down` leaving no process and no open port behind. The last test
stops the stack, so it runs last in this file.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest
from stack_harness import Stack, free_port, leftovers, port_open, run_wm

from workers.stack import redis_ping
from workers.supervisor import Proc, is_alive, stop_all

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def test_status_lists_every_process_alive_with_pid_and_log(stack: Stack) -> None:
    result = run_wm(["stack", "status", "--json"], stack.env)
    assert result.returncode == 0, result.stderr
    status = json.loads(result.stdout)
    names = {row["name"]: row for row in status["processes"]}
    assert set(names) == {"redis", "flower", "worker-cpu", "worker-sandbox"}
    for row in names.values():
        assert row["alive"], f"{row['name']} is dead:\n{stack.logs()}"
        assert os.path.exists(f"/proc/{row['pid']}")
        assert row["log"].startswith(str(stack.folder / "logs"))
        assert (stack.folder / "pids" / f"{row['name']}.pid").read_text().strip() == str(row["pid"])
    assert status["flower_url"] == f"http://127.0.0.1:{stack.flower_port}/"
    human = run_wm(["stack", "status"], stack.env)
    assert "alive" in human.stdout and "worker-sandbox" in human.stdout


def test_secrets_are_private_and_redis_demands_the_password(stack: Stack) -> None:
    for name in ("secrets.env", "stack.env", "redis.conf"):
        assert (stack.folder / name).stat().st_mode & 0o077 == 0, f"{name} is readable by others"
    password = stack.secrets()["WM_REDIS_PASSWORD"]
    assert len(password) >= 16
    assert "+PONG" in redis_ping("127.0.0.1", stack.redis_port, password)
    refused = redis_ping("127.0.0.1", stack.redis_port, "not-the-password-at-all")
    assert "WRONGPASS" in refused and "PONG" not in refused
    assert password not in (stack.folder / "state.json").read_text()


def test_a_question_is_answered_through_the_stack(stack: Stack) -> None:
    started = time.perf_counter()
    result = run_wm(
        ["submit-query", "What is 6 * 7?", "--wait", "--timeout", "90", "--json"],
        stack.client_env(),
        timeout=120,
    )
    assert result.returncode == 0, f"{result.stdout}\n{result.stderr}\n{stack.logs()}"
    answer = json.loads(result.stdout)
    assert answer["final"] == "42"
    assert answer["verification"]["status"] == "verified"
    assert answer["backend"] == "process"
    print(f"query through the stack: {time.perf_counter() - started:.2f} s")


def test_up_again_starts_nothing_new(stack: Stack) -> None:
    before = {p["name"]: p["pid"] for p in stack.state()["processes"]}
    result = run_wm(["stack", "up", "--json", "--timeout", "60"], stack.env, timeout=120)
    assert result.returncode == 0, result.stderr
    after = {p["name"]: p["pid"] for p in json.loads(result.stdout)["processes"]}
    assert after == before
    moved = run_wm(["stack", "up", "--redis-port", str(free_port())], stack.env)
    assert moved.returncode == 1 and "wm stack down" in moved.stderr
    assert {p["name"]: p["pid"] for p in stack.state()["processes"]} == before
    open_bind = run_wm(["stack", "up", "--bind", "10.0.0.5"], stack.env)
    assert open_bind.returncode == 2 and "127.0.0.1" in open_bind.stderr


def test_stop_never_signals_a_process_that_reused_a_pid(tmp_path) -> None:
    """A recorded pid whose start time differs belongs to someone else: hands off."""
    (tmp_path / "logs").mkdir()
    stranger = subprocess.Popen(
        [sys.executable, "-c", "import time; time.sleep(60)"], start_new_session=True
    )
    try:
        record = Proc("ghost", "worker", ["sleep"], stranger.pid, 1, str(tmp_path / "logs/x.log"))
        assert not is_alive(record)
        assert stop_all([record], timeout_s=1) == {"ghost": "not running"}
        time.sleep(0.2)
        assert stranger.poll() is None, "stop_all killed a process it did not start"
    finally:
        os.killpg(stranger.pid, signal.SIGKILL)
        stranger.wait()


def test_down_stops_everything_and_frees_the_ports(stack: Stack) -> None:
    records = stack.state()["processes"]
    started = time.perf_counter()
    result = run_wm(["stack", "down", "--timeout", "20"], stack.env, timeout=120)
    elapsed = time.perf_counter() - started
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    # Workers first, Redis last: running jobs go back to a Redis that is still there.
    order = [line.split()[0] for line in lines]
    assert order.index("redis") > max(order.index("worker-cpu"), order.index("worker-sandbox"))
    assert all(" stopped " in f" {line} " for line in lines), lines
    assert leftovers(records) == []
    assert not port_open(stack.redis_port) and not port_open(stack.flower_port)
    assert list((stack.folder / "pids").iterdir()) == []
    status = json.loads(run_wm(["stack", "status", "--json"], stack.env).stdout)
    assert status["processes"] == []
    # The logs stay for a post-mortem.
    assert (stack.folder / "logs" / "redis.log").stat().st_size > 0
    print(f"wm stack down: {elapsed:.2f} s")
