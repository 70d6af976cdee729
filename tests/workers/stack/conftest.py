"""Fixtures of the stack tests: a real `wm stack` (workers/stack.py) on loopback.

`stack` (one per session) runs `wm stack up` for real: redis-server, Flower with basic auth,
one CPU generation worker and one sandbox worker (process backend), all under a temporary
WorldModel home. Its teardown runs `wm stack down` and then kills, by recorded pid and start
time, anything still left, naming it in the failure, so no test leaves a process behind.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from stack_harness import HERE, Stack, free_port, leftovers, run_wm, start_ticks


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    if shutil.which("redis-server") is None:
        pytest.skip("redis-server is not installed (bash ops/setup.sh --dev)")
    home = tmp_path_factory.mktemp("stack-home")
    env = dict(
        os.environ,
        WM_HOME=str(home),
        PYTHONPATH=os.pathsep.join(filter(None, [str(HERE), os.environ.get("PYTHONPATH")])),
        WM_COMPLETER="arith_completer:factory",
        WM_MODEL="arith-completer",  # the stand-in, named in results; plain mode by default
        WM_SOFT_SHUTDOWN_S="3",
        WM_BATCH_SIZE="2",
        HF_HUB_OFFLINE="1",
    )
    env.pop("WM_BROKER_URL", None)
    redis_port, flower_port = free_port(), free_port()
    args = [
        "stack", "up", "--cpu", "--sandbox-backend", "process", "--pool-size", "1",
        "--redis-port", str(redis_port), "--flower-port", str(flower_port), "--timeout", "90",
    ]  # fmt: skip
    stack = Stack(home, env, redis_port, flower_port, socket.gethostname(), args)
    up = run_wm(args, env, timeout=180)
    records: list[dict] = []
    if (stack.folder / "state.json").exists():
        records = stack.state()["processes"]
    try:
        assert up.returncode == 0, f"wm stack up failed:\n{up.stdout}\n{up.stderr}\n{stack.logs()}"
        yield stack
    finally:
        # Everything ever recorded: processes restarted by `ensure_up` have new pids.
        if (stack.folder / "state.json").exists():
            records = records + stack.state()["processes"]
        run_wm(["stack", "down", "--timeout", "15"], env, timeout=120)
        left = leftovers(records)
        for rec in records:
            if start_ticks(rec["pid"]) == rec["start_ticks"]:
                os.killpg(rec["pid"], signal.SIGKILL)
        assert not left, f"wm stack down left processes running: {left}"
