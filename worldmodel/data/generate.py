"""Generating candidate examples from the templates for a seed, before verification.

Each template gets its own RNG seeded from (seed, template name), so adding a template never
changes another's examples, and the same seed always yields the same candidates. Questions
are deduplicated across the whole dataset by `record.normalize_question`; when a template
cannot produce enough distinct questions (a template with no values has only its phrasings),
the shortfall is reported, never hidden. This module does not run code or write files.

`generate_extra` is a second, separate stream of training examples (`wm data build
--extra-train N`): its own RNG per template, every training phrasing including the
training-only `train_phrasings`, no reserved values. It runs after everything else is drawn, so
it adds training data without changing a single validation or test example.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from worldmodel.data.record import Example, normalize_question, stable_id
from worldmodel.data.splits import plan
from worldmodel.data.templates import all_templates
from worldmodel.data.templates.base import NoHoldoutValue, Template, Values

ATTEMPTS_PER_EXAMPLE = 25
"""Draws tried per wanted example before a slot is declared exhausted."""


@dataclass
class Generated:
    """Candidates plus what could not be generated, with reasons."""

    examples: list[Example] = field(default_factory=list)
    shortfalls: list[str] = field(default_factory=list)


def _example(
    tmpl: Template,
    v: Values,
    phrasing: int,
    split: str,
    holdout: str | None,
    stream: str | None = None,
) -> Example:
    draft = tmpl.build(v)
    if holdout == "values" and (v.key is None or not draft.slots):
        # Without a key in the question there is no unseen value to test.
        raise NoHoldoutValue(f"template {tmpl.name} has no key value in its question")
    question = tmpl.wording(phrasing).format(**draft.slots)
    return Example(
        id=stable_id(tmpl.name, question),
        family=tmpl.family,
        template=tmpl.name,
        phrasing=phrasing,
        source="generated",
        question=question,
        reasoning=draft.reasoning,
        code=draft.code,
        requires=tuple(draft.requires),
        answer=draft.answer,
        expected=draft.expected,
        check=draft.check,
        split=split,
        holdout=holdout,
        answer_from_output=draft.answer_from_output,
        meta={
            "values": list(v.drawn),
            "key": v.key,
            **draft.meta,
            **({"stream": stream} if stream else {}),
        },
    )


def _keep(example: Example, seen: set[str], out: Generated) -> bool:
    """Add `example` to `out` unless its normalized question is in `seen`; True when added."""
    key = normalize_question(example.question)
    if key in seen:
        return False
    seen.add(key)
    out.examples.append(example)
    return True


def generate_template(tmpl: Template, seed: int, per_template: int, seen: set[str]) -> Generated:
    """Candidates for one template, filling each slot of `splits.plan` in order."""
    rng = random.Random(f"{seed}:{tmpl.name}")
    out = Generated()
    last = tmpl.held_out
    for slot in plan(per_template):
        made = 0
        for _ in range(slot.count * ATTEMPTS_PER_EXAMPLE):
            if made == slot.count:
                break
            phrasing = last if slot.holdout == "phrasing" else rng.randrange(last)
            values = Values(rng, holdout=slot.holdout == "values", phrasing=phrasing)
            try:
                example = _example(tmpl, values, phrasing, slot.split, slot.holdout)
            except NoHoldoutValue as exc:
                out.shortfalls.append(f"{tmpl.name}: no value-holdout examples ({exc})")
                break
            made += _keep(example, seen, out)
        if made < slot.count and not (
            slot.holdout == "values"
            and out.shortfalls
            and out.shortfalls[-1].startswith(f"{tmpl.name}: no value")
        ):
            out.shortfalls.append(
                f"{tmpl.name}: {made} of {slot.count} {slot.split}"
                f"{'/' + slot.holdout if slot.holdout else ''} examples (questions exhausted)"
            )
    return out


def generate(seed: int, per_template: int, seen: set[str] | None = None) -> Generated:
    """Candidates from every template for `seed`, deduplicated by normalized question."""
    seen = set() if seen is None else seen
    result = Generated()
    for tmpl in all_templates():
        part = generate_template(tmpl, seed, per_template, seen)
        result.examples.extend(part.examples)
        result.shortfalls.extend(part.shortfalls)
    return result


def generate_extra(seed: int, per_template: int, seen: set[str]) -> Generated:
    """`per_template` more training examples from every template, from a separate stream.

    Each template's RNG is seeded from (seed, template name, "extra"), so this stream never
    shifts the draws of `generate`. The phrasing is any training one (`Template.training`: all
    but the held-out, plus `train_phrasings`), values are never reserved, and `seen` (every
    question already drawn, GSM8K's included) keeps out duplicates of any split's questions.
    Records carry `meta.stream = "extra"`.
    """
    result = Generated()
    for tmpl in all_templates():
        rng = random.Random(f"{seed}:{tmpl.name}:extra")
        made = 0
        for _ in range(per_template * ATTEMPTS_PER_EXAMPLE):
            if made == per_template:
                break
            phrasing = rng.choice(tmpl.training)
            values = Values(rng, phrasing=phrasing)
            example = _example(tmpl, values, phrasing, "train", None, stream="extra")
            made += _keep(example, seen, result)
        if made < per_template:
            result.shortfalls.append(
                f"{tmpl.name}: {made} of {per_template} extra train examples (questions exhausted)"
            )
    return result
