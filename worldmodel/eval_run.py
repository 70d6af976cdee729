"""A whole `wm eval` run: pick the questions, load the model, start the sandbox, evaluate each
file in each answer mode, and keep a journal so that a killed run can be resumed.

`run_eval` picks the questions of each file (a hold-out kind, a stratified `limit`), resolves
the model and adapter (`worldmodel.model.defaults`), generates with one `Generator` for every
file and mode, and returns one report per file and mode with the summary that
`wm eval --json` prints and `--out` writes. Several files (the test split and the development
set, `data/dev/`) share one model load, one sandbox and one journal, and each gets reports of
its own, never a blend.
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

JOURNAL_VERSION = 2
"""2: the run line lists its files and each batch names its file. A version 1 journal (one
file, batches without a file) is read as a version 2 one of that file."""


@dataclass
class JournalPart:
    """What a journal holds for one file in one answer mode."""

    results: list[ItemResult] = field(default_factory=list)
    steered: dict[str, int] = field(default_factory=dict)


class EvalJournal:
    """The scored batches of a `wm eval` run that has not finished, one JSON line each.

    The whole test split takes over an hour and a half on a 2-core CPU. If the run is killed,
    the batches scored so far stay here, and `wm eval --resume` asks only the rest. Line 1 is
    the run: everything that decides the answers (each questions' file with its SHA-256 and
    question ids in order, model, adapter weights' SHA-256, sandbox, modes, batch size, token
    limit, loop guard, voting, precision). The device is not part of it: a run begun on a GPU
    in fp32 can be finished on a CPU. A resume whose run differs in any of these is refused, naming
    them, since its answers would not be the ones the report claims. Each later line is one
    scored batch: its file, its mode, its results and what steered the generator during it. A
    line is flushed and fsynced before the next batch starts. A last line cut short by a kill
    is dropped, and its batch is asked again.
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

    def append(
        self, file: str, mode: str, results: Sequence[ItemResult], steered: dict[str, int]
    ) -> None:
        """Record one scored batch of `file` (as the run line names it); it is on disk when
        this returns."""
        record = {
            "file": file,
            "mode": mode,
            "results": [r.to_dict() for r in results],
            "steered": steered,
        }
        self._write(record, "a")

    def _write(self, record: dict[str, Any], how: str) -> None:
        with self.path.open(how, encoding="utf-8") as handle:
            handle.write(json.dumps(record) + "\n")
            handle.flush()
            os.fsync(handle.fileno())

    def resume(self) -> dict[tuple[str, str], JournalPart]:
        """Read the journal back, per (file, mode), and make it ready for more batches.

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
            if not isinstance(run, dict):
                raise TypeError("its run is not a JSON object")
        except (ValueError, KeyError, TypeError) as exc:
            raise DataError(f"{self.path}:1: not a journal's run line ({exc}); {restart}") from exc
        if version == 1:
            run = _from_version_1(run)
        elif version != JOURNAL_VERSION:
            raise DataError(
                f"{self.path}: journal version {version!r}, this wm writes {JOURNAL_VERSION}; "
                f"{restart}"
            )
        changed = _differences(run, self.run)
        if changed:
            raise DataError(
                f"{self.path} belongs to another run ({'; '.join(changed)}). Resume with the "
                f"command and files that run used, or {restart}"
            )
        first_file = str(run["files"][0]["file"]) if run.get("files") else ""
        parts: dict[tuple[str, str], JournalPart] = {}
        for number, line in enumerate(lines[1:], start=2):
            try:
                record = json.loads(line)
                results = [ItemResult.from_dict(r) for r in record["results"]]
                file = str(record["file"]) if version > 1 else first_file
                part = parts.setdefault((file, str(record["mode"])), JournalPart())
                for key, value in record["steered"].items():
                    part.steered[key] = part.steered.get(key, 0) + int(value)
            except (ValueError, KeyError, TypeError, AttributeError) as exc:
                raise DataError(f"{self.path}:{number}: {exc}; {restart}") from exc
            part.results.extend(results)
        return parts

    def finish(self) -> None:
        """The report is written: the journal is no longer needed."""
        self.path.unlink(missing_ok=True)


_FILE_KEYS = ("file", "file_sha256", "questions", "ids_sha256")


def _from_version_1(run: dict[str, Any]) -> dict[str, Any]:
    """A version 1 run line (the one file's keys beside the settings) as version 2 writes it."""
    rest = {key: value for key, value in run.items() if key not in _FILE_KEYS}
    return {"files": [{key: run.get(key) for key in _FILE_KEYS}], **rest}


def _differences(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    """What differs between two run lines, one phrase each; files compared one by one."""
    changed = []
    old_files, new_files = old.get("files") or [], new.get("files") or []
    if [f.get("file") for f in old_files] != [f.get("file") for f in new_files]:
        changed.append(
            f"files {[f.get('file') for f in old_files]} -> {[f.get('file') for f in new_files]}"
        )
    else:
        for before, after in zip(old_files, new_files, strict=True):
            changed += [
                f"{after.get('file')}: {key} {before.get(key)!r} -> {after.get(key)!r}"
                for key in _FILE_KEYS
                if before.get(key) != after.get(key)
            ]
    changed += [
        f"{key} {old.get(key)!r} -> {new.get(key)!r}"
        for key in sorted((set(old) | set(new)) - {"files"})
        if old.get(key) != new.get(key)
    ]
    return changed


def file_identity(file: Path, items: Sequence[EvalItem]) -> dict[str, Any]:
    """What decides one file's questions: its path, its SHA-256 and the question ids in order."""
    ids = "\n".join(item.id for item in items).encode("utf-8")
    return {
        "file": str(file.resolve()),
        "file_sha256": hashlib.sha256(file.read_bytes()).hexdigest(),
        "questions": len(items),
        "ids_sha256": hashlib.sha256(ids).hexdigest(),
    }


def run_identity(
    files: Sequence[tuple[Path, Sequence[EvalItem]]], adapter_dir: str | None, **settings: Any
) -> dict[str, Any]:
    """What decides an evaluation's answers, for `EvalJournal`: each (file, its questions) as
    `file_identity` gives it, the adapter's weights' SHA-256, and `settings` as given."""
    adapter_digest = None
    if adapter_dir is not None:
        digest = hashlib.sha256()
        for path in sorted(Path(adapter_dir).glob("adapter_*")):
            digest.update(path.name.encode("utf-8") + b"\0")
            digest.update(hashlib.sha256(path.read_bytes()).digest())
        adapter_digest = digest.hexdigest()
    return {
        "files": [file_identity(file, items) for file, items in files],
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
    device: str = "auto"
    """Where the model runs (`worldmodel.model.device.resolve_device`)."""
    precision: str = "auto"
    """Its precision: auto|fp32|bf16|fp16 (auto: fp32 on a CPU, bf16 or fp16 on a GPU)."""
    threads: int | None = None
    """CPU threads for torch (None: torch's default). Speed only: answers do not depend on it."""


@dataclass
class EvalRun:
    """A finished run: one report per file and mode, file by file, and the summary
    (`wm eval --json`, `--out`)."""

    reports: list[EvalReport]
    summary: dict[str, Any]


@dataclass
class _QuestionSet:
    """One file's questions, as a run asks them."""

    file: Path
    items: list[EvalItem]
    skipped: list[str]
    key: str = ""
    """The file as the journal names it (`file_identity`)."""


def run_eval(
    files: Sequence[Path],
    settings: EvalSettings,
    *,
    limit: int | None = None,
    holdout: str | None = None,
    out: Path | None = None,
    resume: bool = False,
    progress: Progress | None = None,
    notify: Notify = log.warning,
) -> EvalRun:
    """Load the model, start the sandbox and evaluate the questions of each of `files` in each
    mode, one file after the other; each file gets its own reports.

    `holdout` keeps only the test questions of that kind ("phrasing", "values", "none");
    `limit` takes a stratified sample of each file. With `out`, scored batches go to the
    journal beside it until the summary is written there; `resume` continues that journal
    (`EvalJournal`). `progress(label)` (the mode, or "FILE mode" with several files) gives a
    context whose value, if any, is called with (done, total); `notify` gets each line the user
    should see as it happens (skipped input lines, a default model's note, what is resumed).
    Raises DataError for unusable questions or journals, ConfigError for a file given twice.
    """
    from sandbox.registry import get_executor
    from worldmodel.generate import GenerationConfig, Generator
    from worldmodel.model.defaults import resolve_model
    from worldmodel.model.device import resolve_device, resolve_dtype

    if resume and out is None:
        raise ConfigError("resume continues the journal kept beside out: give out")
    if not files:
        raise ConfigError("no questions' file to evaluate")
    resolved = [file.resolve() for file in files]
    twice = sorted({str(r) for r in resolved if resolved.count(r) > 1})
    if twice:
        raise ConfigError(f"{', '.join(twice)} given twice: each file is evaluated once")
    sets: list[_QuestionSet] = []
    for file in files:
        items, problems = load_items(file)
        for problem in problems:
            notify(f"skipped {problem}")
        chosen = stratified(_questions(file, items, holdout), limit)
        sets.append(_QuestionSet(file, chosen, problems, str(file.resolve())))
    choice = resolve_model(settings.model_dir, settings.adapter_dir, None)
    device = resolve_device(settings.device)
    dtype = str(resolve_dtype(settings.precision, device)).removeprefix("torch.")
    if choice.note:
        notify(f"note: {choice.note}")
    voted = settings.samples > 1
    journal: EvalJournal | None = None
    resumed: dict[tuple[str, str], JournalPart] = {}
    if out is not None:
        run = run_identity(
            [(questions.file, questions.items) for questions in sets],
            choice.adapter_dir,
            modes=list(settings.modes),
            model=choice.model_dir,
            sandbox=settings.sandbox,
            batch_size=settings.batch_size,
            max_new_tokens=settings.max_new_tokens,
            loop_guard=settings.loop_guard,
            samples=settings.samples,
            temperature=settings.temperature if voted else None,
            precision=dtype,
        )
        journal = EvalJournal(EvalJournal.beside(out), run)
        resumed = _open_journal(journal, resume, notify)
    config = GenerationConfig(
        max_new_tokens=settings.max_new_tokens,
        batch_size=settings.batch_size,
        loop_guard=settings.loop_guard,
        device=settings.device,
        precision=settings.precision,
        threads=settings.threads,
    )
    generator = Generator(choice.model_dir, choice.adapter_dir, config=config)
    executor = get_executor(settings.sandbox)
    reports: list[EvalReport] = []
    report_steered: list[dict[str, int]] = []
    try:
        for questions in sets:
            for mode in settings.modes:
                part = resumed.get((questions.key, mode), JournalPart())
                before = dict(generator.steered)
                pipeline = Pipeline(
                    generator,
                    executor,
                    mode=mode,
                    samples=settings.samples,
                    temperature=settings.temperature,
                )
                label = mode if len(sets) == 1 else f"{questions.file} {mode}"
                recorder = _Recorder(journal, generator, questions.key, mode) if journal else None
                with progress(label) if progress else nullcontext() as advance:
                    reports.append(
                        evaluate(
                            pipeline,
                            questions.items,
                            batch_size=settings.batch_size,
                            source=str(questions.file),
                            skipped_lines=questions.skipped,
                            on_progress=advance,
                            done=part.results,
                            on_batch=recorder,
                        )
                    )
                report_steered.append(
                    {
                        k: v - before[k] + part.steered.get(k, 0)
                        for k, v in generator.steered.items()
                    }
                )
    finally:
        executor.close()
    steered: dict[str, dict[str, int]] = {}
    for report, counts in zip(reports, report_steered, strict=True):
        total = steered.setdefault(report.mode, {})
        for key, value in counts.items():
            total[key] = total.get(key, 0) + value
    by_file = [
        reports[n : n + len(settings.modes)] for n in range(0, len(reports), len(settings.modes))
    ]
    summary: dict[str, Any] = {
        "model": choice.model_dir,
        "adapter": choice.adapter_dir,
        "sandbox": settings.sandbox,
        "device": str(device),
        "precision": dtype,
        "holdout": holdout,
        "samples": settings.samples,
        "temperature": settings.temperature if voted else None,
        "better_mode": better_mode(by_file[0]),
        "better_mode_by_file": {group[0].source: better_mode(group) for group in by_file},
        "max_new_tokens": settings.max_new_tokens,
        "loop_guard": settings.loop_guard,
        "steered": steered,
        "reports": [
            {**report.to_dict(), "steered": counts}
            for report, counts in zip(reports, report_steered, strict=True)
        ],
    }
    if out:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
        if journal is not None:
            journal.finish()
    return EvalRun(reports, summary)


def record_default(run: EvalRun, *, measured_by: str, report: Path | None = None) -> Path:
    """Record the better mode of `run` beside its adapter (`worldmodel-defaults.json`, read by
    `wm query`), with the command that measured it and the report written, if any. The run
    must be of one file: the mode is the better one on those questions."""
    from worldmodel.model.defaults import DEFAULTS_FILE

    adapter = run.summary["adapter"]
    if not adapter:
        raise ConfigError("--record-default needs an adapter to record beside")
    if len({r.source for r in run.reports}) > 1:
        raise ConfigError("--record-default records the mode measured on one file: give one")
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


def _open_journal(
    journal: EvalJournal, resume: bool, notify: Notify
) -> dict[tuple[str, str], JournalPart]:
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
    several = len(journal.run["files"]) > 1
    for (file, mode), part in parts.items():
        what = f"{file} {mode}" if several else mode
        notify(f"resuming {what}: {len(part.results)} questions already scored")
    return parts


class _Recorder:
    """Writes each scored batch to the journal with what steered the generator during it."""

    def __init__(self, journal: EvalJournal, generator: Any, file: str, mode: str):
        self.journal, self.generator, self.file, self.mode = journal, generator, file, mode
        self.last = dict(generator.steered)

    def __call__(self, scored: list[ItemResult]) -> None:
        now = dict(self.generator.steered)
        steered = {k: v - self.last[k] for k, v in now.items()}
        self.journal.append(self.file, self.mode, scored, steered)
        self.last = now
