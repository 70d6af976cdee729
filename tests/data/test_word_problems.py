"""The word-problem family: composed stories that verify, vary, copy their numbers, hold out
sentence forms, carry distractors, and bare arithmetic expressions."""

from __future__ import annotations

import random
import re
from collections import Counter
from fractions import Fraction

import pytest

from sandbox.process import ProcessExecutor
from worldmodel.data.record import to_record
from worldmodel.data.templates import all_templates
from worldmodel.data.templates.base import Draft, Template, Values
from worldmodel.data.templates.story import PEOPLE, ROLES, THINGS
from worldmodel.data.verify import VERIFY_LIMITS, verify_code
from worldmodel.format import DEFAULT_ALLOWED_MODULES
from worldmodel.verify import verify_claim

TEMPLATES = [t for t in all_templates() if t.family == "word_problems"]
STORIES = [t for t in TEMPLATES if t.name != "expression"]
BY_NAME = {t.name: t for t in TEMPLATES}

_WORDS = sorted(
    {p.first for p in PEOPLE}
    | {t.many for t in THINGS}
    | {t.one for t in THINGS}
    | {noun for roles in ROLES.values() for noun, _ in roles},
    key=len,
    reverse=True,
)
_VOCABULARY = re.compile(r"\b(?:" + "|".join(map(re.escape, _WORDS)) + r")\b", re.IGNORECASE)
_NUMBER = re.compile(r"\d[\d,]*(?:\.\d+)?")


def skeleton(text: str) -> str:
    """The text with its numbers, names and things blanked: what a wording looks like."""
    return _NUMBER.sub("#", _VOCABULARY.sub("X", text))


def sentences(text: str) -> list[str]:
    return [s for s in re.split(r"(?<=[.?!])\s+|\n+", text) if s.strip()]


def numbers(text: str) -> set[Fraction]:
    return {Fraction(n.replace(",", "")) for n in _NUMBER.findall(text)}


def draw(tmpl: Template, seed: int, phrasing: int | None = None) -> tuple[str, Draft]:
    """(question, draft) for one seed, in a random training phrasing unless given."""
    rng = random.Random(seed)
    phrasing = rng.randrange(tmpl.held_out) if phrasing is None else phrasing
    draft = tmpl.build(Values(rng, phrasing=phrasing))
    return tmpl.wording(phrasing).format(**draft.slots), draft


def test_the_family_covers_every_kind_of_problem() -> None:
    kinds = Counter()
    for tmpl in TEMPLATES:
        for seed in range(150):
            kinds[draw(tmpl, seed)[1].meta["kind"]] += 1
    for kind in (
        "gain", "receive", "loss", "give", "combine_people", "missing_part", "difference",
        "more_than", "fewer_than", "times_as_many", "equal_groups", "share", "pack",
        "remainder", "full_groups", "round_up", "unit_price_total", "unit_price_each",
        "unit_price_count", "fraction_part", "fraction_rest", "percent_part", "percent_rest",
        "two_step", "three_step", "distractor", "expression",
    ):  # fmt: skip
        assert kinds[kind] > 0, kind
    assert any(k.startswith("rate_total_") for k in kinds)
    assert any(k.startswith("rate_per_") for k in kinds)


def test_every_template_renders_in_every_frame_and_verifies_in_the_sandbox() -> None:
    # Every frame (the held-out one too), a value hold-out draw, and the answer sentence states
    # the expected value the way the claim checker reads it.
    executor = ProcessExecutor(limits=VERIFY_LIMITS)
    for tmpl in TEMPLATES:
        drafts = [tmpl.build(Values(random.Random(5), holdout=True, phrasing=0))]
        for phrasing in range(len(tmpl.phrasings)):
            question, draft = draw(tmpl, 1000 + phrasing, phrasing)
            drafts.append(draft)
            assert "{" not in question and "}" not in question, (tmpl.name, question)
            assert verify_claim(draft.answer, draft.expected + "\n").status == "verified", (
                tmpl.name,
                draft.answer,
                draft.expected,
            )
        for draft in drafts:
            verdict = verify_code(
                executor,
                draft.code,
                draft.requires,
                draft.expected,
                draft.check,
                DEFAULT_ALLOWED_MODULES,
            )
            assert verdict.ok, (tmpl.name, verdict.reason, draft.code)


def test_every_draw_checks_out_without_running(tmp_path) -> None:
    # Cheap checks over many draws: the answer sentence verifies, the record renders, the meta
    # names the kind and the steps, and the steps are the computed lines of the code.
    from worldmodel.data.generate import generate_template

    for tmpl in TEMPLATES:
        examples = generate_template(tmpl, seed=3, per_template=60, seen=set()).examples
        assert len(examples) == 60, tmpl.name
        for example in examples:
            to_record(example, example.expected + "\n")
            assert verify_claim(example.answer, example.expected + "\n").status == "verified"
            steps = example.meta["steps"]
            assert steps in (1, 2, 3), (tmpl.name, example.meta)
            if tmpl.name == "expression":
                assert steps == len(re.findall(r"[-+*/]", example.meta["expression"]))
                continue
            computed = [
                line
                for line in example.code.splitlines()
                if " = " in line and not re.fullmatch(r"\w+ = [\d.]+", line)
            ]
            assert len(computed) == steps, (tmpl.name, example.code)
        wanted = {"two_step": 2, "three_step": 3}.get(tmpl.name)
        if wanted:
            assert {e.meta["steps"] for e in examples} == {wanted}


@pytest.mark.parametrize("tmpl", STORIES, ids=lambda t: t.name)
def test_code_copies_every_number_the_answer_uses(tmpl: Template) -> None:
    # Each number the story states is a literal in the code (3/4 as "* 3 // 4", $2.50 as
    # 2.5), so the model copies numbers rather than working them out; distractors are not.
    for seed in range(60):
        question, draft = draw(tmpl, seed)
        unused = {Fraction(u) for u in draft.meta.get("unused", [])}
        # The 1 of "1/3" is not a literal: the code divides by 3.
        stated = numbers(re.sub(r"(?<![\d.])1/(?=\d)", "", question)) - unused
        literal = numbers(draft.code)
        assert stated <= literal, (tmpl.name, question, draft.code)


@pytest.mark.parametrize("tmpl", STORIES, ids=lambda t: t.name)
def test_stories_vary_in_wording(tmpl: Template) -> None:
    # With numbers, names and things blanked, 200 stories of a kind still read in at least 90
    # different ways (today 91 to 200), and the questions around them in at least 150.
    drawn = [draw(tmpl, seed) for seed in range(200)]
    stories = {skeleton(d.slots["story"]) for _, d in drawn}
    questions = {skeleton(q) for q, _ in drawn}
    assert len(stories) >= 90, (tmpl.name, len(stories))
    assert len(questions) >= 150, (tmpl.name, len(questions))


def test_questions_come_first_or_last_with_and_without_context_sentences() -> None:
    first = last = with_aside = 0
    for seed in range(300):
        question, draft = draw(BY_NAME["loss"], seed)
        asked = draft.slots["question"]
        if question.index(asked) < question.index(draft.slots["story"]):
            first += 1
        else:
            last += 1
        with_aside += not all(re.search(r"\d", s) for s in sentences(draft.slots["story"]))
    assert first >= 40 and last >= 150 and with_aside >= 40, (first, last, with_aside)


@pytest.mark.parametrize("tmpl", STORIES, ids=lambda t: t.name)
def test_the_held_out_frame_is_told_in_sentence_forms_training_never_uses(tmpl: Template) -> None:
    # The test split's phrasing hold-out: the last frame, and a story written only in held-out
    # sentence forms. No numbered sentence of a held-out story, with its numbers, names and
    # things blanked, appears in 400 training stories (the distractor's unrelated fact is
    # shared on purpose: it is not a wording of the problem).
    training: set[str] = set()
    for seed in range(400):
        question, _ = draw(tmpl, seed)
        training |= {skeleton(s) for s in sentences(question)}
    for seed in range(40):
        question, draft = draw(tmpl, 10_000 + seed, tmpl.held_out)
        assert question.startswith("Here is a little puzzle for you.")
        unused = draft.meta.get("unused", [])
        told = [
            s
            for s in sentences(draft.slots["story"] + " " + draft.slots["question"])
            if re.search(r"\d", s) and not any(re.search(rf"\b{u}\b", s) for u in unused)
        ]
        assert told, (tmpl.name, question)
        for sentence in told:
            assert skeleton(sentence) not in training, (tmpl.name, sentence)


def test_distractors_state_numbers_the_code_does_not_use() -> None:
    tmpl = BY_NAME["distractor"]
    kinds = Counter()
    for seed in range(200):
        question, draft = draw(tmpl, seed)
        kinds[draft.meta["distractor"]] += 1
        assert draft.meta["unused"], question
        literals = set(re.findall(r"\b\d+\b", draft.code))
        for number in draft.meta["unused"]:
            assert re.search(rf"(?<![\d.]){number}(?!\d|\.\d)", question), (number, question)
            assert number not in literals, (number, draft.code)
        assert draft.reasoning.startswith(" and ".join(draft.meta["unused"])), draft.reasoning
    assert kinds["unused_number"] >= 60 and kinds["other_person"] >= 60, kinds


def test_other_person_distractors_ask_about_one_of_two_people() -> None:
    # The story's second person (whose numbers are the unused ones) is not the one the answer
    # is about.
    tmpl = BY_NAME["distractor"]
    seen = 0
    for seed in range(200):
        question, draft = draw(tmpl, seed)
        if draft.meta["distractor"] != "other_person":
            continue
        seen += 1
        named = {p.first for p in PEOPLE if re.search(rf"\b{p.first}\b", draft.slots["story"])}
        subject = draft.answer.split(" has ")[0].split(" have ")[0]
        assert named - {subject}, (question, draft.answer)
        # ... and the question says whom it asks about ("How many are left?" would not).
        asked = "i" if subject == "You" else subject.lower()
        assert re.search(rf"\b{re.escape(asked)}\b", draft.slots["question"].lower()), question
    assert seen >= 60


_SPOKEN = {"×": "*", "÷": "/", " x ": " * ", "times": "*", "divided by": "/"}
_SPOKEN |= {"plus": "+", "minus": "-"}


def _as_python(shown: str) -> str:
    for word, op in _SPOKEN.items():
        shown = shown.replace(word, op)
    return shown


def test_bare_expressions_cover_every_operator_and_evaluate_like_python() -> None:
    tmpl = BY_NAME["expression"]
    operators: Counter[str] = Counter()
    styles: Counter[str] = Counter()
    for seed in range(400):
        _, draft = draw(tmpl, seed)
        expression = draft.meta["expression"]
        value = eval(expression)  # our own generated arithmetic, digits and + - * / ( ) only
        assert re.fullmatch(r"[\d+\-*/() ]+", expression)
        assert float(draft.expected) == value and value == int(value), (expression, value)
        assert ("." in draft.expected) == ("/" in expression)  # "/" prints a float
        shown = draft.slots["expr"]
        assert eval(_as_python(shown)) == value, shown
        if re.fullmatch(r"[\d+\-*/() ]+", shown):
            assert f"result = {shown}\n" in draft.code, (shown, draft.code)
            styles["python"] += 1
        else:
            styles["other"] += 1
        operators.update(c for c in expression if c in "+-*/()")
    assert set(operators) == set("+-*/()"), operators
    assert styles["python"] >= 150 and styles["other"] >= 60, styles


def test_bare_expression_questions_include_the_ones_the_old_model_missed() -> None:
    tmpl = BY_NAME["expression"]
    assert "What is {expr}?" in tmpl.phrasings and "what's {expr}" in tmpl.phrasings
    assert "Compute {expr}." in tmpl.phrasings and "{expr} = ?" in tmpl.phrasings
