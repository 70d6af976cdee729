"""Generating the questions that wait in the queue together, in one forward pass.

A generation worker runs its Celery tasks on a pool of threads (one per batch slot). Each task
hands its question to the process's one `Batcher` and blocks; the batcher's loop takes the first
waiting question, waits up to `max_wait_s` for more (or until `max_batch` are there), and calls
the completer once for the whole batch, grouped by stop condition, adapter and temperature (a
voting query's sampled candidates, `submit` several then `wait` for each). Each task then
gets its own text back and finishes (and is acked) on its own, so a batch never weakens the
per-job guarantees: late acks and redelivery still work job by job.

Failures are per job too. When a batch's completer call raises, the batcher cannot tell which
question caused it (a prompt the tokenizer rejects, an adapter that fails to load, a bug that
one input triggers) from one that hit every question (out of memory), so it generates each of
the batch's questions alone, and each waiting task gets its own text or the error of its own
call: one bad job fails alone, and a fault common to all still reaches every caller. We chose
this over validating each question before batching because it also covers the failures no
check foresees; its cost, one call per question, is paid only after a batch has failed.

We wrote this small loop instead of using celery-batches: its latest release (0.11) requires
`celery<5.7` and the project runs Celery 5.7, and it needs a prefetch multiplier larger than the
batch, which we keep at 1.

The batcher also owns the GPU gate: training (`tasks.train`) holds it while it trains and
steps aside after any optimizer step when a batch waits, so generation and training never use
the device at the same moment, and an interactive batch runs between two training steps
instead of after the whole run. Between processes, a batch also holds this worker's GPU shared
(`device_lock`, `workers.gpus`), so it waits while a data-parallel training job has claimed that
GPU. This module does not load models (`workers.worker`).
"""

from __future__ import annotations

import contextlib
import logging
import queue
import threading
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Any

log = logging.getLogger(__name__)


@dataclass
class _Item:
    question: str
    prefix: str
    stop_at: str
    adapter: str | None
    temperature: float | None = None
    done: threading.Event = field(default_factory=threading.Event)
    text: str | None = None
    error: BaseException | None = None


class GpuGate:
    """The device, shared by generation batches and training steps; generation goes first.

    Training holds the gate while it trains and calls `yield_to_generation` after each optimizer
    step: if a batch is waiting, training steps aside until no batch waits any more.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._changed = threading.Condition()
        self._waiting = 0

    def generation(self) -> _Held:
        return _Held(self)

    def acquire_for_training(self) -> None:
        self._lock.acquire()

    def release_for_training(self) -> None:
        self._lock.release()

    def yield_to_generation(self) -> None:
        with self._changed:
            if not self._waiting:
                return
        self._lock.release()
        with self._changed:
            self._changed.wait_for(lambda: self._waiting == 0)
        self._lock.acquire()

    def _enter(self) -> None:
        with self._changed:
            self._waiting += 1
        self._lock.acquire()

    def _leave(self) -> None:
        self._lock.release()
        with self._changed:
            self._waiting -= 1
            self._changed.notify_all()


class _Held:
    def __init__(self, gate: GpuGate):
        self.gate = gate

    def __enter__(self) -> None:
        self.gate._enter()

    def __exit__(self, *_: object) -> None:
        self.gate._leave()


@dataclass
class BatchStats:
    """Sizes of the batches run so far (for `wm workers` and the benchmark)."""

    batches: list[int] = field(default_factory=list)


class Batcher:
    """Collects questions from many threads and generates them in batches."""

    def __init__(
        self,
        completer: Any,
        *,
        max_batch: int,
        max_wait_s: float,
        device_lock: Callable[[], AbstractContextManager[None]] | None = None,
    ):
        """`device_lock()`: held around every batch besides the gate, e.g. the box-level lock
        of this worker's GPU (`workers.gpus.BoxGate.shared`), so that a batch waits while a
        data-parallel training job of another process has claimed the GPU."""
        if max_batch < 1:
            raise ValueError("max_batch must be >= 1")
        self.completer = completer
        self.device_lock = device_lock or contextlib.nullcontext
        self.max_batch = max_batch
        self.max_wait_s = max_wait_s
        self.gate = GpuGate()
        self.stats = BatchStats()
        self._queue: queue.Queue[_Item] = queue.Queue()
        self._thread = threading.Thread(target=self._loop, daemon=True, name="wm-batcher")
        self._thread.start()

    def complete(
        self,
        question: str,
        prefix: str = "",
        *,
        stop_at: str = "end",
        adapter: str | None = None,
        temperature: float | None = None,
        timeout_s: float | None = None,
    ) -> str:
        """Generate for one question (batched with others); raises what the completer raised.

        `adapter` (a local adapter folder) and `temperature` (sample at it instead of the
        completer's own setting) are handed to the completer only when set, so a completer
        that knows neither serves every query that asks for neither.
        """
        item = self.submit(
            question, prefix, stop_at=stop_at, adapter=adapter, temperature=temperature
        )
        return self.wait(item, timeout_s)

    def submit(
        self,
        question: str,
        prefix: str = "",
        *,
        stop_at: str = "end",
        adapter: str | None = None,
        temperature: float | None = None,
    ) -> _Item:
        """Queue one question without waiting (`wait` collects its text)."""
        item = _Item(question, prefix, stop_at, adapter, temperature)
        self._queue.put(item)
        return item

    def wait(self, item: _Item, timeout_s: float | None = None) -> str:
        """The text generated for a submitted item; raises what the completer raised."""
        if not item.done.wait(timeout_s):
            raise TimeoutError(f"generation did not finish within {timeout_s} s")
        if item.error is not None:
            raise item.error
        assert item.text is not None
        return item.text

    def _loop(self) -> None:
        while True:
            first = self._queue.get()
            batch = [first]
            deadline = time.monotonic() + self.max_wait_s
            while len(batch) < self.max_batch:
                left = deadline - time.monotonic()
                try:
                    batch.append(
                        self._queue.get(timeout=max(left, 0))
                        if left > 0
                        else self._queue.get_nowait()
                    )
                except queue.Empty:
                    break
            self._run(batch)

    def _run(self, batch: list[_Item]) -> None:
        # One completer call per (stop condition, adapter, temperature): a forward pass has one
        # of each.
        groups: dict[tuple[str, str | None, float | None], list[_Item]] = {}
        for item in batch:
            groups.setdefault((item.stop_at, item.adapter, item.temperature), []).append(item)
        for (stop_at, adapter, temperature), items in groups.items():
            chosen: dict[str, Any] = {} if adapter is None else {"adapter": adapter}
            if temperature is not None:
                chosen["temperature"] = temperature
            try:
                texts = self._complete(items, stop_at, chosen)
            except Exception as exc:
                if len(items) == 1:
                    log.exception("generation failed")
                    self._finish(items[0], error=exc)
                    continue
                log.warning(
                    "generation batch of %d failed (%s: %s); generating each question alone so "
                    "that only a failing one fails",
                    len(items),
                    type(exc).__name__,
                    exc,
                )
                for item in items:
                    try:
                        (text,) = self._complete([item], stop_at, chosen)
                    except BaseException as alone:  # this question's own failure
                        log.exception("generation failed for one question of the batch")
                        self._finish(item, error=alone)
                    else:
                        self._finish(item, text=text)
                continue
            except BaseException as exc:
                # Not a generation failure (SystemExit, ...): every waiting task gets it, and
                # the loop goes on serving the next batch.
                log.exception("generation batch of %d stopped", len(items))
                for item in items:
                    self._finish(item, error=exc)
                continue
            for item, text in zip(items, texts, strict=True):
                self._finish(item, text=text)

    def _complete(self, items: list[_Item], stop_at: str, chosen: dict[str, Any]) -> list[str]:
        """One completer call for `items` (one stop condition, adapter and temperature)."""
        prefixes = [item.prefix for item in items]
        with self.gate.generation(), self.device_lock():
            texts = self.completer.complete(
                [item.question for item in items],
                prefixes if any(prefixes) else None,
                stop_at=stop_at,
                **chosen,
            )
        self.stats.batches.append(len(items))
        if len(texts) != len(items):
            raise RuntimeError(f"completer returned {len(texts)} texts for {len(items)}")
        return list(texts)

    @staticmethod
    def _finish(
        item: _Item, *, text: str | None = None, error: BaseException | None = None
    ) -> None:
        item.text, item.error = text, error
        item.done.set()
