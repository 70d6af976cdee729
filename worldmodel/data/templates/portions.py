"""Family "word_problems", continued: fractions and percentages of a quantity.

"A baker made 48 cupcakes and sold 3/4 of them. How many are left?" (two steps: the part,
then the rest) or "How many did she sell?" (one step); the same for a group of people ("25%
of the 80 students walk to school"). Every amount is whole: the total is drawn as a multiple
of what the fraction or percentage needs, and the code keeps it exact (`total * 3 // 4`).
"""

from __future__ import annotations

from math import gcd

from worldmodel.data.templates import steps
from worldmodel.data.templates.base import Draft, Values
from worldmodel.data.templates.story import VERBS, Forms, Scene, fraction_text
from worldmodel.data.templates.word_problems import finish, scene, story_template

DENOMINATORS = (2, 3, 4, 5, 6, 8, 10)
PERCENTS = (5, 10, 15, 20, 25, 30, 40, 45, 50, 60, 70, 75, 80, 90)

POPULATIONS = (
    ("students", "in {names} class", "walk", "to school"),
    ("guests", "at {names} party", "drink", "tea"),
    ("runners", "in the race", "finish", "in under an hour"),
    ("trees", "in {names} orchard", "bear", "fruit this year"),
    ("people", "at the town meeting", "vote", "yes"),
    ("workers", "at {names} company", "work", "from home"),
    ("players", "on {names} team", "wear", "glasses"),
)
"""Groups of people (or trees) a part of which does something: (plural, where, verb, rest)."""

POPULATION_FACTS = Forms(
    train=(
        "There {are} {n} {group} {where}. {part} of them {verb} {rest}.",
        "{part} of the {n} {group} {where} {verb} {rest}.",
        "{name} {count} {n} {group} {where}, and {part} of them {verb} {rest}.",
    ),
    held=("Among the {n} {group} {where}, the share who {verb} {rest} {is} {part}.",),
)
POPULATION_PART = Forms(
    train=("How many {group} {verb} {rest}?", "How many of the {group} {verb} {rest}?"),
    held=("Give the number of {group} who {verb} {rest}.",),
)
POPULATION_REST = Forms(
    train=(
        "How many {group} {pl_does} not {base} {rest}?",
        "How many of the {group} {pl_does} not {base} {rest}?",
    ),
    held=("Give the number of {group} who {pl_does} not {base} {rest}.",),
)


def _population(s: Scene, n: int, p: int, q: int, part: str, kind: str) -> Draft:
    """Part `p/q` of a group of `n` does something: how many do (one step) or don't (two)."""
    group, where, verb, rest_words = s.rng.choice(POPULATIONS)
    # "the baker's class", "my class": the place names the person without introducing them
    owner = "my" if s.person.first == "I" else s.person.possessive(s.person.later)
    words = {
        "group": group,
        "where": where.format(names=owner),
        "verb": s.verb(verb, "pl"),
        "base": VERBS[verb].base,
        "rest": rest_words,
    }
    s.tell(s.pick(POPULATION_FACTS), n=n, part=part, **words)
    total = s.let(n, group)
    doing = s.calc(f"{total} // {q}" if p == 1 else f"{total} * {p} // {q}", f"{group}_who_{verb}")
    amount = n * p // q
    s.note(f"{part} of {n} is {n} × {p} / {q} = {amount}")
    if s.rng.random() < 0.5:
        question = s.say(s.pick(POPULATION_PART), **words)
        answer = f"{amount} {group} {words['verb']} {rest_words}."
        return finish(s, question, amount, doing, answer, f"{kind}_part", personal=False)
    others = s.calc(f"{total} - {doing}", f"other_{group}")
    s.note(f"{n} - {amount} = {n - amount} do not")
    question = s.say(s.pick(POPULATION_REST), **words)
    answer = f"{n - amount} {group} {s.does()} not {words['base']} {rest_words}."
    return finish(s, question, n - amount, others, answer, f"{kind}_rest", personal=False)


def _pile(s: Scene, n: int, p: int, q: int, percent: bool, kind: str) -> Draft:
    """Part `p/q` of the person's things goes: how much went (one step) or is left (two)."""
    pile = steps.start(s, n)
    rest = s.rng.random() < 0.6
    joined = s.rng.random() < 0.5
    after = steps.part_loss(s, pile, p, q, percent=percent, rest=rest, joined=joined)
    question = steps.ask(s, after)
    answer = steps.answer(s, after)
    return finish(
        s, question, after.value, after.var, answer, f"{kind}_{'rest' if rest else 'part'}"
    )


@story_template("fraction_part")
def fraction_part(v: Values) -> Draft:
    s = scene(v)
    q = v.choice(DENOMINATORS)
    p = v.choice([i for i in range(1, q) if gcd(i, q) == 1])
    n = v.choice(range(2 * q, 400, q), key=True)
    if s.rng.random() < 0.3:
        return _population(s, n, p, q, fraction_text(p, q, s.rng.random() < 0.4), "fraction")
    return _pile(s, n, p, q, False, "fraction")


@story_template("percent_part")
def percent_part(v: Values) -> Draft:
    s = scene(v)
    p = v.choice(PERCENTS)
    step = 100 // gcd(p, 100)
    n = v.choice(range(step, 1000, step), key=True)
    if s.rng.random() < 0.4:
        shown = f"{p}%" if s.rng.random() < 0.7 else f"{p} percent"
        return _population(s, n, p, 100, shown, "percent")
    return _pile(s, n, p, 100, True, "percent")
