"""Re-verifying dataset files line by line, as `wm data check` does.

Every line is checked on its own and every problem is reported with file and line; a bad line
never stops the check. Problems found, in order: the line is not JSON; a required field is
missing; the assistant text does not parse or lacks a well-formed `<think>` or `<model>`
(and `<requires>` whenever the code imports anything); the code's imports and `<requires>`
disagree or name a module the sandbox lacks; the code fails or prints a wrong answer (rule:
`verify.matches`); the split or hold-out is unknown; a hold-out promise is broken across the
files (`splits.leaks`). This module does not fix or rewrite files.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from sandbox.executor import Executor
from worldmodel.data.record import HOLDOUTS, SPLITS, missing_fields, read_jsonl
from worldmodel.data.splits import leaks
from worldmodel.data.verify import VERIFY_LIMITS, judge, requirement_problems
from worldmodel.errors import FormatError
from worldmodel.format import DEFAULT_ALLOWED_MODULES, check_requirements, parse, structure_score


@dataclass(frozen=True)
class Problem:
    """One thing wrong with one line of a dataset file."""

    file: str
    line: int
    kind: str
    """bad-json, missing-field, format, requirements, code-failed, wrong-answer, split, leak."""
    message: str
    id: str | None = None

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.kind}: {self.message}"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class CheckResult:
    """Lines checked and problems found."""

    lines: int
    problems: list[Problem]

    @property
    def ok(self) -> bool:
        return not self.problems


def _static_problems(
    file: str, line: int, record: dict[str, Any]
) -> tuple[list[Problem], str | None]:
    """Problems found without running code, and the code to run (None if it cannot run)."""
    rid = record.get("id") if isinstance(record.get("id"), str) else None

    def problem(kind: str, message: str) -> Problem:
        return Problem(file, line, kind, message, rid)

    missing = missing_fields(record)
    if missing:
        return [problem("missing-field", f"missing or malformed: {', '.join(missing)}")], None
    problems = []
    if record["split"] not in SPLITS:
        problems.append(problem("split", f"unknown split {record['split']!r}"))
    if record["holdout"] not in HOLDOUTS:
        problems.append(problem("split", f"unknown holdout {record['holdout']!r}"))
    text = record["messages"][1]["content"]
    try:
        response = parse(text)
    except FormatError as exc:
        return [*problems, problem("format", f"assistant text does not parse: {exc}")], None
    score = structure_score(text)
    if not score.think:
        problems.append(problem("format", "missing or malformed <think> block"))
    if not score.model or len(response.code) != 1:
        problems.append(
            problem(
                "format",
                f"needs exactly one well-formed <model> block (found {len(response.code)})",
            )
        )
        return problems, None
    if response.warnings:
        problems.append(problem("format", f"needs repair: {response.warnings[0]}"))
    code = response.code[0]
    modules = [r.module for r in response.requirements if r.language == "python"]
    req_problems = check_requirements(response, DEFAULT_ALLOWED_MODULES)
    req_problems += requirement_problems(code, modules, DEFAULT_ALLOWED_MODULES)
    if not score.requires:
        req_problems.append(
            "missing or malformed <requires> block (code that imports nothing declares "
            "python:builtins)"
        )
    problems.extend(problem("requirements", p) for p in req_problems)
    if not response.answer.strip():
        problems.append(problem("format", "no prose answer after the blocks"))
    return problems, code


def check_files(
    paths: Sequence[Path],
    executor: Executor | None,
    *,
    workers: int = 2,
    run_code: bool = True,
    progress: Callable[[int, int], None] | None = None,
) -> CheckResult:
    """Check every line of every file; runs each record's code unless `run_code` is False.

    `executor` runs that code; it may be None only with `run_code=False`.
    """
    problems: list[Problem] = []
    to_run: list[tuple[str, int, dict[str, Any], str]] = []
    located: dict[str, tuple[str, int]] = {}
    records: list[dict[str, Any]] = []
    lines = 0
    for path in paths:
        file = str(path)
        for number, record, error in read_jsonl(path):
            lines += 1
            if record is None:
                kind = "not-utf8" if (error or "").startswith("not UTF-8") else "bad-json"
                problems.append(Problem(file, number, kind, error or "bad JSON"))
                continue
            found, code = _static_problems(file, number, record)
            problems.extend(found)
            if not any(p.kind == "missing-field" for p in found):
                records.append(record)
                located.setdefault(str(record["id"]), (file, number))
            if code is not None and run_code:
                to_run.append((file, number, record, code))

    def run(item: tuple[str, int, dict[str, Any], str]) -> Problem | None:
        file, number, record, code = item
        assert executor is not None, "run_code needs an executor"
        verdict = judge(
            executor.run(code, limits=VERIFY_LIMITS), str(record["expected"]), str(record["check"])
        )
        if verdict.ok:
            return None
        kind = "wrong-answer" if verdict.reason.startswith("wrong answer") else "code-failed"
        return Problem(file, number, kind, verdict.reason, record.get("id"))

    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        for done, failure in enumerate(pool.map(run, to_run), start=1):
            if failure:
                problems.append(failure)
            if progress:
                progress(done, len(to_run))
    for record_id, message in leaks(records):
        file, number = located.get(record_id, ("?", 0))
        problems.append(Problem(file, number, "leak", message, record_id))
    problems.sort(key=lambda p: (p.file, p.line, p.kind))
    return CheckResult(lines, problems)
