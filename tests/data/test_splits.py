"""Hold-out: held-out phrasings and reserved values never reach train or validation."""

from __future__ import annotations

from typing import Any

from worldmodel.data.generate import generate, generate_extra
from worldmodel.data.record import normalize_question, to_record
from worldmodel.data.splits import leaks, plan
from worldmodel.data.templates import all_templates
from worldmodel.data.templates.base import is_reserved


def _records(seed: int = 2, per_template: int = 20) -> list[dict[str, Any]]:
    # Records as the build writes them, with the expected answer standing in for stdout.
    return [to_record(e, e.expected + "\n") for e in generate(seed, per_template).examples]


def test_plan_has_every_split_and_holdout_kind() -> None:
    kinds = {(s.split, s.holdout) for s in plan(80)}
    assert kinds == {
        ("train", None),
        ("validation", None),
        ("test", None),
        ("test", "values"),
        ("test", "phrasing"),
    }
    assert sum(s.count for s in plan(80)) == 80


def test_phrasing_holdout_never_leaks_into_train() -> None:
    records = _records()
    held = {(r["template"], r["phrasing"]) for r in records if r["holdout"] == "phrasing"}
    assert held, "no phrasing-holdout records were generated"
    for record in records:
        if record["split"] in ("train", "validation"):
            assert (record["template"], record["phrasing"]) not in held, record["id"]
    assert all(r["split"] == "test" for r in records if r["holdout"])


def test_value_holdout_never_leaks_into_train() -> None:
    records = _records()
    held = [r for r in records if r["holdout"] == "values"]
    assert len({r["template"] for r in held}) >= 60
    assert all(is_reserved(r["meta"]["key"]) for r in held)
    held_keys = {(r["template"], r["meta"]["key"]) for r in held}
    for record in records:
        if record["split"] in ("train", "validation"):
            assert not any(is_reserved(v) for v in record["meta"]["values"]), record["id"]
            assert (record["template"], record["meta"]["key"]) not in held_keys
    assert leaks(records) == []


def test_leaks_reports_a_planted_leak() -> None:
    records = _records(per_template=8)
    phrased = next(r for r in records if r["holdout"] == "phrasing")
    valued = next(r for r in records if r["holdout"] == "values")
    leaked = [
        dict(phrased, split="train", holdout=None, id="leak-phrasing"),
        dict(valued, split="train", holdout=None, id="leak-values"),
    ]
    found = dict(leaks(records + leaked))
    assert "leak-values" in found and "reserved" in found["leak-values"]
    assert any("held out" in message for message in found.values())


def test_the_extra_training_stream_keeps_both_holdouts() -> None:
    # `--extra-train` draws from every training phrasing, the training-only ones included,
    # after all splits are drawn: never the held-out phrasing, never a reserved value, never
    # a question another split already has.
    seen: set[str] = set()
    regular = generate(2, 8, seen)
    extra = generate_extra(2, 6, seen)
    records = [to_record(e, e.expected + "\n") for e in regular.examples + extra.examples]
    assert leaks(records) == []
    by_name = {t.name: t for t in all_templates()}
    for example in extra.examples:
        tmpl = by_name[example.template]
        assert example.split == "train" and example.holdout is None
        assert example.phrasing != tmpl.held_out and example.phrasing in tmpl.training
        assert example.meta["stream"] == "extra"
    questions = [normalize_question(e.question) for e in regular.examples + extra.examples]
    assert len(questions) == len(set(questions))
    if any(t.train_phrasings for t in by_name.values()):
        assert any(e.phrasing >= len(by_name[e.template].phrasings) for e in extra.examples), (
            "no extra example used a training-only phrasing"
        )
