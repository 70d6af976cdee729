"""Self-training: the model's own verified solutions, as a separate, labelled training stream.

For each training question with a gold answer, the current model writes several candidates (the
greedy one and `samples - 1` sampled ones); each is executed in the sandbox. A candidate is kept
only when all of these hold:

- its response is clean: a reasoning, exactly one code block, `<requires>` and a prose answer,
  and parsing found no problem;
- its code ran and printed the gold answer (`worldmodel.data.verify.matches`, with the record's
  own rule);
- its prose states the executed value (the pipeline's verdict is "verified");
- it passes the check every example of `wm data build` passes (`verify_code`: the imports equal
  `<requires>`, only allowed modules, run again in the sandbox, the answer compared again).

Of a question's kept candidates only distinct programs count (same code, whitespace aside, is
one), at most `keep_per_question` of them. Each becomes a record with source "self", the id
`self-<question id>-<n>`, split "train" and a `meta.self_train` naming the question, the
candidate (0 is the greedy one), the model, the adapter and the sampling. They go to a file of
their own (`data/self/train.jsonl` by default), never into validation or test, and training
reads it through `extra_train_files`. Questions of another split are refused: a test question
must never become training data.

A run can be killed and continued: after each batch, its kept records are appended to the output
file and then its questions, each with what became of its candidates, to `OUT.progress.jsonl`
(both flushed and fsynced); a resumed run skips the questions listed there and re-counts the
report from it.

This module does not generate: the caller passes where candidates come from (in-process,
`Pipeline.attempt_many`; through the job system, `workers.jobs.attempt_via_queue`).
"""

from __future__ import annotations

import json
import os
import random
import re
from collections import Counter
from collections.abc import Callable, Collection, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from worldmodel.data.record import Example, read_jsonl, read_records, response_of, to_record
from worldmodel.data.verify import verify_code
from worldmodel.errors import ConfigError, DataError, FormatError
from worldmodel.format import BUILTINS_REQUIREMENT, DEFAULT_ALLOWED_MODULES, render

if TYPE_CHECKING:
    from sandbox.executor import Executor
    from worldmodel.pipeline import Answer

SOURCE = "self"
"""The `source` of a self-training record."""
DEFAULT_OUT = Path("data/self/train.jsonl")
DEFAULT_SAMPLES = 4
DEFAULT_KEEP = 2
PROSE_MISMATCH = "right answer, but the prose does not state it"
"""The outcome of a candidate whose program prints the gold answer while its prose says
something else: not kept, since the record would teach prose that contradicts its output."""

Attempt = Callable[[Sequence[str]], list[list["Answer"]]]
"""Where candidates come from: questions in, each question's candidates (greedy first) out."""


@dataclass
class SelfTrainReport:
    """What a run did: questions asked, which were solved and how, what each candidate became."""

    questions: int = 0
    """Questions asked (resumed ones included)."""
    solved_greedy: int = 0
    """Questions whose greedy candidate was kept: the model already solves them."""
    solved: int = 0
    """Questions that gained at least one verified solution in the stream."""
    gained_by_sampling: int = 0
    """Solved questions whose greedy candidate failed: only sampling found a solution."""
    kept: int = 0
    """Records written (distinct verified programs)."""
    outcomes: Counter[str] = field(default_factory=Counter)
    """Each candidate's fate: "kept", "duplicate", or why it was rejected."""
    skipped: list[str] = field(default_factory=list)
    """Input records that were not asked, with the reason."""

    def add(self, progress: dict[str, Any]) -> None:
        """Count one question's progress line."""
        outcomes = list(progress["outcomes"])
        kept = sum(1 for outcome in outcomes if outcome == "kept")
        self.questions += 1
        self.kept += kept
        self.outcomes.update(outcomes)
        if kept:
            self.solved += 1
            if outcomes and outcomes[0] in ("kept", "duplicate"):
                self.solved_greedy += 1
            else:
                self.gained_by_sampling += 1

    def to_dict(self) -> dict[str, Any]:
        return {
            "questions": self.questions,
            "solved": self.solved,
            "solved_greedy": self.solved_greedy,
            "gained_by_sampling": self.gained_by_sampling,
            "kept": self.kept,
            "outcomes": dict(self.outcomes.most_common()),
            "skipped": len(self.skipped),
        }


def select_questions(
    path: Path,
    *,
    families: Collection[str] = (),
    sources: Collection[str] = (),
    limit: int | None = None,
    seed: int = 0,
) -> tuple[list[dict[str, Any]], list[str]]:
    """The training records to ask, and the skipped ones with why.

    Only records of the train split with a gold answer; `families`/`sources` narrow them (empty:
    all); `limit` takes a seeded sample, in file order. A record of another split raises
    DataError: the questions of validation and test must never become training data.
    """
    chosen: list[dict[str, Any]] = []
    skipped: list[str] = []
    for record in read_records(path):
        where = f"{path}:{record['_line']}"
        split = record.get("split")
        if split != "train":
            raise DataError(
                f"{where}: a {split!r} record; self-training asks training questions only "
                "(give data/train.jsonl or another file of the train split)"
            )
        if record.get("source") == SOURCE:
            skipped.append(f"{where}: already a self-training record")
            continue
        if families and record.get("family") not in families:
            continue
        if sources and record.get("source") not in sources:
            continue
        if not str(record.get("expected", "")).strip() or not record.get("messages"):
            skipped.append(f"{where}: no question or gold answer")
            continue
        chosen.append(record)
    if limit is not None and limit < len(chosen):
        picked = sorted(random.Random(seed).sample(range(len(chosen)), limit))
        chosen = [chosen[index] for index in picked]
    return chosen, skipped


def question_of(record: dict[str, Any]) -> str:
    """The user's question of a record."""
    return str(record["messages"][0]["content"])


def _code_key(code: str) -> str:
    return re.sub(r"\s+", " ", code).strip()


def judge_candidates(
    record: dict[str, Any],
    candidates: Sequence[Answer],
    executor: Executor,
    *,
    provenance: dict[str, Any],
    keep_per_question: int = DEFAULT_KEEP,
    allowed: Collection[str] = DEFAULT_ALLOWED_MODULES,
) -> tuple[list[dict[str, Any]], list[str]]:
    """The records kept from one question's candidates, and each candidate's outcome."""
    kept: list[dict[str, Any]] = []
    outcomes: list[str] = []
    seen: set[str] = set()
    for index, answer in enumerate(candidates):
        outcome, example, stdout = _judge(record, answer, index, executor, provenance, allowed)
        if example is not None:
            key = _code_key(example.code)
            if key in seen or len(kept) >= keep_per_question:
                outcome = "duplicate"
            else:
                seen.add(key)
                example.id = f"self-{record['id']}-{len(kept)}"
                kept.append(to_record(example, stdout))
        outcomes.append(outcome)
    return kept, outcomes


def _judge(
    record: dict[str, Any],
    answer: Answer,
    index: int,
    executor: Executor,
    provenance: dict[str, Any],
    allowed: Collection[str],
) -> tuple[str, Example | None, str]:
    """One candidate's outcome ("kept" or why not), with its example and verified stdout."""
    response = answer.response
    if response is None:
        return "no response", None, ""
    if len(response.code) != 1:
        return ("no code block" if not response.code else "several code blocks"), None, ""
    if not answer.executions or not all(result.ok for result in answer.executions):
        return "code failed", None, ""
    if answer.problems:
        return "format problems", None, ""
    if not response.reasoning.strip() or not response.answer.strip():
        return "no reasoning or no prose answer", None, ""
    requires = tuple(
        requirement.module
        for requirement in response.requirements
        if requirement != BUILTINS_REQUIREMENT
    )
    expected, check = str(record["expected"]), str(record["check"])
    verdict = verify_code(executor, response.code[0], requires, expected, check, allowed)
    if not verdict.ok:
        reason = verdict.reason.split(":", 1)[0]
        return ("wrong answer" if reason == "wrong answer" else reason), None, ""
    # Judged after the gold answer, so a report tells a right program with wrong prose (which
    # a better prose habit would rescue) from a wrong one.
    if answer.verification.status != "verified":
        return PROSE_MISMATCH, None, ""
    example = Example(
        id="",
        family=str(record["family"]),
        template=str(record["template"]),
        phrasing=int(record.get("phrasing", 0)),
        source=SOURCE,
        question=question_of(record),
        reasoning=response.reasoning,
        code=response.code[0],
        requires=requires,
        answer=response.answer,
        expected=expected,
        check=check,
        split="train",
        meta={
            **record.get("meta", {}),
            "self_train": {"from": record["id"], "candidate": index, **provenance},
        },
    )
    try:
        render(response_of(example, verdict.stdout))
    except FormatError:
        return "cannot be written back", None, ""
    return "kept", example, verdict.stdout


class Progress:
    """`OUT.progress.jsonl`: one line per finished question, after its records are in OUT."""

    def __init__(self, out: Path):
        self.out = out
        self.path = out.with_name(out.name + ".progress.jsonl")

    def done(self) -> Iterator[dict[str, Any]]:
        """The finished questions' lines; a torn last line (a kill mid-write) is dropped."""
        if not self.path.exists():
            return
        for number, record, error in _lines(self.path):
            if record is None:
                raise DataError(f"{self.path}:{number}: {error}; delete it and {self.out}")
            yield record

    def append(self, kept: list[dict[str, Any]], lines: list[dict[str, Any]]) -> None:
        """Add a batch: its records to OUT first, then its questions here."""
        _append(self.out, kept)
        _append(self.path, lines)


def _lines(path: Path) -> Iterator[tuple[int, dict[str, Any] | None, str | None]]:
    data = path.read_bytes()
    if data and not data.endswith(b"\n"):
        os.truncate(path, data.rfind(b"\n") + 1)
    yield from read_jsonl(path)


def _append(path: Path, records: list[dict[str, Any]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8", newline="\n") as handle:
        for record in records:
            handle.write(json.dumps(record, ensure_ascii=False) + "\n")
        handle.flush()
        os.fsync(handle.fileno())


def self_train(
    questions: Sequence[dict[str, Any]],
    attempt: Attempt,
    executor: Executor,
    out: Path,
    *,
    provenance: dict[str, Any],
    batch_size: int = 8,
    keep_per_question: int = DEFAULT_KEEP,
    resume: bool = False,
    on_batch: Callable[[int, int], None] | None = None,
) -> SelfTrainReport:
    """Ask `questions` through `attempt`, keep the verified candidates in `out`; the report.

    Without `resume`, an existing `out` or progress file is refused (nothing is overwritten
    unasked); with it, the questions already done are skipped and counted again.
    """
    if batch_size < 1 or keep_per_question < 1:
        raise ConfigError("batch_size and keep_per_question must be >= 1")
    progress = Progress(out)
    report = SelfTrainReport()
    done: set[str] = set()
    if resume:
        for line in progress.done():
            done.add(str(line["id"]))
            report.add(line)
        _drop_unfinished(out, done)
    elif out.exists() or progress.path.exists():
        raise ConfigError(
            f"{out} (or its progress file) exists: add --resume to continue that run, or "
            "choose another --out"
        )
    todo = [record for record in questions if str(record["id"]) not in done]
    for start in range(0, len(todo), batch_size):
        batch = todo[start : start + batch_size]
        candidates = attempt([question_of(record) for record in batch])
        if len(candidates) != len(batch):
            raise RuntimeError(f"{len(candidates)} candidate lists for {len(batch)} questions")
        kept_all: list[dict[str, Any]] = []
        lines: list[dict[str, Any]] = []
        for record, answers in zip(batch, candidates, strict=True):
            kept, outcomes = judge_candidates(
                record,
                answers,
                executor,
                provenance=provenance,
                keep_per_question=keep_per_question,
            )
            kept_all += kept
            line = {"id": record["id"], "outcomes": outcomes}
            lines.append(line)
            report.add(line)
        progress.append(kept_all, lines)
        if on_batch:
            on_batch(min(start + batch_size, len(todo)), len(todo))
    return report


def _drop_unfinished(out: Path, done: set[str]) -> None:
    """Records in `out` of questions the progress file does not list (a kill between the two
    writes) are removed: that question is asked again."""
    if not out.exists():
        return
    records = [record for _, record, _ in _lines(out) if record is not None]
    keep = [r for r in records if str(r.get("meta", {}).get("self_train", {}).get("from")) in done]
    if len(keep) != len(records):
        tmp = out.with_name(out.name + ".tmp")
        tmp.unlink(missing_ok=True)
        _append(tmp, keep)
        os.replace(tmp, out)


def local_attempt(
    model_dir: str | None,
    adapter_dir: str | None,
    executor: Executor,
    *,
    samples: int = DEFAULT_SAMPLES,
    temperature: float | None = None,
    config: Any = None,
) -> tuple[Attempt, dict[str, Any]]:
    """In-process candidates: a plain-mode `Pipeline` over this model and adapter (resolved as
    `wm query` resolves them), and the provenance its records carry."""
    from worldmodel.generate import GenerationConfig, Generator
    from worldmodel.model.defaults import resolve_model
    from worldmodel.pipeline import DEFAULT_VOTE_TEMPERATURE, Pipeline

    if samples < 2:
        raise ConfigError("self-training samples several candidates: samples must be >= 2")
    temperature = DEFAULT_VOTE_TEMPERATURE if temperature is None else temperature
    choice = resolve_model(model_dir, adapter_dir, None)
    generator = Generator(choice.model_dir, choice.adapter_dir, config=config or GenerationConfig())
    pipeline = Pipeline(
        generator, executor, mode="plain", samples=samples, temperature=temperature
    )
    provenance = {
        "model": model_dir or "bundled",
        "adapter": adapter_dir or ("bundled" if choice.adapter_dir else None),
        "samples": samples,
        "temperature": temperature,
    }
    return pipeline.attempt_many, provenance
