"""Verification of training examples: run the code, compare stdout with an independent answer.

The comparison rule lives in one function, `matches(stdout, expected, check)`:

- `"number"`: stdout (stripped) must be one number. If `expected` is an integer literal
  ("72", "-3"), stdout must be the same integer literal: exact, so "72.0" does not match "72".
  If `expected` is a float literal, the two match when
  |got - expected| <= max(1e-9, 1e-6 * |expected|, 10 ** -d), where d is the number of
  decimals written in `expected` (so a value rounded at a different last step still matches,
  but a wrong value does not).
- `"exact"`: stdout and `expected` are equal after stripping surrounding whitespace and
  trailing whitespace on each line.
- `"predicate:<name>"`: for answers that depend on the machine or the clock (Python version,
  OS, CPU count, today's year); `PREDICATES[name]` decides using `expected` as its argument and
  values computed here, independently of the code.

`verify_code` also checks the code's imports against its `<requires>` (they must be equal,
`python:builtins` standing for "imports nothing") and against the sandbox's allowed modules.
Failures are data (`Verdict`), never exceptions.
This module does not generate examples or write files.
"""

from __future__ import annotations

import ast
import datetime
import re
import sys
from collections.abc import Callable, Collection
from dataclasses import dataclass

from sandbox.executor import ExecutionResult, Executor, Limits, SandboxUnavailable
from worldmodel.format import BUILTINS_REQUIREMENT

VERIFY_LIMITS = Limits(wall_time_s=10.0, cpu_time_s=10.0, memory_mb=512)
"""Limits for running one example; generous, since examples are small and CPUs are shared."""

_INT = re.compile(r"[-+]?\d+")
_FLOAT = re.compile(r"[-+]?(\d+\.\d*|\.\d+|\d+)([eE][-+]?\d+)?")


def _python_version(stdout: str, expected: str) -> bool:
    return re.fullmatch(r"3\.\d+\.\d+", stdout) is not None


def _os_name(stdout: str, expected: str) -> bool:
    return stdout in expected.split("|")


def _positive_int(stdout: str, expected: str) -> bool:
    return _INT.fullmatch(stdout) is not None and int(stdout) >= 1


def _years_since(stdout: str, expected: str) -> bool:
    # The clock may tick over a new year between running the code and checking it.
    today = datetime.date.today().year
    allowed = {str(today - int(expected)), str(today - 1 - int(expected))}
    return stdout in allowed


PREDICATES: dict[str, tuple[str, Callable[[str, str], bool]]] = {
    "python_version": ("a version string 3.<minor>.<micro>", _python_version),
    "os_name": ("one of the '|'-separated OS names in expected", _os_name),
    "positive_int": ("an integer >= 1", _positive_int),
    "years_since": ("the current year minus the year in expected", _years_since),
}
"""Named checks for non-deterministic answers: name -> (description, predicate)."""


def _decimals(literal: str) -> int:
    mantissa = literal.lower().split("e")[0]
    return len(mantissa.split(".")[1]) if "." in mantissa else 0


def matches(stdout: str, expected: str, check: str = "number") -> tuple[bool, str]:
    """Whether `stdout` is the expected answer under rule `check`; the reason says why not."""
    got = "\n".join(line.rstrip() for line in stdout.strip().splitlines())
    want = "\n".join(line.rstrip() for line in expected.strip().splitlines())
    if check == "exact":
        if got == want:
            return True, "exact match"
        return False, f"printed {got!r}, expected {want!r}"
    if check == "number":
        if _INT.fullmatch(want):
            if _INT.fullmatch(got) and int(got) == int(want):
                return True, "integer match"
            return False, f"printed {got!r}, expected the integer {want}"
        if not _FLOAT.fullmatch(want):
            return False, f"expected value {want!r} is not a number"
        if not _FLOAT.fullmatch(got):
            return False, f"printed {got!r}, expected a number close to {want}"
        a, b = float(got), float(want)
        tolerance = max(1e-9, 1e-6 * abs(b), 10.0 ** -_decimals(want))
        if abs(a - b) <= tolerance:
            return True, f"within {tolerance:g} of {want}"
        return False, f"printed {got}, expected {want} (tolerance {tolerance:g})"
    if check.startswith("predicate:"):
        name = check.split(":", 1)[1]
        if name not in PREDICATES:
            return False, f"unknown predicate {name!r}"
        description, predicate = PREDICATES[name]
        if predicate(got, want):
            return True, f"predicate {name}: {description}"
        return False, f"printed {got!r}, which is not {description} ({want})"
    return False, f"unknown check rule {check!r}"


def imported_modules(code: str) -> set[str] | str:
    """Top-level module names the code imports, or a reason string if it does not parse."""
    try:
        tree = ast.parse(code)
    except SyntaxError as exc:
        return f"code does not parse: {exc.msg} (line {exc.lineno})"
    modules: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            modules.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            modules.add(node.module.split(".")[0])
    return modules


def requirement_problems(
    code: str, requires: Collection[str], allowed: Collection[str]
) -> list[str]:
    """Why the code's imports and its requirements disagree, or [] when they are equal."""
    imports = imported_modules(code)
    if isinstance(imports, str):
        return [imports]
    problems = []
    # "builtins" is the explicit "imports nothing" declaration; it is never imported.
    declared = set(requires) - {BUILTINS_REQUIREMENT.module}
    if imports - declared:
        problems.append(f"imports {', '.join(sorted(imports - declared))} not listed in <requires>")
    if declared - imports:
        problems.append(f"<requires> lists {', '.join(sorted(declared - imports))} never imported")
    unknown = sorted(m for m in set(requires) if m not in allowed)
    if unknown:
        problems.append(f"modules not allowed in the sandbox: {', '.join(unknown)}")
    return problems


@dataclass(frozen=True)
class Verdict:
    """The outcome of verifying one example."""

    ok: bool
    reason: str
    """Why it passed (the rule that matched) or failed (a short category, then details)."""
    stdout: str = ""


def judge(result: ExecutionResult, expected: str, check: str) -> Verdict:
    """Turn one execution into a verdict under the comparison rule."""
    if not result.ok:
        return Verdict(False, f"code failed: {result.describe_failure()}", result.stdout)
    ok, why = matches(result.stdout, expected, check)
    return Verdict(ok, why if ok else f"wrong answer: {why}", result.stdout)


def verify_code(
    executor: Executor,
    code: str,
    requires: Collection[str],
    expected: str,
    check: str,
    allowed: Collection[str],
) -> Verdict:
    """Check requirements, run `code` in `executor` and compare its stdout with `expected`."""
    problems = requirement_problems(code, requires, allowed)
    if problems:
        return Verdict(False, "requirements: " + "; ".join(problems))
    return judge(executor.run(code, limits=VERIFY_LIMITS), expected, check)


def default_executor() -> Executor:
    """The process sandbox with this interpreter; verification always runs code sandboxed.

    Raises `SandboxUnavailable` (saying that nothing can be verified) when it cannot start or
    any of its confinements does not hold here: one empty run checks that up front, so a
    build fails at once rather than on its first example.
    """
    from sandbox.process import ProcessExecutor

    try:
        executor = ProcessExecutor(limits=VERIFY_LIMITS, python=sys.executable)
        executor.check()
    except SandboxUnavailable as exc:
        raise SandboxUnavailable(f"cannot verify: {exc}") from exc
    return executor
