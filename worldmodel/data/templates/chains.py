"""Family "word_problems", continued: two- and three-step mixes, and distractors.

`two_step` and `three_step` chain the steps of `steps` on one pile (things or money): a start
(a count, equal groups, or money), then changes drawn among those that fit the pile and the
steps left (gain, loss, give, receive, a fraction or percentage lost, sharing, packing,
selling, spending, earning, buying at a price), so that the solution has exactly 2 or 3
computed lines. `distractor` tells a one- or two-step problem with a number the answer does
not use: an unrelated fact ("Ana is 9 years old"), or a second person whose things change
too while the question asks about the first. Its meta lists the unused numbers.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from math import gcd

from worldmodel.data.templates import steps
from worldmodel.data.templates.base import Draft, Values
from worldmodel.data.templates.steps import Pile
from worldmodel.data.templates.story import (
    GAIN_VERBS,
    LOSS_VERBS,
    THINGS,
    Forms,
    Scene,
)
from worldmodel.data.templates.word_problems import finish, scene, story_template, tell_two

DENOMINATORS = (2, 3, 4, 5, 6, 8, 10)
Step = Callable[[Scene, Values, Pile, bool], Pile]


def _gain(s: Scene, v: Values, pile: Pile, joined: bool) -> Pile:
    if s.rng.random() < 0.7:
        return steps.gain(s, pile, v.int(2, 150), joined)
    return steps.receive(s, pile, v.int(2, 150), joined)


def _loss(s: Scene, v: Values, pile: Pile, joined: bool) -> Pile:
    n = v.int(2, min(pile.value - 1, 300))
    if s.rng.random() < 0.65:
        return steps.loss(s, pile, n, joined)
    return steps.give(s, pile, n, joined)


def _part(s: Scene, v: Values, pile: Pile, joined: bool) -> Pile:
    qs = [q for q in DENOMINATORS if pile.value % q == 0 and pile.value >= 2 * q]
    percents = [p for p in (10, 20, 25, 50, 75) if pile.value * p % 100 == 0]
    if percents and (not qs or s.rng.random() < 0.3):
        p = v.choice(percents)
        return steps.part_loss(s, pile, p, 100, percent=True, rest=True, joined=joined)
    q = v.choice(qs)
    p = v.choice([i for i in range(1, q) if gcd(i, q) == 1])
    return steps.part_loss(s, pile, p, q, percent=False, rest=True, joined=joined)


def _divisors(value: int) -> list[int]:
    return [k for k in range(2, 13) if value % k == 0 and value // k >= 2]


def _share(s: Scene, v: Values, pile: Pile, joined: bool) -> Pile:
    each, members, member = steps.share(s, pile, v.choice(_divisors(pile.value)), joined)
    s.ask_words = {"members": members, "member": member}
    return each


def _pack(s: Scene, v: Values, pile: Pile, joined: bool) -> Pile:
    full, one, many = steps.pack(s, pile, v.choice(_divisors(pile.value)), joined)
    s.ask_words = {"container": one, "containers": many}
    return full


def _sell(s: Scene, v: Values, pile: Pile, joined: bool) -> Pile:
    return steps.sell_all(s, pile, v.int(1, 12))


def _spend(s: Scene, v: Values, pile: Pile, joined: bool) -> Pile:
    return steps.spend(s, pile, v.int(2, min(pile.value - 1, 200)))


def _earn(s: Scene, v: Values, pile: Pile, joined: bool) -> Pile:
    return steps.earn(s, pile, v.int(2, 150))


def _buy(s: Scene, v: Values, pile: Pile, joined: bool) -> Pile:
    p = v.int(1, max(1, min(40, pile.value // 2)))
    n = v.int(2, max(2, min(30, pile.value // p)))
    return steps.buy(s, pile, n, p)


def _options(pile: Pile, left: int) -> list[tuple[str, int, Step]]:
    """(name, steps it takes, step) for every change that fits `pile` with `left` steps to go.
    A change that ends the story (sharing, packing) comes only last."""
    options: list[tuple[str, int, Step]]
    if pile.unit == "money":
        options = [("earn", 1, _earn)]
        if pile.value >= 3:
            options.append(("spend", 1, _spend))
        if pile.value >= 4 and left >= 2:
            options.append(("buy", 2, _buy))
        return options
    options = [("gain", 1, _gain)]
    if pile.value >= 3:
        options.append(("loss", 1, _loss))
    if left >= 2 and any(pile.value % q == 0 and pile.value >= 2 * q for q in DENOMINATORS):
        options.append(("part", 2, _part))
    if left == 1 and _divisors(pile.value):
        options += [("share", 1, _share), ("pack", 1, _pack)]
    if left >= 2:
        options.append(("sell", 1, _sell))
    return options


def chain(s: Scene, v: Values, total: int) -> tuple[Pile, list[str]]:
    """A start and changes adding up to `total` computed lines; the pile and the step names."""
    pick = s.rng.random()
    if pick < 0.25:
        pile, names = steps.groups_start(s, v.int(2, 30, key=True), v.int(2, 24)), ["groups"]
    elif pick < 0.45:
        pile, names = steps.money_start(s, v.int(20, 500, key=True)), ["money"]
    else:
        friendly = s.rng.random() < 0.5
        lo, hi = (12, 360) if friendly else (5, 400)
        n = v.choice(range(lo, hi + 1, 12 if friendly else 1), key=True)
        pile, names = steps.start(s, n), ["start"]
    while s.steps < total:
        name, _, step = s.rng.choice(
            [o for o in _options(pile, total - s.steps) if o[1] <= total - s.steps]
        )
        pile = step(s, v, pile, s.rng.random() < 0.3)
        names.append(name)
    return pile, names


def _told(s: Scene, pile: Pile) -> tuple[str, str]:
    """The question and the prose answer for the chain's last pile."""
    words = s.ask_words
    question = steps.ask(s, pile, **words)
    member, containers = words.get("member", ""), words.get("containers", "")
    return question, steps.answer(s, pile, member=member, containers=containers)


def _multi(v: Values, total: int, kind: str) -> Draft:
    s = scene(v)
    pile, names = chain(s, v, total)
    question, answer = _told(s, pile)
    draft = finish(s, question, pile.value, pile.var, answer, kind)
    draft.meta["ops"] = names
    return draft


@story_template("two_step")
def two_step(v: Values) -> Draft:
    return _multi(v, 2, "two_step")


@story_template("three_step")
def three_step(v: Values) -> Draft:
    return _multi(v, 3, "three_step")


# --- distractors --------------------------------------------------------------------------

UNRELATED = (
    "{name} {be} {x} years old.",
    "The store {is} {x} km from {names} house.",
    "It {it_take} {whom} {x} minutes to get home afterwards.",
    "Each {thing} {it_weigh} {x} grams.",
    "{his} {relation} {it_has} {x} {others}.",
    "{o_name} {o_has} {x} {things} of {o_his} own.",
    "{name} {has} {x} cousins.",
    "There {are} {x} people in the line at the store.",
)
"""Facts with a number no question here needs ({x}), and their plausible ranges."""
UNRELATED_RANGES = {0: (6, 70), 1: (2, 30), 2: (5, 55), 3: (20, 400)}
RELATIONS = ("brother", "sister", "cousin", "neighbor", "best friend")

OTHER_GAIN = Forms(
    train=("{o_name} {o_verb} {x} more {things}.", "Meanwhile, {o_name} {o_verb} {x} {things}."),
    held=("{o_names} pile {it_grow} by {x} as well.",),
)
OTHER_LOSS = Forms(
    train=("{o_name} {o_verb} {x} of {o_his} {things}.", "Meanwhile, {o_name} {o_verb} {x}."),
    held=("{o_names} pile {it_shrink} by {x} as well.",),
)


def _free(v: Values, lo: int, hi: int, used: set[str]) -> int:
    """A number in [lo, hi] that the problem does not already state."""
    return v.choice([x for x in range(lo, hi + 1) if str(x) not in used])


def _used_numbers(s: Scene) -> set[str]:
    return set(re.findall(r"\d+", s.story())) | set(re.findall(r"\d+", "\n".join(s.code)))


@story_template("distractor")
def distractor(v: Values) -> Draft:
    s = scene(v)
    if s.rng.random() < 0.55:
        pile, names = chain(s, v, s.rng.choice((1, 1, 2)))
        form = s.rng.randrange(len(UNRELATED))
        lo, hi = UNRELATED_RANGES.get(form, (2, 40))
        x = _free(v, lo, hi, _used_numbers(s))
        others = s.rng.choice([t.many for t in THINGS if t.kind != s.thing.kind])
        sentence = s.say(UNRELATED[form], x=x, relation=s.rng.choice(RELATIONS), others=others)
        # A fact about someone else goes last, after every "he" meant for the main person.
        someone = "{o_" in UNRELATED[form] or "{relation}" in UNRELATED[form]
        at = len(s.sentences) if someone else s.rng.randint(1, len(s.sentences))
        s.sentences.insert(at, sentence)
        s.unused.append(str(x))
        kind = "unused_number"
    else:
        pile, names = _two_people(s, v)
        kind = "other_person"
    s.think.insert(
        0, f"{' and '.join(s.unused)} {'is' if len(s.unused) == 1 else 'are'} not needed"
    )
    s.explicit = True  # the question names whom it asks about
    question, answer = _told(s, pile)
    draft = finish(s, question, pile.value, pile.var, answer, "distractor")
    draft.meta.update({"distractor": kind, "unused": list(s.unused), "ops": names})
    return draft


def _two_people(s: Scene, v: Values) -> tuple[Pile, list[str]]:
    """Two people with the same things; both piles change, the question asks about one.
    The other person's start and change are the unused numbers."""
    a = v.int(5, 300, key=True)
    b = _free(v, 5, 300, {str(a)})
    tell_two(s, a, b)
    s.unused.append(str(b))
    mine = s.let(a, s.thing.var)
    pile = Pile(mine, a, "count", s.thing.many, "start")
    s.note(f"start with {a}")
    theirs = b
    if s.rng.random() < 0.3 or b < 4:
        pile = steps.gain(s, pile, v.int(2, 150))
    elif s.rng.random() < 0.5:
        pile = steps.loss(s, pile, v.int(2, a - 1))
    else:
        # The other person gives: the sentence is about them, the question about the receiver.
        given = v.int(2, min(100, b - 1))
        pile = steps.receive(s, pile, given)
        theirs -= given
    x = _free(v, 2, 40, _used_numbers(s))
    gain = s.rng.random() < 0.5 or theirs <= x
    verbs = GAIN_VERBS if gain else LOSS_VERBS
    verb = s.verb(s.rng.choice(verbs[s.thing.kind]), "o")
    other = s.say(s.pick(OTHER_GAIN if gain else OTHER_LOSS), o_verb=verb, x=x)
    s.sentences.append(other)
    s.unused.append(str(x))
    return pile, ["start", pile.last]
