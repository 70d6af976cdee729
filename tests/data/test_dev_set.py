"""The development set `data/dev/word_problems.jsonl`: hand-written word problems that no
template writes and no training file holds, each with a reference solution that must reach its
`expected` answer (see data/dev/README.md)."""

from __future__ import annotations

import difflib
import json
import math
import re
import string
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from worldmodel.data.templates import all_templates
from worldmodel.evaluate import EvalItem, is_correct, load_items

DATA = Path(__file__).resolve().parents[2] / "data"
DEV = DATA / "dev" / "word_problems.jsonl"
TRAINING_FILES = [DATA / name for name in ("train.jsonl", "validation.jsonl", "test.jsonl")]
GSM8K = DATA / "sources" / "gsm8k" / "train.jsonl"
NEAR = 0.9
"""difflib ratio above which two questions count as the same question."""

KINDS = {
    "expression",
    "change",
    "combine",
    "compare",
    "equal_groups",
    "remainder",
    "rate",
    "unit_price",
    "fraction",
    "percent",
    "units",
}


def _records() -> list[dict]:
    return [json.loads(line) for line in DEV.read_text(encoding="utf-8").splitlines()]


def _question(record: dict) -> str:
    return next(m["content"] for m in record["messages"] if m["role"] == "user")


def test_every_record_is_one_wm_eval_reads_with_a_unique_id() -> None:
    records = _records()
    items, problems = load_items(DEV)
    assert problems == []
    assert len(items) == len(records) >= 150
    ids = [item.id for item in items]
    assert len(set(ids)) == len(ids)
    assert all(re.fullmatch(r"dev-wp-\d{3}", i) for i in ids)
    assert {item.family for item in items} == {"dev_word_problems"}
    assert {item.check for item in items} == {"number"}
    assert {item.holdout for item in items} == {None}
    assert [item.steps for item in items] == [r["meta"]["steps"] for r in records]
    questions = [_question(r).strip().lower() for r in records]
    assert len(set(questions)) == len(questions)


def test_each_reference_solution_reaches_the_expected_answer_one_line_per_step() -> None:
    wrong = []
    for record in _records():
        lines = record["reference"].splitlines()
        assert len(lines) == record["meta"]["steps"], record["id"]
        assert lines[-1].startswith("answer = "), record["id"]
        scope: dict = {}
        exec(record["reference"], scope)  # our own reference code, not the model's
        answer, expected = scope["answer"], record["expected"]
        if not math.isclose(answer, float(expected), rel_tol=1e-9, abs_tol=1e-9):
            wrong.append(f"{record['id']}: reference gives {answer}, expected {expected}")
        elif re.fullmatch(r"-?\d+", expected) is None:
            # A decimal answer is written the shortest way (12.5, not 12.50 or 12.500001).
            assert expected == repr(round(answer, 6)), record["id"]
        # What `wm eval` would score for a model that prints the reference's value.
        item = EvalItem(record["id"], _question(record), expected, record["check"])
        printed = str(round(answer, 6))
        assert is_correct(printed, item)[0], record["id"]
    assert wrong == []


def test_the_mix_of_steps_and_kinds_is_the_one_the_readme_gives() -> None:
    records = _records()
    steps = Counter(min(r["meta"]["steps"], 3) for r in records)
    assert steps[1] >= 60 and steps[2] >= 50 and steps[3] >= 40
    kinds = Counter(r["meta"]["kind"] for r in records)
    assert set(kinds) == KINDS
    assert kinds["expression"] >= 15
    assert all(r["meta"]["steps"] == 1 for r in records if r["meta"]["kind"] == "expression")
    assert sum(r["meta"]["distractor"] for r in records) >= 15


def _template_patterns() -> Iterator[tuple[str, re.Pattern[str]]]:
    for tmpl in all_templates():
        for wording in (*tmpl.phrasings, *tmpl.train_phrasings):
            parsed = list(string.Formatter().parse(wording))
            if len("".join(literal for literal, _, _, _ in parsed).strip()) < 12:
                # A wording that is all slots ("{story}"): a composed family tells its stories
                # from sentence banks, and the near-duplicate check below compares the dev set
                # with the stories it actually wrote into the splits.
                continue
            parts = [
                re.escape(literal) + ("(.+?)" if slot is not None else "")
                for literal, slot, _, _ in string.Formatter().parse(wording)
            ]
            yield tmpl.name, re.compile("".join(parts), re.S | re.I)


def test_no_dev_question_is_written_by_a_template() -> None:
    patterns = list(_template_patterns())
    assert len(patterns) > 500
    found = [
        f"{record['id']} is template {name}'s wording"
        for record in _records()
        for name, pattern in patterns
        if pattern.fullmatch(_question(record))
    ]
    assert found == []


_TOKEN = re.compile(r"\d+(?:[.,]\d+)*|[a-z]+")


def _normal(text: str) -> str:
    return " ".join(text.lower().split())


def _tokens(text: str) -> set[str]:
    return {token.replace(",", "") for token in _TOKEN.findall(text)}


def _corpus() -> list[tuple[str, str]]:
    """(where, question) for every question of the splits and of GSM8K's training set."""
    corpus = []
    # Lines end at "\n" only: str.splitlines() would also split inside a JSON string at a
    # Unicode line separator, which some GSM8K questions hold.
    for path in TRAINING_FILES:
        for number, line in enumerate(path.open(encoding="utf-8"), 1):
            if line.strip():
                corpus.append((f"{path.name}:{number}", _question(json.loads(line))))
    for number, line in enumerate(GSM8K.open(encoding="utf-8"), 1):
        if line.strip():
            corpus.append((f"gsm8k/train.jsonl:{number}", json.loads(line)["question"]))
    return corpus


def near_duplicates(questions: list[str], corpus: list[tuple[str, str]]) -> list[str]:
    """Each (question, corpus entry) pair closer than NEAR, as 'question ~ where (ratio)'.

    Comparing every pair with difflib would take minutes, so each question is compared only
    with the entries that share at least half of its uncommon tokens (words and numbers found
    in the corpus, but in at most 2% of it), and only when the lengths allow the ratio. A pair
    above 0.9 has over 90% of its characters in common blocks, so it shares nearly every token.
    """
    texts = [_normal(text) for _, text in corpus]
    token_sets = [_tokens(text) for text in texts]
    frequency = Counter(token for tokens in token_sets for token in tokens)
    common = {token for token, n in frequency.items() if n > 0.02 * len(corpus)}
    index: dict[str, list[int]] = {}
    for position, tokens in enumerate(token_sets):
        for token in tokens - common:
            index.setdefault(token, []).append(position)
    found = []
    for question in questions:
        text = _normal(question)
        rare = {token for token in _tokens(text) - common if token in frequency}
        shared = Counter(position for token in rare for position in index.get(token, ()))
        if rare:
            needed = math.ceil(len(rare) / 2)
            candidates = [position for position, n in shared.items() if n >= needed]
        else:
            candidates = list(range(len(texts)))
        for position in candidates:
            other = texts[position]
            if 2 * min(len(text), len(other)) <= NEAR * (len(text) + len(other)):
                continue  # the shorter one cannot cover 90% of both
            matcher = difflib.SequenceMatcher(None, text, other, autojunk=False)
            if matcher.quick_ratio() > NEAR and matcher.ratio() > NEAR:
                where = corpus[position][0]
                found.append(f"{question!r} ~ {where} ({matcher.ratio():.2f})")
    return found


def test_the_near_duplicate_search_finds_exact_and_reworded_copies() -> None:
    corpus = [
        ("a:1", "Ali buys 3 apples at $2 each. How much does he pay?"),
        ("a:2", "What is 12 * 7?"),
        ("a:3", "Tom has 5 cats and 2 dogs. How many pets does Tom have?"),
    ]
    # Enough other questions that "how", "many" or "is" are common and the rest are not.
    corpus += [(f"b:{n}", f"How many {n} pots is there on shelf {n + 7}?") for n in range(200)]
    questions = [
        "Ali buys 3 apples at $2 each. How much does he pay?",  # exact
        "Ali buys 4 apples at $3 each.  How much does he pay?",  # other numbers
        "what is 12 * 7?",  # case
        "Tom has 5 cats and 2 dogs. How many legs do they have?",  # another question
    ]
    found = near_duplicates(questions, corpus)
    assert [line.split(" ~ ")[1].split(" ")[0] for line in found] == ["a:1", "a:1", "a:2"]


@pytest.mark.skipif(
    not all(path.exists() for path in [*TRAINING_FILES, GSM8K]), reason="data/ is not built"
)
def test_no_dev_question_is_in_the_training_data_or_gsm8k() -> None:
    questions = [_question(record) for record in _records()]
    assert near_duplicates(questions, _corpus()) == []
