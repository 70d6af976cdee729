"""The generation step of a query: question -> generated text -> parsed response.

Runs on a generation worker, whose process holds the model warm (`workers.worker`); the
question joins whatever else waits and is generated in one batch (`workers.batching`). Only the
generated text is parsed, never the prompt. The step returns small JSON for the sandbox step.

`model_completer` is the default completer factory (the real `worldmodel.generate.Generator`);
the `completer` setting can name another ("module:factory"), which the tests use because a
random-weight test model cannot write the response format.

Which model, adapter and mode answer is decided as `wm query` decides it
(`worldmodel.model.defaults.resolve_model`): a worker left on its defaults answers with the
bundled model and adapter, in the mode recorded beside that adapter. A job's own `--mode`
comes first, then the worker's `mode` setting, then the recorded mode of the adapter that
answers (the job's own adapter, when it names one). The resolved mode travels on in the job,
and the result names the model, adapter and mode that answered.

A query may name its own LoRA adapter (`wm submit-query --adapter`: a path, or the artifact URL
a training job's result names). `job_adapter` makes it a local folder (fetched from the store
once per box, `workers.artifacts.local_adapter`) before the question joins a batch, so a
download never holds up other questions; the generator loads it once and keeps it warm beside
the base model. The result names the adapter that answered.

A voting query (`samples` > 1) also gets `samples - 1` sampled candidates at the job's
temperature, queued together so they share a forward pass; the state carries them under
`candidates` for the sandbox and compose steps. This module does not execute code.
"""

from __future__ import annotations

import time
from typing import Any

from workers.app import app, settings
from workers.tasks import stop_if_cancelled
from workers.worker import batcher, track, untrack, worker_choice


def model_completer(settings_: Any) -> Any:
    """The real generator: the worker's model and adapter (`worker_choice`), on the pinned
    device or the CPU, generating as `settings.generation` says."""
    from worldmodel.generate import Generator

    choice = worker_choice(settings_)
    return Generator(choice.model_dir, choice.adapter_dir, config=settings_.generation)


def job_choice(job: dict[str, Any], settings_: Any, local_adapter: str | None) -> Any:
    """The `ModelChoice` that answers `job`: the worker's model with the job's adapter (its
    local folder) or the worker's own, in the job's mode, else the worker's, else the one
    recorded beside that adapter."""
    from worldmodel.model.defaults import resolve_model

    return resolve_model(
        settings_.model or None,
        local_adapter or settings_.adapter or None,
        job.get("mode") or settings_.mode or None,
    )


def job_adapter(job: dict[str, Any], settings_: Any) -> tuple[str | None, str | None]:
    """(adapter as the job named it, local folder to generate with); (None, None) for the
    worker's own model (its `adapter` setting, which the completer was built with)."""
    from workers.artifacts import local_adapter

    location = job.get("adapter")
    if not location:
        return None, None
    folder = local_adapter(
        location,
        stores=settings_.allowed_stores(),
        known_hosts=settings_.ssh_known_hosts,
        keep=settings_.adapter_cache_keep,
    )
    return location, str(folder)


@app.task(name="wm.generate", bind=True)
def generate(self: Any, job: dict[str, Any]) -> dict[str, Any]:
    """Generate (stopping where the code section ends in after-execution mode) and parse."""
    from worldmodel.errors import ConfigError
    from worldmodel.format import check_question
    from worldmodel.pipeline import DEFAULT_VOTE_TEMPERATURE, voting_problem

    stop_if_cancelled(self, job["job_id"])
    track(self.request.id, "wm.generate", job=job["job_id"])
    try:
        check_question(job["question"])  # a client that skipped `submit_query`'s check
        samples = int(job.get("samples", 1))
        temperature = float(job.get("temperature", DEFAULT_VOTE_TEMPERATURE))
        problem = voting_problem(samples, temperature)
        if problem:
            raise ConfigError(problem)
        started = time.perf_counter()
        named, local = job_adapter(job, settings)
        choice = job_choice(job, settings, local)
        job = job | {"mode": choice.mode}
        stop_at = "requires" if choice.mode == "after-execution" else "end"
        gen = batcher(settings)
        deadline = time.monotonic() + settings.generate_time_limit_s
        items = [gen.submit(job["question"], stop_at=stop_at, adapter=local)]
        items += [
            gen.submit(job["question"], stop_at=stop_at, adapter=local, temperature=temperature)
            for _ in range(samples - 1)
        ]
        texts = [gen.wait(item, max(deadline - time.monotonic(), 0.0)) for item in items]
        generate_s = time.perf_counter() - started
        # The greedy candidate's fields stay at the top of the state; the sampled ones follow.
        first, *candidates = [_parsed(text) for text in texts]
        return first | {
            "job": job,
            "candidates": candidates,
            "timings": {"generate_s": round(generate_s, 4)},
            "model": choice.model_dir,
            "adapter": named or choice.adapter_dir,
            "worker": self.request.hostname,
        }
    finally:
        untrack(self.request.id)


def _parsed(generated: str) -> dict[str, Any]:
    """One candidate for the sandbox step: its generated text, parsed response and problems."""
    from worldmodel.pipeline import parse_generated

    response, problems = parse_generated(generated)
    return {
        "generated": generated,
        "response": response.to_dict() if response else None,
        "problems": problems,
    }
