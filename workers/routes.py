"""Which queue each task goes to, and how an interactive query overtakes bulk work.

Routes are by task name. Two classes of query work share the code but not the queue:

- interactive (`wm submit-query`): its generation and compose steps go to `generate`;
- batch (evaluation, bulk): they go to `generate-batch`.

A generation worker lists `generate` before `generate-batch` and `train`, and kombu is told
(`queue_order_strategy="priority"`) to pop queues in that order, so an interactive step is taken
before any waiting bulk step. The sandbox queue is shared, so the sandbox step carries a message
priority instead (0 interactive, 6 batch; kombu keeps one Redis list per priority step and pops
0 first). Training is a single long task on its own queue; see `tasks.train` for how it yields
the GPU to interactive generation between optimizer steps.

This module does not define tasks or settings.
"""

from __future__ import annotations

from typing import Literal

from workers.settings import PRIORITY_BATCH, PRIORITY_INTERACTIVE

JobClass = Literal["interactive", "batch"]
JOB_CLASSES: tuple[JobClass, ...] = ("interactive", "batch")

TASK_ROUTES: dict[str, dict[str, str]] = {
    "wm.generate": {"queue": "generate"},
    "wm.compose": {"queue": "generate"},
    "wm.sandbox": {"queue": "sandbox"},
    "wm.train": {"queue": "train"},
}
"""Default queue per task name (the interactive one for query steps)."""

GPU_QUEUES = ("generate", "generate-batch", "train")
"""What a generation worker consumes, most urgent first (the order matters)."""

SANDBOX_QUEUES = ("sandbox",)


def step_options(task: str, job_class: JobClass) -> dict[str, object]:
    """Queue and priority for one step of a query chain of the given class."""
    if job_class not in JOB_CLASSES:
        raise ValueError(f"unknown job class {job_class!r}; choose interactive or batch")
    if task not in TASK_ROUTES:
        raise ValueError(f"no route for task {task!r}")
    queue = TASK_ROUTES[task]["queue"]
    if job_class == "batch" and queue == "generate":
        queue = "generate-batch"
    priority = PRIORITY_INTERACTIVE if job_class == "interactive" else PRIORITY_BATCH
    return {"queue": queue, "priority": priority}


def ordered_queues(requested: list[str] | None, default: tuple[str, ...]) -> list[str]:
    """The queues a worker consumes, in urgency order, whatever order the user typed them."""
    chosen = requested or list(default)
    rank = {name: index for index, name in enumerate(("generate", "generate-batch", "train"))}
    return sorted(dict.fromkeys(chosen), key=lambda name: rank.get(name, len(rank)))
