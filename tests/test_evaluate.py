"""Evaluation: reading gold answers, scoring answers, aggregating, choosing the better mode,
and the journal a killed run resumes from (`worldmodel.eval_run`)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sandbox.process import ProcessExecutor
from worldmodel.errors import DataError
from worldmodel.eval_run import EvalJournal, run_identity
from worldmodel.evaluate import (
    EvalItem,
    ItemResult,
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


def test_load_items_reads_the_number_of_steps_and_refuses_a_bad_one(tmp_path: Path) -> None:
    path = tmp_path / "dev.jsonl"
    base = {"messages": [{"role": "user", "content": "q"}], "expected": "1"}
    lines = [
        {**base, "id": "a", "meta": {"steps": 2, "kind": "rate"}},
        {**base, "id": "b"},
        {**base, "id": "c", "meta": {"steps": "two"}},
        {**base, "id": "d", "meta": {"steps": True}},
    ]
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))
    items, problems = load_items(path)
    assert [(i.id, i.steps) for i in items] == [("a", 2), ("b", None)]
    assert [p.split(": ", 1)[0] for p in problems] == [f"{path}:3", f"{path}:4"]
    assert "meta.steps must be a whole number" in problems[0]


def _result(id_: str, correct: bool, steps: int | None) -> ItemResult:
    return ItemResult(
        id=id_,
        family="dev",
        holdout=None,
        structure=True,
        code_parses=True,
        executed=True,
        correct=correct,
        verified=correct,
        latency_s=1.0,
        final="1",
        expected="1",
        why="",
        steps=steps,
    )


def test_a_report_gives_accuracy_by_steps_with_three_or_more_together() -> None:
    results = [
        _result("a", True, 1),
        _result("b", False, 1),
        _result("c", True, 2),
        _result("d", True, 3),
        _result("e", False, 4),
        _result("f", False, 6),
    ]
    report = aggregate(results, mode="plain")
    assert list(report.by_steps) == ["1", "2", "3+"]
    assert report.by_steps["1"]["correct"] == 0.5 and report.by_steps["1"]["count"] == 2
    assert report.by_steps["2"]["correct"] == 1.0
    assert report.by_steps["3+"]["count"] == 3
    assert report.by_steps["3+"]["correct"] == round(1 / 3, 4)
    # Items without steps (the data splits, GSM8K) leave it out rather than inventing a group.
    assert aggregate([_result("x", True, None)], mode="plain").by_steps == {}
    # A journal written before items carried steps still reads.
    old = {k: v for k, v in results[0].to_dict().items() if k not in ("steps", "agreeing")}
    assert ItemResult.from_dict(old).steps is None


def test_stratified_sample_covers_every_group() -> None:
    items = [EvalItem(f"a{i}", "q", "1", family="a") for i in range(50)]
    items += [EvalItem(f"b{i}", "q", "1", family="b", holdout="phrasing") for i in range(3)]
    chosen = stratified(items, 6)
    assert len(chosen) == 6
    assert {i.family for i in chosen} == {"a", "b"}
    assert stratified(items, None) == items
    by_steps = [EvalItem(f"s{i}", "q", "1", family="d", steps=1) for i in range(20)]
    by_steps += [EvalItem(f"t{i}", "q", "1", family="d", steps=i % 3 + 2) for i in range(9)]
    assert {min(i.steps, 3) for i in stratified(by_steps, 3)} == {1, 2, 3}


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


class Killed(Exception):
    """Stands in for the kill that stops an evaluation part way."""


class Counting(ByQuestion):
    """Answers from the table; records every question asked; dies on call number `die_at`."""

    def __init__(self, table: dict[str, str], die_at: int | None = None):
        super().__init__(table)
        self.asked: list[str] = []
        self.calls = 0
        self.die_at = die_at

    def complete(self, questions, prefixes=None, *, stop_at="end"):
        self.calls += 1
        if self.calls == self.die_at:
            raise Killed
        self.asked += questions
        return super().complete(questions, prefixes, stop_at=stop_at)


def _journaled(journal: EvalJournal, items, completer, done=(), file="q"):  # type: ignore[no-untyped-def]
    executor = ProcessExecutor()
    try:
        return evaluate(
            Pipeline(completer, executor),
            items,
            batch_size=2,
            done=done,
            on_batch=lambda scored: journal.append(file, "plain", scored, {"looped": 1}),
        )
    finally:
        executor.close()


def _stable(result: ItemResult) -> dict:  # type: ignore[type-arg]
    return {k: v for k, v in result.to_dict().items() if k != "latency_s"}


def test_a_killed_evaluation_resumes_from_its_journal_and_asks_only_the_rest(
    tmp_path: Path,
) -> None:
    questions = tmp_path / "q.jsonl"
    questions.write_text("{}\n")
    keys = ["right", "wrong claim", "wrong value", "crash", "no tags"]
    items = [EvalItem(f"id-{n}", key, "42") for n, key in enumerate(keys)]
    run = run_identity([(questions, items)], None, batch_size=2)
    key = run["files"][0]["file"]
    journal = EvalJournal(EvalJournal.beside(tmp_path / "report.json"), run)
    assert journal.path == tmp_path / "report.json.journal.jsonl"
    journal.start()
    with pytest.raises(Killed):  # the third batch never finishes
        _journaled(journal, items, Counting(TABLE, die_at=3), file=key)
    # A kill while the next line was being written leaves half a line: it is dropped.
    with journal.path.open("a") as handle:
        handle.write('{"file": "q", "mode": "plain", "results": [{"id": "id-4"')

    again = EvalJournal(journal.path, run_identity([(questions, items)], None, batch_size=2))
    parts = again.resume()
    assert list(parts) == [(key, "plain")]
    done = parts[(key, "plain")]
    assert [r.id for r in done.results] == ["id-0", "id-1", "id-2", "id-3"]
    assert done.steered == {"looped": 2}  # one per journaled batch
    assert journal.path.read_bytes().endswith(b"}\n")  # the torn line is gone from the file
    second = Counting(TABLE)
    report = _journaled(again, items, second, done=done.results, file=key)
    assert second.asked == ["no tags"]  # only the question the killed run had not scored
    unbroken = _journaled(EvalJournal(tmp_path / "other.jsonl", run), items, Counting(TABLE))
    assert [_stable(r) for r in report.items] == [_stable(r) for r in unbroken.items]
    assert report.count == 5 and report.metrics == unbroken.metrics
    assert len(again.resume()[(key, "plain")].results) == 5  # the resumed batch was journaled
    again.finish()
    assert not journal.path.exists()


def test_a_journal_from_another_run_is_refused_naming_what_changed(tmp_path: Path) -> None:
    questions = tmp_path / "q.jsonl"
    questions.write_text("{}\n")
    items = [EvalItem("a", "right", "42"), EvalItem("b", "crash", "42")]
    dev = tmp_path / "dev.jsonl"
    dev.write_text("{}\n")
    path = tmp_path / "r.journal.jsonl"
    EvalJournal(path, run_identity([(questions, items)], None, batch_size=2)).start()

    with pytest.raises(DataError, match=r"batch_size 2 -> 4.*delete it to start over"):
        EvalJournal(path, run_identity([(questions, items)], None, batch_size=4)).resume()
    with pytest.raises(DataError, match=r"q.jsonl: ids_sha256"):
        EvalJournal(path, run_identity([(questions, items[:1])], None, batch_size=2)).resume()
    with pytest.raises(DataError, match=r"files \[.*q.jsonl'\] -> \[.*q.jsonl', .*dev.jsonl'\]"):
        both = [(questions, items), (dev, items)]
        EvalJournal(path, run_identity(both, None, batch_size=2)).resume()
    questions.write_text("{}\n{}\n")  # the questions' file was edited since
    with pytest.raises(DataError, match=r"q.jsonl: file_sha256"):
        EvalJournal(path, run_identity([(questions, items)], None, batch_size=2)).resume()
    path.write_text('{"journal": 2, "run": {}}\n{"mode": "plain"}\n')
    with pytest.raises(DataError, match=r"r.journal.jsonl:2: .*results"):
        EvalJournal(path, {}).resume()
    path.write_text("")
    with pytest.raises(DataError, match="no run line"):
        EvalJournal(path, {}).resume()


def test_a_journal_keeps_each_files_batches_apart(tmp_path: Path) -> None:
    test, dev = tmp_path / "test.jsonl", tmp_path / "dev.jsonl"
    test.write_text("{}\n")
    dev.write_text("{}\n{}\n")
    items = [EvalItem("a", "right", "42"), EvalItem("b", "crash", "42")]
    run = run_identity([(test, items), (dev, items[:1])], None, batch_size=2)
    journal = EvalJournal(tmp_path / "r.journal.jsonl", run)
    journal.start()
    test_key, dev_key = (f["file"] for f in run["files"])
    _journaled(journal, items, Counting(TABLE), file=test_key)
    _journaled(journal, items[:1], Counting(TABLE), file=dev_key)
    parts = EvalJournal(journal.path, run).resume()
    assert [r.id for r in parts[(test_key, "plain")].results] == ["a", "b"]
    assert [r.id for r in parts[(dev_key, "plain")].results] == ["a"]


def test_a_version_1_journal_resumes_as_the_one_file_it_was_for(tmp_path: Path) -> None:
    # Written by wm before several files: the file's keys beside the settings, no "file" per
    # batch. A run killed then resumes after an upgrade as if journaled now.
    questions = tmp_path / "q.jsonl"
    questions.write_text("{}\n")
    items = [EvalItem("a", "right", "42"), EvalItem("b", "crash", "42")]
    run = run_identity([(questions, items)], None, batch_size=2)
    old_run = {**run.pop("files")[0], **run}
    journal = EvalJournal(tmp_path / "r.journal.jsonl", {})
    journal.path.write_text(json.dumps({"journal": 1, "run": old_run}) + "\n")
    _journaled(journal, items[:1], Counting(TABLE))
    lines = journal.path.read_text().splitlines()
    batch = json.loads(lines[1])
    del batch["file"]
    journal.path.write_text(lines[0] + "\n" + json.dumps(batch) + "\n")
    again = EvalJournal(journal.path, run_identity([(questions, items)], None, batch_size=2))
    parts = again.resume()
    assert [r.id for r in parts[(str(questions.resolve()), "plain")].results] == ["a"]
    with pytest.raises(DataError, match="batch_size 2 -> 4"):
        EvalJournal(journal.path, run_identity([(questions, items)], None, batch_size=4)).resume()


def test_resumed_results_must_be_those_of_the_first_items() -> None:
    items = [EvalItem("a", "right", "42"), EvalItem("b", "crash", "42")]
    executor = ProcessExecutor()
    try:
        report = evaluate(Pipeline(ByQuestion(TABLE), executor), items[:1])
        with pytest.raises(ValueError, match="not for item 'b'"):
            evaluate(Pipeline(ByQuestion(TABLE), executor), items[1:], done=report.items)
    finally:
        executor.close()
