"""Chat rendering and loss masks: prompt tokens carry no loss, the assistant's tokens do."""

from __future__ import annotations

import pytest

from worldmodel.errors import DataError
from worldmodel.model.prompt import prompt_ids
from worldmodel.train.tokenization import IGNORE_INDEX, encode_record


@pytest.fixture()
def tokenizer(qwen_tokenizer):
    return qwen_tokenizer


def test_prompt_tokens_carry_no_loss(tokenizer, make_record, response_text) -> None:
    record = make_record("What is 15% of 200? <model>evil</model>")
    example = encode_record(tokenizer, record)
    prompt = prompt_ids(tokenizer, "What is 15% of 200? <model>evil</model>")
    n = len(prompt)
    assert example.input_ids[:n] == prompt
    assert example.labels[:n] == [IGNORE_INDEX] * n
    # Every assistant token is a target, and nothing else is.
    assert example.labels[n:] == example.input_ids[n:]
    trained = tokenizer.decode([t for t in example.labels if t != IGNORE_INDEX])
    assert trained == response_text + "<|im_end|>"
    assert "evil" not in trained and "user" not in trained


def test_answer_after_execution_variant_masks_the_output_block(tokenizer, make_record) -> None:
    example = encode_record(tokenizer, make_record("q", output="30.0"), with_output=True)
    full = tokenizer.decode(example.input_ids)
    assert "</requires>\n<output>\n30.0\n</output>\n\n15% of 200 is 30." in full
    trained = tokenizer.decode([t for t in example.labels if t != IGNORE_INDEX])
    assert "<output>" not in trained and "30.0" not in trained
    assert trained.endswith("15% of 200 is 30.<|im_end|>")
    assert "print(0.15 * 200)" in trained


def test_malformed_records_are_rejected(tokenizer, make_record) -> None:
    with pytest.raises(DataError, match="assistant"):
        encode_record(tokenizer, {"messages": [{"role": "user", "content": "a"}] * 2})
    with pytest.raises(DataError, match="output"):
        encode_record(tokenizer, {"messages": make_record("a")["messages"]}, with_output=True)
    unfinished = make_record("a", response="<think>t</think>\n<model>\nprint(1)\n")
    with pytest.raises(DataError, match="code section"):
        encode_record(tokenizer, unfinished, with_output=True)


def test_too_long_examples_are_dropped_whole_and_counted(tokenizer, make_record) -> None:
    from worldmodel.train.examples import encode_records

    long_answer = "<think>x</think>\n<model>\n" + "print(1)\n" * 200 + "</model>\n\nIt is 1."
    records = [make_record("short"), make_record("long", response=long_answer)]
    examples, dropped = encode_records(
        tokenizer, records, with_output=False, max_len=256, source="t.jsonl"
    )
    assert dropped == 1 and len(examples) == 1
    assert tokenizer.decode(examples[0].input_ids).count("print(0.15 * 200)") == 1


def test_plain_share_keeps_a_seeded_share_of_records_plain(tokenizer, make_record) -> None:
    from worldmodel.train.examples import encode_records, plain_indices

    assert plain_indices(10, 0.0, seed=0) == frozenset()
    assert plain_indices(10, 1.0, seed=0) == frozenset(range(10))
    chosen = plain_indices(10, 0.5, seed=3)
    assert len(chosen) == 5 and chosen == plain_indices(10, 0.5, seed=3)
    assert chosen != plain_indices(10, 0.5, seed=4)

    records = [make_record(f"q{i}", output="30.0") for i in range(10)]
    examples, _ = encode_records(
        tokenizer,
        records,
        with_output=True,
        max_len=512,
        source="t.jsonl",
        plain_share=0.5,
        seed=3,
    )
    with_block = {i for i, e in enumerate(examples) if "<output>" in tokenizer.decode(e.input_ids)}
    assert with_block == set(range(10)) - chosen
    # Without with_output every record is plain, whatever the share says.
    plain, _ = encode_records(tokenizer, records, with_output=False, max_len=512, source="t")
    assert not any("<output>" in tokenizer.decode(e.input_ids) for e in plain)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b'{"messages": []}\n{"messages": \n', r"t\.jsonl:2: bad JSON"),
        (b'{"messages": []}\n\n[1, 2]\n', r"t\.jsonl:3: bad JSON: expected an object"),
        (b'{"messages": []}\n{"messages": "caf\xe9"}\n', r"t\.jsonl:2: not UTF-8 text: byte 0xe9"),
        (b"\n\n", r"t\.jsonl holds no records"),
    ],
)
def test_training_data_errors_name_file_and_line(tmp_path, content, message) -> None:
    from worldmodel.data.record import read_records

    path = tmp_path / "t.jsonl"
    path.write_bytes(content)
    with pytest.raises(DataError, match=message):
        read_records(path)
    with pytest.raises(DataError, match="does not exist"):
        read_records(tmp_path / "missing.jsonl")


def test_training_records_keep_their_line_numbers(tmp_path) -> None:
    from worldmodel.data.record import read_records

    path = tmp_path / "t.jsonl"
    path.write_text('{"a": 1}\n\n{"a": 2}\n{"a": 3}\n')
    assert [r["_line"] for r in read_records(path)] == [1, 3, 4]
    assert [r["a"] for r in read_records(path, limit=2)] == [1, 2]
