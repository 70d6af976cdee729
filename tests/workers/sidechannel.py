"""Worker hook for the tests: a JSON line when a task starts and when it succeeds.

Loaded by workers through the `hooks` setting (`WM_HOOKS=sidechannel`). Each line names the
task, its id and the worker; a step that ran twice for one id shows up twice, so the tests can
assert "exactly once". Lines are appended with O_APPEND by one write, so workers do not mix.
"""

from __future__ import annotations

import json
import os
from typing import Any

from celery import signals


@signals.task_prerun.connect
def _on_start(sender: Any = None, **_: Any) -> None:
    _write("start", sender)


@signals.task_success.connect
def _on_success(sender: Any = None, **_: Any) -> None:
    _write("success", sender)


def _write(event: str, sender: Any) -> None:
    path = os.environ.get("WM_TEST_SUCCESS_LOG")
    if not path:
        return
    line = (
        json.dumps(
            {
                "event": event,
                "task": sender.name,
                "id": sender.request.id,
                "worker": sender.request.hostname,
                "pid": os.getpid(),
            }
        )
        + "\n"
    )
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, line.encode())
    finally:
        os.close(fd)
