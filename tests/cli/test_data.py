"""`wm data check`, `stats` and `build` through click's CliRunner."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from worldmodel.cli.group import wm
from worldmodel.data.generate import generate
from worldmodel.data.record import to_record


def _good_records(n: int) -> list[dict]:
    examples = [e for e in generate(seed=4, per_template=1).examples if not e.answer_from_output]
    return [to_record(e, e.expected + "\n") for e in examples[:n]]


def _write(path: Path, lines: list[str]) -> Path:
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_check_reports_each_bad_line_with_its_number_and_exits_1(tmp_path: Path) -> None:
    good = _good_records(3)
    no_tags = dict(
        good[1],
        messages=[good[1]["messages"][0], {"role": "assistant", "content": "Just 42, trust me."}],
    )
    failing = json.loads(json.dumps(good[2]))
    failing["messages"][1]["content"] = failing["messages"][1]["content"].replace(
        "print(", "raise SystemExit(3); print(", 1
    )
    wrong = json.loads(json.dumps(good[0]))
    wrong["expected"] = "123456789"
    wrong["check"] = "number"
    path = _write(
        tmp_path / "mixed.jsonl",
        [
            json.dumps(good[0]),  # line 1: fine
            '{"messages": [broken json',  # line 2
            json.dumps(no_tags),  # line 3
            json.dumps(failing),  # line 4
            json.dumps({"id": "x"}),  # line 5: missing fields
            json.dumps(wrong),  # line 6
            json.dumps(dict(good[0], phrasing=[1], meta="?")),  # line 7: wrong types
        ],
    )
    # line 8: a record whose text is not UTF-8 (Latin-1 'é'): reported, never replaced
    with path.open("ab") as handle:
        handle.write(json.dumps(good[1]).replace("?", "caf\u00e9?").encode("latin-1") + b"\n")
    result = CliRunner().invoke(wm, ["data", "check", str(path)])
    assert result.exit_code == 1, result.output
    out = result.output
    assert f"{path}:2: bad-json" in out
    assert f"{path}:3: format" in out and "<think>" in out
    assert f"{path}:4: code-failed" in out
    assert f"{path}:5: missing-field" in out
    assert f"{path}:6: wrong-answer" in out
    assert f"{path}:7: missing-field" in out and "phrasing (must be int)" in out
    assert f"{path}:8: not-utf8" in out and "byte 0xe9" in out
    assert f"{path}:1:" not in out
    assert "checked 8 line(s)" in out


def test_check_json_and_clean_file_exits_0(tmp_path: Path) -> None:
    path = _write(tmp_path / "good.jsonl", [json.dumps(r) for r in _good_records(4)])
    result = CliRunner().invoke(wm, ["data", "check", "--json", str(path)])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report == {"lines": 4, "ok": True, "problems": []}


def test_stats_counts_per_dimension(tmp_path: Path) -> None:
    records = _good_records(6)
    _write(tmp_path / "train.jsonl", [json.dumps(r) for r in records[:4]])
    _write(tmp_path / "test.jsonl", [json.dumps(r) for r in records[4:]] + ["not json"])
    result = CliRunner().invoke(wm, ["data", "stats", "--json", str(tmp_path)])
    assert result.exit_code == 0, result.output
    counts = json.loads(result.output)
    assert counts["total"] == 6 and counts["bad_lines"] == 1
    assert sum(counts["family"].values()) == 6
    assert counts["source"] == {"generated": 6}


@pytest.mark.slow
def test_build_is_byte_identical_for_a_seed(tmp_path: Path) -> None:
    args = ["data", "build", "--no-gsm8k", "--per-template", "1", "--seed", "9", "--json"]
    first = CliRunner().invoke(wm, [*args, "--out", str(tmp_path / "a")])
    second = CliRunner().invoke(wm, [*args, "--out", str(tmp_path / "b")])
    assert first.exit_code == 0 and second.exit_code == 0, first.output + second.output
    report = json.loads(first.output)
    assert sum(report["counts"].values()) >= 60
    assert not any(k.startswith("verify") for k in report["rejected"]), report["rejected"]
    for name in ("train.jsonl", "validation.jsonl", "test.jsonl", "manifest.json"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()


def test_every_response_declares_requires_and_check_flags_a_missing_one(tmp_path: Path) -> None:
    records = _good_records(40)
    texts = [r["messages"][1]["content"] for r in records]
    assert all("<requires>python:" in t for t in texts)
    plain = next(
        r for r in records if "<requires>python:builtins</requires>" in r["messages"][1]["content"]
    )
    stripped = json.loads(json.dumps(plain))
    stripped["messages"][1]["content"] = stripped["messages"][1]["content"].replace(
        "<requires>python:builtins</requires>\n", ""
    )
    path = _write(tmp_path / "norequires.jsonl", [json.dumps(plain), json.dumps(stripped)])
    result = CliRunner().invoke(wm, ["data", "check", "--no-run", str(path)])
    assert result.exit_code == 1, result.output
    assert f"{path}:2: requirements" in result.output and "<requires>" in result.output
    assert f"{path}:1:" not in result.output


def test_extra_train_adds_training_examples_and_leaves_validation_and_test_unchanged(
    tmp_path: Path,
) -> None:
    args = ["data", "build", "--no-gsm8k", "--per-template", "1", "--seed", "9", "--json"]
    plain = CliRunner().invoke(wm, [*args, "--out", str(tmp_path / "plain")])
    extra = CliRunner().invoke(wm, [*args, "--extra-train", "2", "--out", str(tmp_path / "extra")])
    assert plain.exit_code == 0 and extra.exit_code == 0, plain.output + extra.output
    for name in ("validation.jsonl", "test.jsonl"):
        assert (tmp_path / "plain" / name).read_bytes() == (tmp_path / "extra" / name).read_bytes()

    def records(folder: str) -> list[dict]:
        lines = (tmp_path / folder / "train.jsonl").read_text(encoding="utf-8").splitlines()
        return [json.loads(line) for line in lines]

    before, after = records("plain"), records("extra")
    added = [r for r in after if r["meta"].get("stream") == "extra"]
    templates = {r["template"] for r in added}
    assert len(templates) >= 60 and len(added) == len(after) - len(before) >= 2 * len(templates) - 4
    assert {r["id"] for r in before} <= {r["id"] for r in after}
    assert json.loads((tmp_path / "extra" / "manifest.json").read_text())["extra_train"] == 2
