"""Verification: the comparison rule, requirements, and rejection of wrong examples."""

from __future__ import annotations

import pytest

from sandbox.process import ProcessExecutor
from worldmodel.data.verify import VERIFY_LIMITS, matches, requirement_problems, verify_code
from worldmodel.format import DEFAULT_ALLOWED_MODULES


@pytest.fixture(scope="module")
def executor() -> ProcessExecutor:
    return ProcessExecutor(limits=VERIFY_LIMITS)


@pytest.mark.parametrize(
    ("stdout", "expected", "check", "ok"),
    [
        ("72\n", "72", "number", True),
        ("72.0\n", "72", "number", False),  # integers are exact
        ("71\n", "72", "number", False),
        ("3.1416\n", "3.14", "number", True),  # within one unit of the last decimal
        ("3.16\n", "3.14", "number", False),
        ("0.30000000000000004", "0.3", "number", True),
        ("Monday\n", "Monday", "exact", True),
        ("monday\n", "Monday", "exact", False),
        ("3.12.1\n", "3.x.y", "predicate:python_version", True),
        ("hello\n", "3.x.y", "predicate:python_version", False),
        ("4\n", ">= 1", "predicate:positive_int", True),
        ("0\n", ">= 1", "predicate:positive_int", False),
        ("x\n", "x", "fuzzy", False),
    ],
)
def test_matches_rule(stdout: str, expected: str, check: str, ok: bool) -> None:
    result, reason = matches(stdout, expected, check)
    assert result is ok, reason
    assert reason


def test_wrong_answer_is_rejected_with_a_reason(executor: ProcessExecutor) -> None:
    verdict = verify_code(
        executor, "total = 48 + 24\nprint(total + 1)\n", (), "72", "number", DEFAULT_ALLOWED_MODULES
    )
    assert not verdict.ok
    assert verdict.reason.startswith("wrong answer")
    assert "73" in verdict.reason and "72" in verdict.reason


def test_right_answer_passes_and_keeps_stdout(executor: ProcessExecutor) -> None:
    verdict = verify_code(
        executor,
        "import math\nprint(round(math.pi, 2))\n",
        ("math",),
        "3.14",
        "number",
        DEFAULT_ALLOWED_MODULES,
    )
    assert verdict.ok, verdict.reason
    assert verdict.stdout == "3.14\n"


def test_crashing_code_is_rejected(executor: ProcessExecutor) -> None:
    verdict = verify_code(executor, "print(1 / 0)\n", (), "1", "number", DEFAULT_ALLOWED_MODULES)
    assert not verdict.ok and "ZeroDivisionError" in verdict.reason


def test_requires_must_equal_imports_and_be_allowed() -> None:
    assert requirement_problems("import math\nprint(1)", ("math",), DEFAULT_ALLOWED_MODULES) == []
    missing = requirement_problems("import json\nprint(1)", (), DEFAULT_ALLOWED_MODULES)
    assert missing and "json" in missing[0]
    extra = requirement_problems("print(1)", ("math",), DEFAULT_ALLOWED_MODULES)
    assert extra and "never imported" in extra[0]
    banned = requirement_problems("import pandas", ("pandas",), DEFAULT_ALLOWED_MODULES)
    assert any("not allowed" in p for p in banned)


def test_default_executor_fails_closed(monkeypatch: pytest.MonkeyPatch) -> None:
    """Where the process sandbox's confinement does not hold, nothing is verified at all."""
    from sandbox import process
    from sandbox._capture import Captured
    from sandbox.executor import SandboxUnavailable
    from worldmodel.data.verify import default_executor

    unconfined = {"setup": {"network": "host", "why": "unshare refused: EPERM"}}
    monkeypatch.setattr(
        process,
        "run_launcher",
        lambda *a, **k: Captured(b"", b"", 0, False, False, None, 0.0, [unconfined]),
    )
    with pytest.raises(SandboxUnavailable, match="cannot verify: .*network namespace"):
        default_executor()


def test_default_executor_runs_confined() -> None:
    from worldmodel.data.verify import default_executor

    result = default_executor().run("print(2 + 2)")
    assert result.stdout == "4\n" and result.details["host_files"] == "read-only"
