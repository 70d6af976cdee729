"""Helpers of the stack tests: free ports, running `wm`, a handle on a running stack.

The fixture that starts the stack is in this folder's conftest.py. `HERE` (this folder, which
holds `arith_completer`) goes on the PYTHONPATH of every process the stack starts.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]
HERE = Path(__file__).resolve().parent
WM = [sys.executable, "-c", "from worldmodel.cli import main; main()"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def port_open(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def run_wm(
    args: list[str], env: dict[str, str], timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*WM, *args], env=env, capture_output=True, text=True, timeout=timeout, cwd=REPO
    )


def artifacts_dir() -> Path:
    """Where tests leave files for a person to look at (screenshots); build/ is git-ignored."""
    folder = Path(os.environ.get("WM_TEST_ARTIFACTS", REPO / "build" / "test-artifacts"))
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@dataclass
class Stack:
    home: Path
    env: dict[str, str]
    redis_port: int
    flower_port: int
    box: str
    up_args: list[str]

    @property
    def folder(self) -> Path:
        return self.home / "stack"

    def secrets(self) -> dict[str, str]:
        lines = (self.folder / "secrets.env").read_text().splitlines()
        return dict(line.split("=", 1) for line in lines if "=" in line)

    def client_env(self) -> dict[str, str]:
        broker = f"redis://:{self.secrets()['WM_REDIS_PASSWORD']}@127.0.0.1:{self.redis_port}/0"
        return dict(self.env, WM_BROKER_URL=broker)

    def state(self) -> dict:
        return json.loads((self.folder / "state.json").read_text())

    def ensure_up(self) -> None:
        """Start again whatever is not running (a test earlier in the session may have stopped
        it); `wm stack up` is idempotent."""
        result = run_wm(self.up_args, self.env, timeout=180)
        assert result.returncode == 0, f"wm stack up failed:\n{result.stderr}\n{self.logs()}"

    def logs(self) -> str:
        parts = []
        for log in sorted((self.folder / "logs").glob("*.log")):
            tail = "\n".join(log.read_text(errors="replace").splitlines()[-12:])
            parts.append(f"--- {log.name}\n{tail}")
        return "\n".join(parts)


def start_ticks(pid: int) -> int | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat[stat.rindex(")") + 2 :].split()
    return None if fields[0] == "Z" else int(fields[19])


def leftovers(records: list[dict]) -> list[str]:
    """Recorded processes that still run (same pid and start time), or whose group does."""
    alive = []
    for rec in records:
        if start_ticks(rec["pid"]) == rec["start_ticks"]:
            alive.append(f"{rec['name']} (pid {rec['pid']})")
        elif not Path(f"/proc/{rec['pid']}").exists():
            try:
                os.killpg(rec["pid"], 0)
                alive.append(f"{rec['name']}'s process group {rec['pid']}")
            except ProcessLookupError:
                pass
    return alive
