"""The GSM8K importer on real lines of data/sources/gsm8k/train.jsonl."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from sandbox.process import ProcessExecutor
from worldmodel.data.gsm8k import ConversionError, convert
from worldmodel.data.verify import VERIFY_LIMITS, verify_code
from worldmodel.format import DEFAULT_ALLOWED_MODULES

SOURCE = Path(__file__).resolve().parents[2] / "data" / "sources" / "gsm8k" / "train.jsonl"


def _line(number: int) -> dict[str, str]:
    with SOURCE.open(encoding="utf-8") as handle:
        for i, line in enumerate(handle, start=1):
            if i == number:
                return json.loads(line)
    raise AssertionError(f"no line {number}")


def test_license_is_kept_beside_the_data() -> None:
    assert "MIT License" in (SOURCE.parent / "LICENSE.txt").read_text()


def test_annotations_become_named_chained_assignments() -> None:
    row = _line(1)  # Natalia: <<48/2=24>> then <<48+24=72>>
    example = convert(row["question"], row["answer"], 1)
    lines = example.code.splitlines()
    assert lines[0] == "clips_in_may = 48 / 2"
    assert lines[1] == "clips_altogether_in = 48 + clips_in_may"  # 24 reused by name
    assert lines[-1] == "print(round(clips_altogether_in))"  # 72.0 printed as 72
    assert example.expected == "72"
    assert "72" in example.answer and example.answer.endswith(".")
    assert "<<" not in example.reasoning


def test_dollars_commas_and_percent_line() -> None:
    row = _line(178)  # "$20,000 car for 80%": 20000*.8=$<<20000*.8=16000>>16,000 ...
    assert "$20,000" in row["question"] and "80%" in row["question"]
    example = convert(row["question"], row["answer"], 178)
    assert "20000 * 0.8" in example.code
    assert "- sold_car" in example.code  # 16,000 is reused by name, not retyped
    assert example.expected == "11000"
    assert "$11,000" in example.answer


def test_converted_programs_print_the_gold_answer() -> None:
    executor = ProcessExecutor(limits=VERIFY_LIMITS)
    for number in (1, 2, 3, 178, 276, 311):
        row = _line(number)
        example = convert(row["question"], row["answer"], number)
        gold = row["answer"].split("####")[1].strip().replace(",", "")
        verdict = verify_code(
            executor, example.code, example.requires, gold, "number", DEFAULT_ALLOWED_MODULES
        )
        assert verdict.ok, (number, verdict.reason, example.code)
        assert verdict.stdout.strip() == gold


def test_lines_without_usable_annotations_are_rejected_with_reasons() -> None:
    with pytest.raises(ConversionError, match="no calculator annotations"):
        convert("q", "She has 3 apples.\n#### 3", 9)
    with pytest.raises(ConversionError, match="gold"):
        convert("q", "2 + 2 = <<2+2=4>>4\n#### 5", 9)
    with pytest.raises(ConversionError, match="only restated"):
        convert("q", "2 * 12 = <<2*12=24>>24 and 12 more\nTotal <<36=36>>36\n#### 36", 9)
    with pytest.raises(ConversionError, match="is wrong"):
        convert("q", "2 + 2 = <<2+2=5>>5\n#### 5", 9)


def test_gsm8k_goes_to_train_and_validation_never_test() -> None:
    # The test split measures the generated families only; GSM8K examples used to be split
    # 90/5/5, and the ones in validation then stay there.
    from worldmodel.data.splits import gsm8k_split

    ids = [f"gsm8k-train-{n:05d}" for n in range(1, 7474)]
    splits = [gsm8k_split(i) for i in ids]
    assert "test" not in splits
    assert 0.04 < splits.count("validation") / len(ids) < 0.06
    for example_id, split in zip(ids, splits, strict=True):
        bucket = int(hashlib.sha1(example_id.encode()).hexdigest()[:8], 16) % 100
        assert (split == "validation") == (90 <= bucket < 95)
