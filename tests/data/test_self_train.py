"""Self-training (`worldmodel.data.self_train`): which candidates are kept, the records they
become, a killed run resumed, and the trainer reading the stream. Candidates come from a real
plain-mode pipeline over a scripted completer and the process sandbox; the job-system path is
compared with this one in tests/workers/test_queries.py."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from worldmodel.data import self_train
from worldmodel.data.check import check_files
from worldmodel.errors import ConfigError, DataError
from worldmodel.pipeline import Pipeline

THINK = "<think>Work it out.</think>\n"


def _response(code: str, prose: str, requires: str = "python:builtins") -> str:
    return f"{THINK}<model>\n{code}\n</model>\n<requires>{requires}</requires>\n\n{prose}"


class Script:
    """A completer answering from a table: question -> [greedy text, sampled texts...]."""

    def __init__(self, table: dict[str, list[str]]):
        self.table = table
        self.asked: list[str] = []
        self.sampled: dict[str, int] = {}

    def complete(
        self,
        questions: list[str],
        prefixes: list[str] | None = None,
        *,
        stop_at: str = "end",
        temperature: float | None = None,
    ) -> list[str]:
        texts = []
        for question in questions:
            if temperature is None:
                self.asked.append(question)
                texts.append(self.table[question][0])
            else:
                n = self.sampled.get(question, 0) + 1
                self.sampled[question] = n
                texts.append(self.table[question][n])
        return texts


def _record(n: int, question: str, expected: str, split: str = "train") -> dict[str, Any]:
    return {
        "messages": [{"role": "user", "content": question}, {"role": "assistant", "content": ""}],
        "id": f"q-{n}",
        "family": "word_problems",
        "template": "change",
        "phrasing": 0,
        "source": "generated",
        "expected": expected,
        "output": expected + "\n",
        "check": "number",
        "split": split,
        "holdout": None,
        "meta": {"steps": 1},
    }


TABLE = {
    # Greedy wrong (its prose states the gold answer, which does not make it right); one
    # sample right; the other sample the same program, spaced differently.
    "Ann has 40 pens and buys 2 more. How many?": [
        _response("pens = 40 - 2\nprint(pens)", "She has 42 pens."),
        _response("pens = 40 + 2\nprint(pens)", "She has 42 pens."),
        _response("pens = 40  +  2\nprint(pens)", "She has 42 pens."),
    ],
    # Greedy right; a sample right with another program; a sample whose prose is wrong.
    "Bo has 9 cups and breaks 4. How many are left?": [
        _response("left = 9 - 4\nprint(left)", "Bo has 5 cups left."),
        _response("cups = 9\nbroken = 4\nprint(cups - broken)", "5 cups are left."),
        _response("left = 9 - 4\nprint(left)", "Bo has 6 cups left."),
    ],
    # Nothing right: an import it does not declare, a crash, no code at all.
    "Cy reads 3 books a week for 4 weeks. How many books?": [
        _response("import math\nprint(math.prod([3, 4]))", "12 books."),
        _response("print(3 * 4 / 0)", "12 books."),
        "<think>12.</think>\n\n12 books.",
    ],
}


def _questions(tmp_path: Path) -> Path:
    path = tmp_path / "train.jsonl"
    lines = [_record(n, q, e) for n, (q, e) in enumerate(zip(TABLE, ["42", "5", "12"]))]
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))
    return path


@pytest.fixture
def executor():  # type: ignore[no-untyped-def]
    from sandbox.process import ProcessExecutor

    made = ProcessExecutor()
    yield made
    made.close()


def test_only_clean_verified_distinct_programs_are_kept(tmp_path: Path, executor) -> None:  # type: ignore[no-untyped-def]
    questions, skipped = self_train.select_questions(_questions(tmp_path))
    assert len(questions) == 3 and skipped == []
    script = Script(TABLE)
    pipeline = Pipeline(script, executor, mode="plain", samples=3, temperature=0.7)
    out = tmp_path / "self" / "train.jsonl"
    report = self_train.self_train(
        questions, pipeline.attempt_many, executor, out, provenance={"model": "test"}
    )
    assert report.to_dict() == {
        "questions": 3,
        "solved": 2,
        "solved_greedy": 1,
        "gained_by_sampling": 1,
        "kept": 3,
        "outcomes": {
            "kept": 3,
            "duplicate": 1,
            "wrong answer": 1,
            self_train.PROSE_MISMATCH: 1,
            "requirements": 1,
            "code failed": 1,
            "no code block": 1,
        },
        "skipped": 0,
    }
    records = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["id"] for r in records] == ["self-q-0-0", "self-q-1-0", "self-q-1-1"]
    first = records[0]
    assert (first["source"], first["split"], first["holdout"]) == ("self", "train", None)
    assert first["output"] == "42\n" and first["expected"] == "42"
    assert first["meta"]["self_train"] == {"from": "q-0", "candidate": 1, "model": "test"}
    assert first["meta"]["steps"] == 1  # the question's own meta stays
    assert "pens = 40 + 2" in first["messages"][1]["content"]
    # The stream is data like any other: every record passes `wm data check`, code run again.
    assert check_files([out], executor).problems == []


def test_a_killed_run_resumes_with_the_questions_not_done(tmp_path: Path, executor) -> None:  # type: ignore[no-untyped-def]
    questions, _ = self_train.select_questions(_questions(tmp_path))
    pipeline = Pipeline(Script(TABLE), executor, mode="plain", samples=3, temperature=0.7)
    out = tmp_path / "stream.jsonl"
    calls: list[list[str]] = []

    def dying(batch: Any) -> Any:
        if calls:
            raise KeyboardInterrupt
        calls.append(list(batch))
        return pipeline.attempt_many(batch)

    with pytest.raises(KeyboardInterrupt):
        self_train.self_train(questions, dying, executor, out, provenance={}, batch_size=2)
    assert len(out.read_text().splitlines()) == 3  # the first batch's questions: 1 + 2 kept
    with pytest.raises(ConfigError, match="add --resume"):
        self_train.self_train(questions, dying, executor, out, provenance={}, batch_size=2)

    script = Script(TABLE)
    again = Pipeline(script, executor, mode="plain", samples=3, temperature=0.7)
    report = self_train.self_train(
        questions, again.attempt_many, executor, out, provenance={}, batch_size=2, resume=True
    )
    assert script.asked == [list(TABLE)[2]]  # only the question not yet done
    assert (report.questions, report.solved, report.kept) == (3, 2, 3)
    assert len(out.read_text().splitlines()) == 3


def test_records_of_a_question_the_progress_file_lacks_are_dropped_on_resume(
    tmp_path: Path, executor
) -> None:  # type: ignore[no-untyped-def]
    """A kill between writing a batch's records and its progress line: asked again, once."""
    questions, _ = self_train.select_questions(_questions(tmp_path))
    out = tmp_path / "stream.jsonl"
    torn = {"id": "self-q-0-0", "meta": {"self_train": {"from": "q-0"}}}
    out.write_text(json.dumps(torn) + "\n")
    pipeline = Pipeline(Script(TABLE), executor, mode="plain", samples=3, temperature=0.7)
    report = self_train.self_train(
        questions, pipeline.attempt_many, executor, out, provenance={}, resume=True
    )
    ids = [json.loads(line)["id"] for line in out.read_text().splitlines()]
    assert ids == ["self-q-0-0", "self-q-1-0", "self-q-1-1"] and report.kept == 3


def test_questions_of_another_split_are_refused_and_the_sample_is_seeded(tmp_path: Path) -> None:
    path = tmp_path / "mixed.jsonl"
    records = [_record(n, f"What is {n} + 1?", str(n + 1)) for n in range(20)]
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    first, _ = self_train.select_questions(path, limit=5, seed=3)
    assert [r["id"] for r in first] == [
        r["id"] for r in self_train.select_questions(path, limit=5, seed=3)[0]
    ]
    assert len(first) == 5
    assert self_train.select_questions(path, families=["other"])[0] == []
    test_line = _record(99, "What is 99 + 1?", "100", split="test")
    path.write_text(path.read_text() + json.dumps(test_line) + "\n")
    with pytest.raises(DataError, match=r"mixed.jsonl:21: a 'test' record"):
        self_train.select_questions(path)


def test_a_plain_pipeline_only_gives_its_candidates(executor) -> None:  # type: ignore[no-untyped-def]
    pipeline = Pipeline(Script(TABLE), executor, mode="after-execution")
    with pytest.raises(ValueError, match="plain-mode pipeline"):
        pipeline.attempt_many(["Ann has 40 pens and buys 2 more. How many?"])


def test_training_reads_the_stream_after_the_training_file(tmp_path: Path) -> None:
    from worldmodel.train.config import build_config
    from worldmodel.train.examples import read_data

    train = _questions(tmp_path)
    stream = tmp_path / "self.jsonl"
    stream.write_text(json.dumps(_record(7, "What is 7 + 1?", "8")) + "\n")
    config = build_config(
        {"train_file": str(train), "validation_file": None, "extra_train_files": [str(stream)]}
    )
    records, _ = read_data(config)
    assert [r["id"] for r in records] == ["q-0", "q-1", "q-2", "q-7"]
    with pytest.raises(ConfigError, match="extra_train_files: must be a list of strings"):
        build_config({"extra_train_files": "data/self/train.jsonl"})
