"""The dataset committed under data/: its size, families, and a re-verified sample."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sandbox.process import ProcessExecutor
from worldmodel.data.check import check_files
from worldmodel.data.stats import count
from worldmodel.data.templates.base import FAMILIES
from worldmodel.data.verify import VERIFY_LIMITS

DATA = Path(__file__).resolve().parents[2] / "data"
FILES = [DATA / f"{split}.jsonl" for split in ("train", "validation", "test")]

pytestmark = pytest.mark.skipif(
    not all(f.exists() for f in FILES), reason="data/ has not been built yet"
)


def test_committed_dataset_is_large_and_covers_every_family() -> None:
    counts = count(FILES)
    assert counts["total"] >= 5000 and counts["bad_lines"] == 0
    assert set(FAMILIES) <= set(counts["family"])
    assert counts["source"].get("gsm8k", 0) > 0
    assert {"values", "phrasing"} <= set(counts["holdout"])
    manifest = json.loads((DATA / "manifest.json").read_text())
    assert manifest["total"] == counts["total"]


def test_the_test_split_holds_no_gsm8k_and_word_problems_with_both_holdouts() -> None:
    # GSM8K problems train and validate only; the test split measures the generated families,
    # the word problems included, in-distribution and on held-out values and wordings.
    test = count([DATA / "test.jsonl"])
    assert "gsm8k" not in test["source"]
    assert test["family"].get("word_problems", 0) >= 100
    records = [json.loads(line) for line in (DATA / "test.jsonl").open(encoding="utf-8")]
    held = {r["holdout"] for r in records if r["family"] == "word_problems"}
    assert held == {None, "values", "phrasing"}
    assert all(r["meta"]["steps"] in (1, 2, 3) for r in records if r["family"] == "word_problems")


def test_a_sample_of_the_committed_files_passes_check(tmp_path: Path) -> None:
    sample = []
    for path in FILES:
        lines = path.read_text(encoding="utf-8").splitlines()
        sample.extend(lines[:: max(1, len(lines) // 12)][:12])
    target = tmp_path / "sample.jsonl"
    target.write_text("\n".join(sample) + "\n", encoding="utf-8")
    result = check_files([target], ProcessExecutor(limits=VERIFY_LIMITS), workers=2)
    assert result.lines == len(sample) >= 30
    assert result.problems == [], [str(p) for p in result.problems[:5]]
