"""Thin Celery tasks: each takes ids and small JSON, calls `worldmodel` or `sandbox`, returns JSON.

- `generate`: question -> generated text + parsed response (generation workers, batched);
- `sandbox`: runs each code block of the response (sandbox workers);
- `compose`: verifies and builds the `Answer` (after-execution mode: a second generation);
- `train`: a LoRA training job with progress as task state and resume from checkpoints.

Every task is safe to run twice for the same id (late acks can redeliver): steps are pure
functions of their input, a redelivered step that already succeeded is skipped by Celery
(`worker_deduplicate_successful_tasks`), and training resumes from its own checkpoints.
"""
