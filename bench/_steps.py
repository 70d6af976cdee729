"""Where a decode step's time goes: the model's forward pass, the logits processors (the loop
guard among them), detokenising, and the Python around them, measured inside a real
`Generator.complete` call.

`StepClock` keeps exclusive time per part: time spent in a part nested in another (the loop
guard decoding a token's text) counts for the inner part only, and "other" is everything in
the call that no part claims (Hugging Face's loop, stopping criteria, cache bookkeeping, our
prompt building). The pieces are timed where they are called, by wrapping them for the length
of one measurement and restoring them after: the model's forward pass (hooks; the first pass
of each batch, the prompt's, is reported as "prefill", not as a decode step), every
`LogitsProcessorList` call, and the tokenizer's `decode`. On a GPU each part ends with a
synchronize, so its kernels count where they are launched (which slows the whole a little).

Used by `bench_generate.py --breakdown`; this module prints nothing.
"""

from __future__ import annotations

import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

PARTS = ("forward", "logits_processors", "detokenise", "other")
"""The parts of a decode step, in the order they are reported."""


class StepClock:
    """Exclusive seconds per part, from nested `begin`/`end` pairs."""

    def __init__(self, sync: Callable[[], None]):
        self.sync = sync
        self.seconds: dict[str, float] = defaultdict(float)
        self.calls: Counter[str] = Counter()
        self._open: list[list[Any]] = []  # [part, since] from outermost to innermost

    def begin(self, part: str) -> None:
        now = time.perf_counter()
        if self._open:
            outer = self._open[-1]
            self.seconds[outer[0]] += now - outer[1]
        self._open.append([part, now])

    def end(self) -> None:
        self.sync()
        now = time.perf_counter()
        part, since = self._open.pop()
        self.seconds[part] += now - since
        self.calls[part] += 1
        if self._open:
            self._open[-1][1] = now

    @contextmanager
    def part(self, name: str) -> Iterator[None]:
        self.begin(name)
        try:
            yield
        finally:
            self.end()


def measure(generator: Any, questions: list[str]) -> dict[str, Any]:
    """Run `generator.complete(questions)` with every part timed; its step breakdown."""
    import torch
    from transformers import LogitsProcessorList

    sync = torch.cuda.synchronize if generator.device.type == "cuda" else (lambda: None)
    clock = StepClock(sync)
    model = generator.model
    inner = model.get_base_model() if hasattr(model, "get_base_model") else model

    def before(module: Any, args: Any, kwargs: dict[str, Any]) -> None:
        ids = kwargs.get("input_ids", args[0] if args else None)
        clock.begin("prefill" if ids is not None and ids.shape[1] > 1 else "forward")

    def after(module: Any, args: Any, kwargs: dict[str, Any], output: Any) -> None:
        clock.end()

    processors = LogitsProcessorList.__call__

    def timed_processors(self: Any, *args: Any, **kwargs: Any) -> Any:
        with clock.part("logits_processors"):
            return processors(self, *args, **kwargs)

    tokenizer = generator.tokenizer
    decode = tokenizer.decode

    def timed_decode(*args: Any, **kwargs: Any) -> Any:
        with clock.part("detokenise"):
            return decode(*args, **kwargs)

    hooks = [
        inner.register_forward_pre_hook(before, with_kwargs=True),
        inner.register_forward_hook(after, with_kwargs=True),
    ]
    LogitsProcessorList.__call__ = timed_processors  # type: ignore[method-assign]
    tokenizer.decode = timed_decode
    try:
        with clock.part("other"):
            generator.complete(questions)
    finally:
        for hook in hooks:
            hook.remove()
        LogitsProcessorList.__call__ = processors  # type: ignore[method-assign]
        del tokenizer.decode  # the class's method again
    return _report(clock, generator.stats)


def _report(clock: StepClock, stats: Any) -> dict[str, Any]:
    steps = clock.calls["forward"]
    step_seconds = sum(clock.seconds[part] for part in PARTS)
    return {
        "questions": stats.questions,
        "new_tokens": stats.new_tokens,
        "seconds": round(stats.seconds, 3),
        "tokens_per_s": round(stats.new_tokens / stats.seconds, 1),
        "prefill_s": round(clock.seconds["prefill"], 3),
        "decode_steps": steps,
        "ms_per_step": round(1000 * step_seconds / max(steps, 1), 2),
        "shares": {
            part: round(clock.seconds[part] / step_seconds, 3) if step_seconds else 0.0
            for part in PARTS
        },
    }
