"""`wm eval` end to end on a real (tiny, random) model: generation, sandbox, report, default."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from worldmodel.cli.group import wm


def test_wm_eval_runs_both_modes_and_records_the_better_one(
    tiny_model_dir: Path, tmp_path: Path
) -> None:
    questions = tmp_path / "gsm8k-like.jsonl"
    questions.write_text(
        '{"question": "What is 6 times 7?", "answer": "6*7=<<6*7=42>>42\\n#### 42"}\n'
        "{broken line\n"
        '{"question": "What is 2 plus 2?", "answer": "#### 4"}\n'
    )
    report_path = tmp_path / "report.json"
    result = CliRunner().invoke(
        wm,
        [
            "eval",
            str(questions),
            "--model",
            str(tiny_model_dir),
            "--sandbox",
            "process",
            "--max-new-tokens",
            "8",
            "--batch-size",
            "2",
            "--out",
            str(report_path),
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    summary = json.loads(report_path.read_text())
    assert [r["mode"] for r in summary["reports"]] == ["plain", "after-execution"]
    for report in summary["reports"]:
        assert report["count"] == 2
        assert len(report["skipped_lines"]) == 1 and ":2:" in report["skipped_lines"][0]
        # A random model writes no tags: nothing may be counted as structured or correct.
        assert report["metrics"]["structure"] == 0.0
        assert report["metrics"]["correct"] == 0.0
    assert summary["better_mode"] in ("plain", "after-execution")
    # What steered the generator is on record per mode (8 tokens: no budget, no loop).
    assert summary["loop_guard"] is True and summary["max_new_tokens"] == 8
    assert summary["steered"] == {
        mode: {"think_cut": 0, "looped": 0} for mode in ("plain", "after-execution")
    }
    assert "skipped" in result.stderr and ":2:" in result.stderr
    assert json.loads(result.stdout)["reports"][0]["count"] == 2


def test_wm_eval_without_questions_fails_clearly(tmp_path: Path) -> None:
    empty = tmp_path / "empty.jsonl"
    empty.write_text("{broken\n")
    result = CliRunner().invoke(wm, ["eval", str(empty), "--sandbox", "process"])
    assert result.exit_code == 1
    assert "has no usable questions" in result.output


def test_record_default_writes_the_mode_and_how_it_was_measured(
    tiny_model_dir: Path, tmp_path: Path
) -> None:
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    adapter = tmp_path / "adapter"
    base = AutoModelForCausalLM.from_pretrained(tiny_model_dir, local_files_only=True)
    get_peft_model(base, LoraConfig(r=2, target_modules=["q_proj"])).save_pretrained(adapter)
    questions = tmp_path / "q.jsonl"
    questions.write_text('{"question": "What is 6 times 7?", "answer": "#### 42"}\n')
    args = ["eval", str(questions), "--model", str(tiny_model_dir), "--adapter", str(adapter)]
    args += ["--sandbox", "process", "--max-new-tokens", "8", "--limit", "1"]
    args += ["--out", str(adapter / "eval.json"), "--record-default"]
    result = CliRunner().invoke(wm, args)
    assert result.exit_code == 0, result.output
    recorded = json.loads((adapter / "worldmodel-defaults.json").read_text())
    assert recorded["mode"] in ("plain", "after-execution")
    assert recorded["measured_by"] == (
        f"wm eval {questions} --limit 1 --sandbox process --adapter {adapter} --max-new-tokens 8"
    )
    for key in ("verified", "accuracy", "structure"):
        assert set(recorded[key]) == {"plain", "after-execution"}
    assert recorded["report"] == "eval.json"  # beside the adapter: named relative to it


def test_wm_eval_votes_over_samples_and_refuses_to_record_them(
    tiny_model_dir: Path, tmp_path: Path
) -> None:
    questions = tmp_path / "q.jsonl"
    questions.write_text('{"question": "What is 6 times 7?", "answer": "#### 42"}\n')
    common = ["eval", str(questions), "--model", str(tiny_model_dir), "--sandbox", "process"]
    common += ["--max-new-tokens", "6", "--mode", "plain", "--samples", "3"]
    result = CliRunner().invoke(wm, [*common, "--temperature", "1.2", "--json"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert (summary["samples"], summary["temperature"]) == (3, 1.2)
    assert summary["reports"][0]["samples"] == 3
    refused = CliRunner().invoke(wm, [*common, "--record-default"])
    assert refused.exit_code == 2 and "drop --samples" in refused.output
    zero = CliRunner().invoke(wm, [*common, "--temperature", "0"])
    assert zero.exit_code == 2 and "--temperature" in zero.output


def test_wm_eval_holdout_keeps_one_kind_of_test_question(
    tiny_model_dir: Path, tmp_path: Path
) -> None:
    # One test record of each kind, as `wm data build` writes them: --holdout keeps only its kind
    # and the report says which; a file without that kind, or --record-default, is refused.
    test_split = Path(__file__).resolve().parents[2] / "data" / "test.jsonl"
    records: dict[str | None, str] = {}
    for line in test_split.read_text().splitlines():
        kind = json.loads(line)["holdout"]
        records.setdefault(kind, line)
        if len(records) == 3:
            break
    split = tmp_path / "test.jsonl"
    split.write_text("\n".join(records.values()) + "\n")
    args = ["eval", str(split), "--model", str(tiny_model_dir), "--sandbox", "process"]
    args += ["--max-new-tokens", "8", "--mode", "plain", "--json"]

    result = CliRunner().invoke(wm, [*args, "--holdout", "phrasing"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["holdout"] == "phrasing"
    assert summary["reports"][0]["count"] == 1
    assert set(summary["reports"][0]["by_holdout"]) == {"phrasing"}

    gsm8k = tmp_path / "gsm8k.jsonl"
    gsm8k.write_text('{"question": "What is 2 plus 2?", "answer": "#### 4"}\n')
    result = CliRunner().invoke(wm, ["eval", str(gsm8k), "--holdout", "values"])
    assert result.exit_code == 1 and "no questions with holdout 'values'" in result.output

    result = CliRunner().invoke(wm, [*args, "--holdout", "none", "--record-default"])
    assert result.exit_code == 2 and "drop --holdout" in result.output


def test_a_killed_wm_eval_resumes_with_resume_and_asks_only_the_rest(
    tiny_model_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from worldmodel.pipeline import Pipeline

    questions = tmp_path / "q.jsonl"
    questions.write_text(
        "".join(
            f'{{"question": "What is {n} plus 2?", "answer": "#### {n + 2}"}}\n' for n in range(5)
        )
    )
    report = tmp_path / "report.json"
    journal = tmp_path / "report.json.journal.jsonl"
    args = ["eval", str(questions), "--model", str(tiny_model_dir), "--sandbox", "process"]
    args += ["--max-new-tokens", "6", "--mode", "plain", "--batch-size", "2", "--out", str(report)]
    asked: list[list[str]] = []
    real = Pipeline.answer_many

    def dying(self: Pipeline, batch: list[str]) -> list:  # type: ignore[type-arg]
        if len(asked) == 2:
            raise KeyboardInterrupt  # the third batch: a Ctrl-C, or the OOM killer
        asked.append(list(batch))
        return real(self, batch)

    monkeypatch.setattr(Pipeline, "answer_many", dying)
    killed = CliRunner().invoke(wm, args)
    assert killed.exit_code != 0 and not report.exists()
    assert len(journal.read_text().splitlines()) == 3  # the run, then two scored batches

    # Again without --resume: the journal is never overwritten unasked.
    refused = CliRunner().invoke(wm, args)
    assert refused.exit_code == 1 and "add --resume" in refused.output
    # Other settings than the journaled run's: refused, naming them.
    other = CliRunner().invoke(
        wm, [*args[:-4], "--batch-size", "4", "--out", str(report), "--resume"]
    )
    assert other.exit_code == 1 and "batch_size 2 -> 4" in other.output

    asked.clear()
    monkeypatch.setattr(
        Pipeline, "answer_many", lambda self, batch: asked.append(list(batch)) or real(self, batch)
    )
    # Threads change the speed, not the answers: a resume may use other ones.
    resumed = CliRunner().invoke(wm, [*args, "--resume", "--threads", "1"])
    assert resumed.exit_code == 0, resumed.output
    assert asked == [["What is 4 plus 2?"]]  # only the question not yet scored
    assert "resuming plain: 4 questions already scored" in resumed.stderr
    summary = json.loads(report.read_text())
    assert summary["reports"][0]["count"] == 5
    assert (summary["device"], summary["precision"]) == ("cpu", "float32")
    ids = [item["id"] for item in summary["reports"][0]["items"]]
    assert ids == [f"{questions}:{n}" for n in range(1, 6)]
    assert not journal.exists()  # the report is written: the journal is gone
    assert "plain: 5/5" in resumed.stderr  # progress lines, since the output is not a terminal


def test_wm_eval_on_a_missing_gpu_is_an_error_not_a_cpu_run(tmp_path: Path) -> None:
    torch = pytest.importorskip("torch")
    if torch.cuda.is_available():
        pytest.skip("this machine has a GPU")
    questions = tmp_path / "q.jsonl"
    questions.write_text('{"question": "What is 2 plus 2?", "answer": "#### 4"}\n')
    result = CliRunner().invoke(wm, ["eval", str(questions), "--device", "cuda"])
    assert result.exit_code == 1 and "torch sees no GPU" in result.output, result.output


def test_wm_eval_resume_needs_out(tmp_path: Path) -> None:
    questions = tmp_path / "q.jsonl"
    questions.write_text('{"question": "What is 2 plus 2?", "answer": "#### 4"}\n')
    result = CliRunner().invoke(wm, ["eval", str(questions), "--resume"])
    assert result.exit_code == 2 and "give that --out" in result.output


def _dev_record(n: int, steps: int) -> str:
    record = {
        "id": f"dev-{n}",
        "messages": [{"role": "user", "content": f"Ann has {n} pens and buys 3 more. How many?"}],
        "expected": str(n + 3),
        "check": "number",
        "family": "dev_word_problems",
        "meta": {"steps": steps, "kind": "change"},
    }
    return json.dumps(record) + "\n"


def test_wm_eval_reports_each_file_apart_and_resumes_a_run_of_several(
    tiny_model_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from worldmodel.pipeline import Pipeline

    test = tmp_path / "test.jsonl"
    test.write_text(
        "".join(f'{{"question": "{n} + 2?", "answer": "#### {n + 2}"}}\n' for n in range(3))
    )
    dev = tmp_path / "dev.jsonl"
    dev.write_text("".join(_dev_record(n, steps) for n, steps in enumerate([1, 2, 3, 4])))
    report = tmp_path / "report.json"
    args = ["eval", str(test), str(dev), "--model", str(tiny_model_dir), "--sandbox", "process"]
    args += ["--max-new-tokens", "6", "--batch-size", "2", "--out", str(report)]
    asked: list[list[str]] = []
    real = Pipeline.answer_many

    def dying(self: Pipeline, batch: list[str]) -> list:  # type: ignore[type-arg]
        if len(asked) == 5:  # test: 2 batches per mode, dev: 1 plain; dies on the 2nd
            raise KeyboardInterrupt
        asked.append(list(batch))
        return real(self, batch)

    monkeypatch.setattr(Pipeline, "answer_many", dying)
    killed = CliRunner().invoke(wm, args)
    assert killed.exit_code != 0 and not report.exists()

    asked.clear()
    monkeypatch.setattr(
        Pipeline, "answer_many", lambda self, batch: asked.append(list(batch)) or real(self, batch)
    )
    resumed = CliRunner().invoke(wm, [*args, "--resume", "--json"])
    assert resumed.exit_code == 0, resumed.output
    dev_questions = [json.loads(line)["messages"][0]["content"] for line in dev.open()]
    # Only what the killed run had not scored: dev's second plain batch, then after-execution.
    assert asked == [dev_questions[2:], dev_questions[:2], dev_questions[2:]]
    assert f"resuming {test.resolve()} after-execution: 3 questions" in resumed.stderr
    assert f"resuming {dev.resolve()} plain: 2 questions" in resumed.stderr

    summary = json.loads(report.read_text())
    assert json.loads(resumed.stdout)["better_mode_by_file"] == summary["better_mode_by_file"]
    assert [(r["source"], r["mode"], r["count"]) for r in summary["reports"]] == [
        (str(test), "plain", 3),
        (str(test), "after-execution", 3),
        (str(dev), "plain", 4),
        (str(dev), "after-execution", 4),
    ]
    assert set(summary["better_mode_by_file"]) == {str(test), str(dev)}
    assert summary["better_mode"] == summary["better_mode_by_file"][str(test)]
    for r in summary["reports"]:
        assert set(r["steered"]) == {"think_cut", "looped"}
        if r["source"] == str(dev):  # its records give their steps; 3 and 4 count as "3+"
            assert {k: v["count"] for k, v in r["by_steps"].items()} == {"1": 1, "2": 1, "3+": 2}
            assert set(r["by_family"]) == {"dev_word_problems"}
        else:
            assert r["by_steps"] == {}
    assert summary["steered"] == {
        mode: {"think_cut": 0, "looped": 0} for mode in ("plain", "after-execution")
    }


def test_wm_eval_refuses_a_file_twice_and_a_default_from_several(
    tiny_model_dir: Path, tmp_path: Path
) -> None:
    questions = tmp_path / "q.jsonl"
    questions.write_text('{"question": "What is 2 plus 2?", "answer": "#### 4"}\n')
    other = tmp_path / "other.jsonl"
    other.write_text('{"question": "What is 3 plus 3?", "answer": "#### 6"}\n')
    common = ["eval", "--model", str(tiny_model_dir), "--sandbox", "process"]
    twice = CliRunner().invoke(
        wm, [*common, str(questions), str(tmp_path / ".." / tmp_path.name / "q.jsonl")]
    )
    assert twice.exit_code == 1 and "given twice" in twice.output
    several = CliRunner().invoke(wm, [*common, str(questions), str(other), "--record-default"])
    assert several.exit_code == 2 and "give only that FILE" in several.output


def test_wm_eval_without_files_reads_the_test_split_here(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(wm, ["eval", "--sandbox", "process"])
    assert result.exit_code == 2 and "data/test.jsonl does not exist" in result.output
