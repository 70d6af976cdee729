"""The last step of a query: verify the claim against the executed output and build the Answer.

In plain mode this is `worldmodel.pipeline.compose_answer`. In after-execution mode the model
first reads the output block and writes its prose answer (a second, batched generation on the
same kind of worker, with the job's adapter), then `finish_after_execution` composes. The result
is `Answer.to_dict()` plus the job id, the adapter that answered and which workers ran each
step. A voting query's candidates are composed the same way and `worldmodel.pipeline.vote_on`
picks one before the prose is written; the result lists every candidate as composed before the
vote under `candidates` (None for a single one), which self-training reads
(`workers.jobs.attempt_via_queue`). This module does not execute code.
"""

from __future__ import annotations

import time
from typing import Any

from sandbox.executor import ExecutionResult
from workers.app import app, settings
from workers.tasks import stop_if_cancelled
from workers.tasks.generate import job_adapter
from workers.worker import batcher, track, untrack


@app.task(name="wm.compose", bind=True)
def compose(self: Any, state: dict[str, Any]) -> dict[str, Any]:
    """Verify and compose; returns the answer as JSON."""
    from worldmodel.format import Response
    from worldmodel.pipeline import (
        after_execution_prefix,
        compose_answer,
        finish_after_execution,
        vote_on,
    )

    job = state["job"]
    stop_if_cancelled(self, job["job_id"])
    track(self.request.id, "wm.compose", job=job["job_id"])
    try:
        attempts = [
            compose_answer(
                job["question"],
                candidate["generated"],
                Response.from_dict(candidate["response"]) if candidate["response"] else None,
                [ExecutionResult.from_dict(item) for item in candidate["executions"]],
                mode=job["mode"],
                problems=list(candidate["problems"]),
                timings=state["timings"],
            )
            for candidate in [state, *state.get("candidates", [])]
        ]
        candidates = [attempt.to_dict() for attempt in attempts] if len(attempts) > 1 else None
        answer = vote_on(attempts)
        if job["mode"] == "after-execution" and answer.response is not None and answer.executions:
            prefix = after_execution_prefix(answer.generated, answer.executions)
            started = time.perf_counter()
            _, local = job_adapter(job, settings)  # the generate step's adapter, same model
            tail = batcher(settings).complete(
                job["question"],
                prefix,
                stop_at="end",
                adapter=local,
                timeout_s=settings.generate_time_limit_s,
            )
            answer = finish_after_execution(answer, prefix + tail, time.perf_counter() - started)
        return answer.to_dict() | {
            "candidates": candidates,
            "job_id": job["job_id"],
            "model": state.get("model"),
            "adapter": state.get("adapter"),
            "workers": {
                "generate": state.get("worker"),
                "sandbox": state.get("sandbox_worker"),
                "compose": self.request.hostname,
            },
        }
    finally:
        untrack(self.request.id)
