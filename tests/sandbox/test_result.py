"""How a failed execution is described: one wording for the pipeline, the data verifier and the
<output> block the model reads."""

from __future__ import annotations

import pytest

from sandbox.executor import ExecutionResult
from worldmodel.data.verify import judge
from worldmodel.format import output_block
from worldmodel.pipeline import execution_output


@pytest.mark.parametrize(
    ("result", "reason", "described"),
    [
        (ExecutionResult("30\n", "", 0), None, None),
        (
            ExecutionResult("", "Traceback ...\nZeroDivisionError: division by zero\n", 1),
            "exit code 1",
            "exit code 1 (ZeroDivisionError: division by zero)",
        ),
        (ExecutionResult("", "", -9, timed_out=True), "timed out", "timed out"),
        (ExecutionResult("", "", -9, memory_exceeded=True), "ran out of memory", None),
        (ExecutionResult("", "no python3", None), "never started", "never started (no python3)"),
    ],
)
def test_failure_is_described_once(result, reason, described) -> None:
    assert result.reason == reason
    assert result.describe_failure() == (described or reason)
    verdict = judge(result, "30", "exact")
    assert verdict.ok is (reason is None)
    if reason is not None:
        assert verdict.reason == f"code failed: {result.describe_failure()}"
        block = output_block(execution_output([result]))
        assert f"error: {reason}" in block


def test_output_block_keeps_stdout_before_the_error() -> None:
    result = ExecutionResult("partial\n", "Traceback\nValueError: bad\n", 1)
    assert output_block(execution_output([result])) == (
        "<output>\npartial\nerror: exit code 1\nValueError: bad\n</output>\n"
    )
