"""A whole `wm eval` run: pick the questions, load the model, start the sandbox, evaluate each
answer mode, and keep a journal so that a killed run can be resumed.

`run_eval` picks the questions (a hold-out kind, a stratified `limit`), resolves the model and
adapter (`worldmodel.model.defaults`), generates with one `Generator` for every mode, and
returns the reports with the summary that `wm eval --json` prints and `--out` writes.
`record_default` writes the better mode beside the adapter, where `wm query` reads it.

`EvalJournal` keeps the scored batches of a run with `--out` until its summary is written;
`--resume` reads them back and asks only the rest (see the class for what makes two runs the
same). Scoring itself (items, `score`, `evaluate`, `aggregate`) is `worldmodel.evaluate`.
Nothing here prints: the lines a user should see as they happen go to a `notify` callback,
progress to a `progress` callback.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from worldmodel.data.record import holdout_label
from worldmodel.errors import ConfigError, DataError
from worldmodel.evaluate import (
    EvalItem,
    EvalReport,
    ItemResult,
    better_mode,
    evaluate,
    load_items,
    stratified,
)
from worldmodel.format import MODES, Mode
from worldmodel.generate import DEFAULT_MAX_NEW_TOKENS
from worldmodel.pipeline import DEFAULT_VOTE_TEMPERATURE, Pipeline

log = logging.getLogger(__name__)

JOURNAL_VERSION = 1


@dataclass
class JournalPart:
    """What a journal holds for one answer mode."""

    results: list[ItemResult] = field(default_factory=list)
    steered: dict[str, int] = field(default_factory=dict)


class EvalJournal:
    """The scored batches of a `wm eval` run that has not finished, one JSON line each.

    The whole test split takes over an hour and a half on a 2-core CPU. If the run is killed,
    the batches scored so far stay here, and `wm eval --resume` asks only the rest. Line 1 is
    the run: everything that decides the answers (the questions' file and its SHA-256, the
    question ids in order, model, adapter weights' SHA-256, sandbox, modes, batch size, token
    limit, loop guard, voting). A resume whose run differs in any of these is refused, naming
    them, since its answers would not be the ones the report claims. Each later line is one
    scored batch: its mode, its results and what steered the generator during it. A line is
    flushed and fsynced before the next batch starts. A last line cut short by a kill is
    dropped, and its batch is asked again.
    """

    def __init__(self, path: Path, run: dict[str, Any]):
        self.path = path
        self.run = run

    @staticmethod
    def beside(report: Path) -> Path:
        """Where the journal of the report written to `report` lives."""
        return report.with_name(report.name + ".journal.jsonl")

    def start(self) -> None:
        """Begin a new journal (replacing any file at its path) with the run line."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._write({"journal": JOURNAL_VERSION, "run": self.run}, "w")

    def append(self, mode: str, results: Sequence[ItemResult], steered: dict[str, int]) -> None:
        """Record one scored batch; it is on disk when this returns."""
        record = {"mode": mode, "results": [r.to_dict() for r in results], "steered": steered}
        self._write(record, "a")

    def _write(self, record: dict[str, Any], how: str) -> None:
        with self.path.open(how, encoding="utf-8") as handle:
            handle.write(json.dumps(record) + "\n")
            handle.flush()
            os.fsync(handle.fileno())

    def resume(self) -> dict[str, JournalPart]:
        """Read the journal back, per mode, and make it ready for more batches.

        Raises DataError, naming the file (and line) and what to do, when the journal is not
        one this run can continue. A torn last line is cut off the file.
        """
        data = self.path.read_bytes()
        end = data.rfind(b"\n") + 1
        if end < len(data):
            log.warning("%s: dropped a last line cut short (%d bytes)", self.path, len(data) - end)
            os.truncate(self.path, end)
        lines = data[:end].decode("utf-8", errors="replace").splitlines()
        restart = "delete it to start over"
        if not lines:
            raise DataError(f"{self.path}: the journal has no run line; {restart}")
        try:
            header = json.loads(lines[0])
            version, run = header["journal"], header["run"]
        except (ValueError, KeyError, TypeError) as exc:
            raise DataError(f"{self.path}:1: not a journal's run line ({exc}); {restart}") from exc
        if version != JOURNAL_VERSION:
            raise DataError(
                f"{self.path}: journal version {version!r}, this wm writes {JOURNAL_VERSION}; "
                f"{restart}"
            )
        changed = [
            f"{key} {run.get(key)!r} -> {self.run.get(key)!r}"
            for key in sorted(set(run) | set(self.run))
            if run.get(key) != self.run.get(key)
        ]
        if changed:
            raise DataError(
                f"{self.path} belongs to another run ({'; '.join(changed)}). Resume with the "
                f"command and files that run used, or {restart}"
            )
        parts: dict[str, JournalPart] = {}
        for number, line in enumerate(lines[1:], start=2):
            try:
                record = json.loads(line)
                results = [ItemResult.from_dict(r) for r in record["results"]]
                part = parts.setdefault(str(record["mode"]), JournalPart())
                for key, value in record["steered"].items():
                    part.steered[key] = part.steered.get(key, 0) + int(value)
            except (ValueError, KeyError, TypeError, AttributeError) as exc:
                raise DataError(f"{self.path}:{number}: {exc}; {restart}") from exc
            part.results.extend(results)
        return parts

    def finish(self) -> None:
        """The report is written: the journal is no longer needed."""
        self.path.unlink(missing_ok=True)


def run_identity(
    file: Path, items: Sequence[EvalItem], adapter_dir: str | None, **settings: Any
) -> dict[str, Any]:
    """What decides an evaluation's answers, for `EvalJournal`: the file and its SHA-256, the
    question ids in order, the adapter's weights' SHA-256, and `settings` as given."""
    ids = "\n".join(item.id for item in items).encode("utf-8")
    adapter_digest = None
    if adapter_dir is not None:
        digest = hashlib.sha256()
        for path in sorted(Path(adapter_dir).glob("adapter_*")):
            digest.update(path.name.encode("utf-8") + b"\0")
            digest.update(hashlib.sha256(path.read_bytes()).digest())
        adapter_digest = digest.hexdigest()
    return {
        "file": str(file.resolve()),
        "file_sha256": hashlib.sha256(file.read_bytes()).hexdigest(),
        "questions": len(items),
        "ids_sha256": hashlib.sha256(ids).hexdigest(),
        "adapter": adapter_dir,
        "adapter_sha256": adapter_digest,
        **settings,
    }


Notify = Callable[[str], None]
Progress = Callable[[str], AbstractContextManager[Callable[[int, int], None] | None]]


@dataclass(frozen=True)
class EvalSettings:
    """Everything, besides the questions, that decides a run's answers."""

    model_dir: str | None = None
    """Base model directory (None: the bundled model)."""
    adapter_dir: str | None = None
    """LoRA adapter directory (None: the bundled one, for the bundled model)."""
    sandbox: str = "vm"
    """Where the model's code runs: "vm" or "process"."""
    modes: tuple[Mode, ...] = MODES
    """Answer modes to measure, in order."""
    batch_size: int = 8
    """Questions generated together."""
    max_new_tokens: int = DEFAULT_MAX_NEW_TOKENS
    """Generation budget per answer, in tokens."""
    loop_guard: bool = True
    """End a reasoning, code block or prose that repeats itself (worldmodel.loops)."""
    samples: int = 1
    """Candidates per question; more than 1 answers by a vote."""
    temperature: float = DEFAULT_VOTE_TEMPERATURE
    """Sampling temperature of the extra candidates (with samples > 1)."""


@dataclass
class EvalRun:
    """A finished run: one report per mode, and the summary (`wm eval --json`, `--out`)."""

    reports: list[EvalReport]
    summary: dict[str, Any]


def run_eval(
    file: Path,
    settings: EvalSettings,
    *,
    limit: int | None = None,
    holdout: str | None = None,
    out: Path | None = None,
    resume: bool = False,
    progress: Progress | None = None,
    notify: Notify = log.warning,
) -> EvalRun:
    """Load the model, start the sandbox and evaluate the questions of `file` in each mode.

    `holdout` keeps only the test questions of that kind ("phrasing", "values", "none");
    `limit` takes a stratified sample. With `out`, scored batches go to the journal beside it
    until the summary is written there; `resume` continues that journal (`EvalJournal`).
    `progress(mode)` gives a context whose value, if any, is called with (done, total);
    `notify` gets each line the user should see as it happens (skipped input lines, a default
    model's note, what is resumed). Raises DataError for unusable questions or journals.
    """
    from sandbox.registry import get_executor
    from worldmodel.generate import GenerationConfig, Generator
    from worldmodel.model.defaults import resolve_model

    if resume and out is None:
        raise ConfigError("resume continues the journal kept beside out: give out")
    items, problems = load_items(file)
    for problem in problems:
        notify(f"skipped {problem}")
    items = stratified(_questions(file, items, holdout), limit)
    choice = resolve_model(settings.model_dir, settings.adapter_dir, None)
    if choice.note:
        notify(f"note: {choice.note}")
    voted = settings.samples > 1
    journal: EvalJournal | None = None
    resumed: dict[str, JournalPart] = {}
    if out is not None:
        run = run_identity(
            file,
            items,
            choice.adapter_dir,
            modes=list(settings.modes),
            model=choice.model_dir,
            sandbox=settings.sandbox,
            batch_size=settings.batch_size,
            max_new_tokens=settings.max_new_tokens,
            loop_guard=settings.loop_guard,
            samples=settings.samples,
            temperature=settings.temperature if voted else None,
        )
        journal = EvalJournal(EvalJournal.beside(out), run)
        resumed = _open_journal(journal, resume, notify)
    config = GenerationConfig(
        max_new_tokens=settings.max_new_tokens,
        batch_size=settings.batch_size,
        loop_guard=settings.loop_guard,
    )
    generator = Generator(choice.model_dir, choice.adapter_dir, config=config)
    executor = get_executor(settings.sandbox)
    reports: list[EvalReport] = []
    steered: dict[str, dict[str, int]] = {}
    try:
        for mode in settings.modes:
            part = resumed.get(mode, JournalPart())
            before = dict(generator.steered)
            pipeline = Pipeline(
                generator,
                executor,
                mode=mode,
                samples=settings.samples,
                temperature=settings.temperature,
            )
            with progress(mode) if progress else nullcontext() as advance:
                reports.append(
                    evaluate(
                        pipeline,
                        items,
                        batch_size=settings.batch_size,
                        source=str(file),
                        skipped_lines=problems,
                        on_progress=advance,
                        done=part.results,
                        on_batch=_Recorder(journal, generator, mode) if journal else None,
                    )
                )
            steered[mode] = {
                k: v - before[k] + part.steered.get(k, 0) for k, v in generator.steered.items()
            }
    finally:
        executor.close()
    summary: dict[str, Any] = {
        "model": choice.model_dir,
        "adapter": choice.adapter_dir,
        "sandbox": settings.sandbox,
        "holdout": holdout,
        "samples": settings.samples,
        "temperature": settings.temperature if voted else None,
        "better_mode": better_mode(reports),
        "max_new_tokens": settings.max_new_tokens,
        "loop_guard": settings.loop_guard,
        "steered": steered,
        "reports": [report.to_dict() for report in reports],
    }
    if out:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
        if journal is not None:
            journal.finish()
    return EvalRun(reports, summary)


def record_default(run: EvalRun, *, measured_by: str, report: Path | None = None) -> Path:
    """Record the better mode of `run` beside its adapter (`worldmodel-defaults.json`, read by
    `wm query`), with the command that measured it and the report written, if any."""
    from worldmodel.model.defaults import DEFAULTS_FILE

    adapter = run.summary["adapter"]
    if not adapter:
        raise ConfigError("--record-default needs an adapter to record beside")
    target = Path(adapter) / DEFAULTS_FILE
    recorded: dict[str, Any] = {
        "mode": run.summary["better_mode"],
        "measured_by": measured_by,
        **{
            name: {r.mode: r.metrics[key] for r in run.reports}
            for name, key in (
                ("verified", "verified"),
                ("accuracy", "correct"),
                ("structure", "structure"),
            )
        },
    }
    if report:
        # Beside the adapter: name it relative to it, so the record stays true when moved.
        inside = report.resolve().parent == target.parent.resolve()
        recorded["report"] = report.name if inside else str(report)
    target.write_text(json.dumps(recorded, indent=2) + "\n", encoding="utf-8")
    return target


def _questions(file: Path, items: list[EvalItem], holdout: str | None) -> list[EvalItem]:
    if not items:
        raise DataError(f"{file} has no usable questions")
    if holdout:
        items = [item for item in items if holdout_label(item.holdout) == holdout]
        if not items:
            raise DataError(
                f"{file} has no questions with holdout {holdout!r} (only a data split's test "
                "records carry a hold-out kind; see data/README.md)"
            )
    return items


def _open_journal(journal: EvalJournal, resume: bool, notify: Notify) -> dict[str, JournalPart]:
    """Start `journal`, or with `resume` read back what it holds; never overwrite one unasked."""
    if journal.path.exists() and not resume:
        raise DataError(
            f"{journal.path} holds the scored batches of an unfinished run of this report: add "
            "--resume to continue it, or delete the file to start over"
        )
    if not journal.path.exists():
        if resume:
            notify(f"nothing to resume at {journal.path}: starting from the first question")
        journal.start()
        return {}
    parts = journal.resume()
    for mode, part in parts.items():
        notify(f"resuming {mode}: {len(part.results)} questions already scored")
    return parts


class _Recorder:
    """Writes each scored batch to the journal with what steered the generator during it."""

    def __init__(self, journal: EvalJournal, generator: Any, mode: str):
        self.journal, self.generator, self.mode = journal, generator, mode
        self.last = dict(generator.steered)

    def __call__(self, scored: list[ItemResult]) -> None:
        now = dict(self.generator.steered)
        self.journal.append(self.mode, scored, {k: v - self.last[k] for k, v in now.items()})
        self.last = now
