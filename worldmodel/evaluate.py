"""Evaluation: how well a model answers a set of questions with gold answers.

Input is a JSONL file of either shape:

- WorldModel records (`data/*.jsonl`): the question is the user message, the gold answer is
  `expected` compared under the record's `check` rule; `family` and `holdout` group results;
- plain question/answer lines, as in GSM8K: ``{"question": ..., "answer": "... #### 72"}``
  (the gold value follows ``####``; without it the whole answer is the gold value).

Every question goes through the real `Pipeline` (generate, parse, execute in the chosen
sandbox, verify). Per question we record: structure (all three tags well-formed), whether the
code parses, whether it ran, whether the executed final value equals the gold answer (numeric
tolerance), the verification verdict and the latency. The report aggregates these overall,
per family, per hold-out kind (values unseen / phrasings unseen) and, for records whose
`meta.steps` gives the number of reasoning steps (the development set, data/dev/), per number of
steps: 1, 2 and 3 or more.

A bad input line is reported with its line number and skipped; it never stops the run. This
module does not load models or start sandboxes; callers pass in a `Pipeline`. A whole
`wm eval` run (the model, the sandbox, a journal to resume from) is `worldmodel.eval_run`.
"""

from __future__ import annotations

import ast
import math
import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from worldmodel.data.record import holdout_label, read_jsonl
from worldmodel.data.verify import matches
from worldmodel.format import Mode, structure_score
from worldmodel.pipeline import Answer, Pipeline
from worldmodel.verify import extract_numbers

METRICS = ("structure", "code_parses", "executed", "correct", "verified")
_GSM8K_GOLD = re.compile(r"####\s*(.+?)\s*$", re.S)


@dataclass(frozen=True)
class EvalItem:
    """One question with its gold answer."""

    id: str
    question: str
    expected: str
    check: str = "number"
    family: str = "all"
    holdout: str | None = None
    steps: int | None = None
    """Reasoning steps a solution takes (a record's `meta.steps`), when the file says."""


@dataclass
class ItemResult:
    """How one question went."""

    id: str
    family: str
    holdout: str | None
    structure: bool
    code_parses: bool
    executed: bool
    correct: bool
    verified: bool
    latency_s: float
    final: str | None
    expected: str
    why: str
    agreeing: int | None = None
    """Candidates that printed the chosen value, when the answer was voted on."""
    steps: int | None = None
    """The item's reasoning steps, when its file gives them."""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Any) -> ItemResult:
        """The inverse of `to_dict`; ValueError names what is missing or extra."""
        if not isinstance(data, dict):
            raise ValueError("an item result must be a JSON object")
        names = {f.name for f in fields(cls)}
        optional = {"agreeing", "steps"}  # journals and reports written before they existed
        missing = sorted(n for n in names if n not in data and n not in optional)
        extra = sorted(set(data) - names)
        if missing or extra:
            raise ValueError(f"item result: missing {missing}, unknown {extra}")
        return cls(**data)


@dataclass
class EvalReport:
    """Aggregated results of one evaluation run in one mode."""

    mode: Mode
    source: str
    count: int
    metrics: dict[str, float]
    mean_latency_s: float
    by_family: dict[str, dict[str, float]]
    by_holdout: dict[str, dict[str, float]]
    samples: int = 1
    """Candidates per question (1: the greedy answer; more: voted, see `pipeline.choose`)."""
    by_agreement: dict[str, dict[str, float]] = field(default_factory=dict)
    """When voted: rates by how many candidates agreed ("5 of 5", ...), most first. How far
    agreement can be trusted as a confidence."""
    by_steps: dict[str, dict[str, float]] = field(default_factory=dict)
    """Rates by reasoning steps ("1", "2", "3+"; see `steps_label`), over the items that give
    them; empty when none does."""
    skipped_lines: list[str] = field(default_factory=list)
    items: list[ItemResult] = field(default_factory=list)

    def to_dict(self, *, with_items: bool = True) -> dict[str, Any]:
        data = asdict(self)
        if not with_items:
            data.pop("items")
        return data


def load_items(path: Path) -> tuple[list[EvalItem], list[str]]:
    """Read evaluation items from `path`; returns (items, problems naming file:line)."""
    items: list[EvalItem] = []
    problems: list[str] = []
    for number, record, error in read_jsonl(path):
        where = f"{path}:{number}"
        item = _item_from(record, where) if error is None else f"{where}: {error}"
        if isinstance(item, str):
            problems.append(item)
        else:
            items.append(item)
    return items, problems


def _item_from(record: Any, where: str) -> EvalItem | str:
    if not isinstance(record, dict):
        return f"{where}: expected a JSON object"
    if "messages" in record:
        users = [
            m.get("content")
            for m in record.get("messages", [])
            if isinstance(m, dict) and m.get("role") == "user"
        ]
        if not users or not isinstance(users[0], str):
            return f"{where}: the record has no user message"
        expected = record.get("expected")
        if not isinstance(expected, str):
            return f"{where}: the record has no 'expected' answer"
        meta = record.get("meta")
        steps = meta.get("steps") if isinstance(meta, dict) else None
        if steps is not None and (not isinstance(steps, int) or isinstance(steps, bool)):
            return f"{where}: meta.steps must be a whole number, not {steps!r}"
        return EvalItem(
            id=str(record.get("id", where)),
            question=users[0],
            expected=expected,
            check=str(record.get("check", "number")),
            family=str(record.get("family", "all")),
            holdout=record.get("holdout"),
            steps=steps,
        )
    question, answer = record.get("question"), record.get("answer")
    if isinstance(question, str) and isinstance(answer, (str, int, float)):
        gold = str(answer)
        found = _GSM8K_GOLD.search(gold)
        gold = (found.group(1) if found else gold).replace(",", "").strip()
        return EvalItem(id=where, question=question, expected=gold, check="number")
    return f"{where}: expected a WorldModel record or a {{'question', 'answer'}} object"


def stratified(items: Sequence[EvalItem], limit: int | None) -> list[EvalItem]:
    """Up to `limit` items, taken round-robin across (family, holdout, steps) groups, in file
    order."""
    if limit is None or limit >= len(items):
        return list(items)
    groups: dict[tuple[str, str | None, str | None], list[EvalItem]] = defaultdict(list)
    for item in items:
        groups[(item.family, item.holdout, steps_label(item.steps))].append(item)
    queues = [list(reversed(group)) for group in groups.values()]
    chosen: list[EvalItem] = []
    while len(chosen) < limit:
        for queue in queues:
            if queue and len(chosen) < limit:
                chosen.append(queue.pop())
    return chosen


def is_correct(final: str | None, item: EvalItem) -> tuple[bool, str]:
    """Whether the executed value equals the gold answer (numbers within tolerance)."""
    if final is None:
        return False, "nothing was executed successfully"
    if item.check != "number":
        return matches(final, item.expected, item.check)
    wanted = extract_numbers(item.expected)
    got = extract_numbers(final)
    if len(wanted) != 1:
        return matches(final, item.expected, item.check)
    if not got:
        return False, f"printed {final!r}, expected the number {item.expected}"
    target, value = wanted[0].value, got[-1].value
    tolerance = max(1e-6 * abs(target), 10.0 ** -max(wanted[0].decimals, 2) / 2)
    if math.isclose(value, target, abs_tol=tolerance):
        return True, "number match"
    return False, f"printed {final!r}, expected {item.expected}"


def score(answer: Answer, item: EvalItem) -> ItemResult:
    """Score one answered question."""
    code = answer.response.code if answer.response else ()
    parses = bool(code) and all(_parses(block) for block in code)
    executed = bool(answer.executions) and all(result.ok for result in answer.executions)
    correct, why = is_correct(answer.final, item)
    return ItemResult(
        id=item.id,
        family=item.family,
        holdout=item.holdout,
        structure=structure_score(answer.generated).score == 3,
        code_parses=parses,
        executed=executed,
        correct=correct,
        verified=answer.verification.status == "verified",
        latency_s=answer.timings.get("total_s", 0.0),
        final=answer.final,
        expected=item.expected,
        why=why,
        agreeing=answer.vote.agreeing if answer.vote else None,
        steps=item.steps,
    )


def _parses(code: str) -> bool:
    try:
        ast.parse(code)
    except (SyntaxError, ValueError):
        return False
    return True


def evaluate(
    pipeline: Pipeline,
    items: Sequence[EvalItem],
    *,
    batch_size: int = 8,
    source: str = "",
    skipped_lines: Sequence[str] = (),
    on_progress: Callable[[int, int], None] | None = None,
    done: Sequence[ItemResult] = (),
    on_batch: Callable[[list[ItemResult]], None] | None = None,
) -> EvalReport:
    """Answer every item with `pipeline` (in batches) and aggregate the scores.

    `done`: results already scored for the first `len(done)` items, by an earlier run of the
    same evaluation (see `eval_run.EvalJournal`); they are kept and those items are not asked again.
    Batches start at `len(done)`, so a resumed run forms the same batches as an unbroken one
    when `len(done)` is a multiple of `batch_size`, as the journal's always is.
    `on_batch` receives each newly scored batch, in order.
    """
    if len(done) > len(items):
        raise ValueError(f"{len(done)} results already scored but only {len(items)} items")
    for result, item in zip(done, items, strict=False):
        if result.id != item.id:
            raise ValueError(f"scored result {result.id!r} is not for item {item.id!r}")
    results: list[ItemResult] = list(done)
    if on_progress:
        on_progress(len(results), len(items))  # the starting point: 0, or what was resumed
    for start in range(len(done), len(items), batch_size):
        batch = items[start : start + batch_size]
        answers = pipeline.answer_many([item.question for item in batch])
        scored = [score(answer, item) for item, answer in zip(batch, answers, strict=True)]
        results.extend(scored)
        if on_batch:
            on_batch(scored)
        if on_progress:
            on_progress(len(results), len(items))
    return aggregate(
        results,
        mode=pipeline.mode,
        source=source,
        skipped_lines=skipped_lines,
        samples=pipeline.samples,
    )


def aggregate(
    results: Sequence[ItemResult],
    *,
    mode: Mode,
    source: str = "",
    skipped_lines: Sequence[str] = (),
    samples: int = 1,
) -> EvalReport:
    """Rates overall, per family, per hold-out kind and per number of steps (where given)."""
    by_family: dict[str, list[ItemResult]] = defaultdict(list)
    by_holdout: dict[str, list[ItemResult]] = defaultdict(list)
    by_agreement: dict[int, list[ItemResult]] = defaultdict(list)
    by_steps: dict[str, list[ItemResult]] = defaultdict(list)
    for result in results:
        by_family[result.family].append(result)
        by_holdout[holdout_label(result.holdout)].append(result)
        if result.agreeing is not None:
            by_agreement[result.agreeing].append(result)
        label = steps_label(result.steps)
        if label is not None:
            by_steps[label].append(result)
    latencies = [result.latency_s for result in results]
    return EvalReport(
        mode=mode,
        source=source,
        count=len(results),
        metrics=_rates(results),
        mean_latency_s=round(sum(latencies) / len(latencies), 4) if latencies else 0.0,
        by_family={name: _rates(group) for name, group in sorted(by_family.items())},
        by_holdout={name: _rates(group) for name, group in sorted(by_holdout.items())},
        samples=samples,
        by_agreement={
            f"{agreeing} of {samples}": _rates(group)
            for agreeing, group in sorted(by_agreement.items(), reverse=True)
        },
        by_steps={label: _rates(group) for label, group in sorted(by_steps.items())},
        skipped_lines=list(skipped_lines),
        items=list(results),
    )


def steps_label(steps: int | None) -> str | None:
    """How reports group a number of steps: "1", "2", and "3+" for three or more (longer
    solutions are too few in a set of a few hundred to be measured one count at a time)."""
    if steps is None:
        return None
    return str(steps) if steps < 3 else "3+"


def _rates(results: Iterable[ItemResult]) -> dict[str, float]:
    results = list(results)
    if not results:
        return {metric: 0.0 for metric in METRICS} | {"count": 0}
    rates: dict[str, float] = {
        metric: round(sum(getattr(r, metric) for r in results) / len(results), 4)
        for metric in METRICS
    }
    rates["count"] = len(results)
    return rates


def better_mode(reports: Sequence[EvalReport]) -> Mode:
    """The mode with the higher verified rate (ties: higher accuracy, then 'after-execution')."""
    ranked = sorted(
        reports,
        key=lambda r: (r.metrics["verified"], r.metrics["correct"], r.mode == "after-execution"),
        reverse=True,
    )
    return ranked[0].mode
