"""The sandbox step of a query: run each code block of the parsed response.

Runs on a sandbox worker with the backend named by the `sandbox_backend` setting (default the
VM; fail-closed: an unavailable backend fails the job with the reason, it is never swapped for
a weaker one). Executions failing (exit code, timeout, memory) are data in the results. This
module does not generate or verify.
"""

from __future__ import annotations

import time
from typing import Any

from sandbox.executor import Limits
from workers.app import app, settings
from workers.tasks import stop_if_cancelled
from workers.worker import executor, track, untrack


@app.task(name="wm.sandbox", bind=True)
def run_blocks(self: Any, state: dict[str, Any]) -> dict[str, Any]:
    """Execute every <model> block (of every candidate, when voting); add the executions and
    their problems to the state."""
    stop_if_cancelled(self, state["job"]["job_id"])
    track(self.request.id, "wm.sandbox", job=state["job"]["job_id"])
    try:
        timeout = float(state["job"].get("block_timeout_s") or settings.block_timeout_s)
        limits = Limits(wall_time_s=timeout, cpu_time_s=timeout)
        started = time.perf_counter()
        first = _run_candidate(state, limits)
        candidates = []
        for candidate in state.get("candidates", []):
            if time.perf_counter() - started > settings.sandbox_time_limit_s / 2:
                # Past half the step's hard limit: the remaining candidates get no vote rather
                # than the step being killed with every result lost.
                skipped = "not run: earlier candidates used half the sandbox step's time limit"
                candidates.append(
                    candidate | {"executions": [], "problems": [*candidate["problems"], skipped]}
                )
            else:
                candidates.append(candidate | _run_candidate(candidate, limits))
        timings = dict(state["timings"])
        timings["execute_s"] = round(time.perf_counter() - started, 4)
        return (
            state
            | first
            | {
                "candidates": candidates,
                "timings": timings,
                "sandbox_worker": self.request.hostname,
            }
        )
    finally:
        untrack(self.request.id)


def _run_candidate(candidate: dict[str, Any], limits: Limits) -> dict[str, Any]:
    """Run one candidate's blocks: its executions, and its problems with the failures added."""
    from worldmodel.format import Response
    from worldmodel.pipeline import run_blocks

    response = Response.from_dict(candidate["response"]) if candidate["response"] else None
    executions, failures = run_blocks(response, executor(settings), limits)
    return {
        "executions": [result.to_dict() for result in executions],
        "problems": candidate["problems"] + failures,
    }
