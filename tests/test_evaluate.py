"""Evaluation: reading gold answers, scoring answers, aggregating, choosing the better mode."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sandbox.process import ProcessExecutor
from worldmodel.evaluate import (
    EvalItem,
    aggregate,
    better_mode,
    evaluate,
    is_correct,
    load_items,
    stratified,
)
from worldmodel.pipeline import Pipeline

GOOD = """<think>Multiply.</think>
<model>
print(6 * 7)
</model>
<requires>python:math</requires>

The answer is 42."""


def test_load_items_reads_both_shapes_and_reports_bad_lines(tmp_path: Path) -> None:
    path = tmp_path / "mixed.jsonl"
    record = {
        "messages": [
            {"role": "user", "content": "6 times 7?"},
            {"role": "assistant", "content": GOOD},
        ],
        "id": "mul-1",
        "expected": "42",
        "check": "number",
        "family": "arithmetic",
        "holdout": "values",
    }
    lines = [
        json.dumps(record),
        '{"question": "How many?", "answer": "Steps...\\n#### 1,234"}',
        "{not json",
        json.dumps({"messages": []}),
        "",
        json.dumps([1, 2]),
    ]
    path.write_text("\n".join(lines) + "\n")
    items, problems = load_items(path)
    assert [i.id for i in items] == ["mul-1", f"{path}:2"]
    assert items[0].family == "arithmetic" and items[0].holdout == "values"
    assert items[1].expected == "1234"
    assert [p.split(": ", 1)[0] for p in problems] == [f"{path}:3", f"{path}:4", f"{path}:6"]
    assert "bad JSON" in problems[0]


def test_stratified_sample_covers_every_group() -> None:
    items = [EvalItem(f"a{i}", "q", "1", family="a") for i in range(50)]
    items += [EvalItem(f"b{i}", "q", "1", family="b", holdout="phrasing") for i in range(3)]
    chosen = stratified(items, 6)
    assert len(chosen) == 6
    assert {i.family for i in chosen} == {"a", "b"}
    assert stratified(items, None) == items


@pytest.mark.parametrize(
    ("final", "expected", "check", "ok"),
    [
        ("42", "42", "number", True),
        ("42.0", "42", "number", True),
        ("41.99999999", "42", "number", True),
        ("43", "42", "number", False),
        ("3.14159", "3.14", "number", True),
        ("olleh", "olleh", "exact", True),
        ("hello", "olleh", "exact", False),
        (None, "42", "number", False),
    ],
)
def test_is_correct(final: str | None, expected: str, check: str, ok: bool) -> None:
    assert is_correct(final, EvalItem("x", "q", expected, check))[0] is ok


class ByQuestion:
    """Answers each question from a table: the model seam, with texts chosen by the test."""

    def __init__(self, table: dict[str, str]):
        self.table = table

    def complete(self, questions, prefixes=None, *, stop_at="end"):
        return [self.table[q] for q in questions]


TABLE = {
    "right": GOOD,
    "wrong claim": GOOD.replace("is 42", "is 40"),
    "wrong value": GOOD.replace("6 * 7", "6 * 8"),
    "crash": GOOD.replace("6 * 7", "1 / 0"),
    "no tags": "It is 42.",
}


def test_evaluate_scores_real_executions() -> None:
    table = {key: text for key, text in TABLE.items() if key != "wrong value"}
    items = [EvalItem(q, q, "42", family="f" if q != "crash" else "g") for q in table]
    executor = ProcessExecutor()
    try:
        report = evaluate(Pipeline(ByQuestion(table), executor), items, batch_size=3)
    finally:
        executor.close()
    by_id = {r.id: r for r in report.items}
    assert by_id["right"].correct and by_id["right"].verified and by_id["right"].structure
    assert by_id["wrong claim"].correct and not by_id["wrong claim"].verified
    assert not by_id["crash"].executed and not by_id["crash"].correct
    assert by_id["crash"].code_parses
    assert not by_id["no tags"].structure and not by_id["no tags"].code_parses
    assert report.metrics["correct"] == 0.5
    assert report.metrics["verified"] == 0.25
    assert report.by_family["g"]["count"] == 1
    assert report.count == 4


def test_a_voted_evaluation_reports_accuracy_by_agreement() -> None:
    class Sampling:
        """Greedy: the table's text; sampled: a right answer for "right", a crash otherwise."""

        def complete(self, questions, prefixes=None, *, stop_at="end", temperature=None):
            if temperature is None:
                return [TABLE[q] for q in questions]
            return [GOOD if q == "right" else TABLE["crash"] for q in questions]

    items = [EvalItem(q, q, "42") for q in ("right", "wrong value", "crash")]
    executor = ProcessExecutor()
    try:
        report = evaluate(Pipeline(Sampling(), executor, samples=3), items)
    finally:
        executor.close()
    assert report.samples == 3
    assert {r.id: r.agreeing for r in report.items} == {"right": 3, "wrong value": 1, "crash": 0}
    assert list(report.by_agreement) == ["3 of 3", "1 of 3", "0 of 3"]
    assert report.by_agreement["3 of 3"]["correct"] == 1.0
    assert report.by_agreement["1 of 3"]["correct"] == 0.0


def test_better_mode_prefers_verified_rate() -> None:
    plain = aggregate([], mode="plain")
    after = aggregate([], mode="after-execution")
    plain.metrics.update(verified=0.5, correct=0.9)
    after.metrics.update(verified=0.8, correct=0.8)
    assert better_mode([plain, after]) == "after-execution"
    after.metrics.update(verified=0.4)
    assert better_mode([plain, after]) == "plain"
