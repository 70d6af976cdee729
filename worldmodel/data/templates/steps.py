"""The steps word problems are made of: a start, then changes to one pile of things or money.

Each step tells its sentence (a `story.Forms` bank, training and held-out forms), writes its
line(s) of code with named variables, notes its arithmetic for the reasoning, and returns the
new `Pile`: the variable holding the amount, its exact value, and what it counts. Single-step
templates use one step after a start; `chains` strings two or three together. The question
and the prose answer follow from the last step (`ask`, `answer`).

This module does not choose numbers for a whole problem or register templates
(see `word_problems`, `chains`).
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

from worldmodel.data.templates.base import human
from worldmodel.data.templates.story import (
    CONTAINERS,
    GAIN_VERBS,
    GROUPS,
    LOSS_VERBS,
    NARRATOR,
    PLACES,
    VERBS,
    Forms,
    Scene,
    fraction_text,
)


@dataclass(frozen=True)
class Pile:
    """What the story tracks after a step."""

    var: str
    value: int
    unit: str
    """"count" (of the scene's things), "money", "each" (per person), "containers", "left"."""
    label: str
    """What one unit is called in the answer ("apples", "dollars", "bags")."""
    last: str
    """The step that made it ("start", "gain", "loss", ...), which picks the question."""
    verb: str = ""
    """The VERBS key of a "part" step ("sell"), for its question and answer."""


START = Forms(
    train=(
        "{name} {has} {n} {things}.",
        "{name} {gain} {n} {things}.",
        "At first, {name} {has} {n} {things}.",
        "There {are} {n} {things} in {names} {place}.",
        "{name} {start} the day with {n} {things}.",
        "{names} {place} {it_hold} {n} {things}.",
        "{name} {has} a pile of {n} {things}.",
        "On Monday, {name} {gain} {n} {things}.",
    ),
    held=(
        "{names} stock of {things} {it_stand} at {n}.",
        "The number of {things} {name} {has} {is} {n}.",
    ),
)

GAIN = Forms(
    train=(
        "{he} {gain} {n} more {things}.",
        "Then {he} {gain} {n} more.",
        "Later, {name} {gain} another {n} {things}.",
        "After that, {he} {gain} {n} more.",
        "{name} also {gain} {n} {things}.",
        "The next day, {he} {gain} {n} more {things}.",
    ),
    held=(
        "{his} pile of {things} {it_grow} by {n} when {he} {gain} some more.",
        "{n} more {things} {are} {gain_pp} by {whom} after that.",
    ),
)
GAIN_CLAUSE = Forms(
    train=("and then {gain} {n} more", "and later {gain} another {n}"),
    held=("and {his} pile {it_grow} by {n}",),
)

LOSS = Forms(
    train=(
        "{he} {loss} {n} of them.",
        "Then {he} {loss} {n}.",
        "Later, {name} {loss} {n} of the {things}.",
        "After that, {he} {loss} {n} {things}.",
        "The next day, {he} {loss} {n} of them.",
        "{name} {loss} {n} {things} that afternoon.",
    ),
    held=(
        "{n} of the {things} {are} {loss_pp} by {whom} later.",
        "{his} pile of {things} {it_shrink} by {n} after {he} {loss} some.",
    ),
)
LOSS_CLAUSE = Forms(
    train=("and {loss} {n} of them", "but then {loss} {n}"),
    held=("and then {n} of them {are} {loss_pp}",),
)

GIVE = Forms(
    train=(
        "{he} {give} {n} of them to {o_name}.",
        "{he} {give} {o_name} {n} {things}.",
        "Then {name} {give} {n} {things} to {his} friend {o_name}.",
        "{name} {give} {o_name} {n}.",
    ),
    held=("{n} of {names} {things} {pl_go} to {o_name}.",),
)
GIVE_CLAUSE = Forms(
    train=("and {give} {n} of them to {o_name}", "and then {give} {o_name} {n}"),
    held=("and {n} of them {pl_go} to {o_name}",),
)

RECEIVE = Forms(
    train=(
        "{o_name} {o_give} {whom} {n} more {things}.",
        "{name} {get} {n} {things} from {o_name}.",
        "Then {o_name} {o_give} {him} {n} more.",
        "{he} {receive} {n} more from {o_name}.",
    ),
    held=("{n} {things} {are} {give_pp} to {whom} by {o_name}.",),
)
RECEIVE_CLAUSE = Forms(
    train=("and {get} {n} more from {o_name}",),
    held=("and {n} more {are} {give_pp} to {him} by {o_name}",),
)

PART_LOSS = Forms(
    train=(
        "{he} {loss} {part} of them.",
        "{name} {loss} {part} of {his} {things}.",
        "Then {he} {loss} {part} of the {things}.",
    ),
    held=("{part} of the {things} {are} {loss_pp}.",),
)
PART_LOSS_CLAUSE = Forms(
    train=("and {loss} {part} of them",),
    held=("and {part} of them {are} {loss_pp} soon after",),
)

SHARE = Forms(
    train=(
        "{he} {share} them equally among {k} {members}.",
        "{name} {split} the {things} evenly between {k} {members}.",
        "{he} {divide} the {things} equally among {his} {k} {members}.",
    ),
    held=("Each of {his} {k} {members} {it_get} the same number of {things} from {him}.",),
)
SHARE_CLAUSE = Forms(
    train=("and {share} them equally among {k} {members}",),
    held=("and each of {k} {members} {it_get} an equal share",),
)

PACK = Forms(
    train=(
        "{he} {pack} them into {containers} of {k}.",
        "{name} {put} the {things} into {containers}, {k} in each.",
        "{he} {pack} {k} {things} in every {container}.",
    ),
    held=("Every {container} {it_take} exactly {k} {things}, and {name} {fill} them one by one.",),
)
PACK_CLAUSE = Forms(
    train=("and {pack} them into {containers} of {k}",),
    held=("and every {container} {it_take} {k} of them",),
)

GROUPS_START = Forms(
    train=(
        "{name} {gain} {g} {containers} of {things} with {k} in each.",
        "{name} {has} {g} {containers}. Each {container} {it_hold} {k} {things}.",
        "There {are} {g} {containers} of {things}, and each one {it_hold} {k}.",
        "{name} {gain} {g} {containers} of {things}. There {are} {k} {things} in each {container}.",
        "Each {container} {it_hold} {k} {things}, and {name} {has} {g} {containers}.",
        "{name} {gain} {g} {containers} of {k} {things}.",
    ),
    held=(
        "{k} {things} {pl_come} in every {container}, and {name} {gain} {g} {containers}.",
        "{names} {g} {containers} {pl_hold} {k} {things} apiece.",
    ),
)

MONEY_START = Forms(
    train=(
        "{name} {has} ${m}.",
        "{name} {go} to the store with ${m}.",
        "{name} {has} ${m} in {his} wallet.",
        "{name} {save} ${m} for a shopping trip.",
    ),
    held=("{names} savings {pl_come} to ${m}.",),
)

BUY = Forms(
    train=(
        "{he} {buy} {n} {things} for ${p} each.",
        "{he} {buy} {n} {things} that {pl_cost} ${p} each.",
        "{things} {pl_cost} ${p} each, and {name} {buy} {n}.",
        "Then {he} {buy} {n} {things} at ${p} apiece.",
    ),
    held=("At ${p} apiece, {n} {things} {pl_go} into {names} cart.",),
)

SPEND = Forms(
    train=(
        "{he} {spend} ${n} on {purchase}.",
        "{he} {pay} ${n} for {purchase}.",
        "Then {name} {spend} ${n} on {purchase}.",
    ),
    held=("{purchase} {it_cost} {him} ${n}.",),
)
PURCHASES = ("lunch", "a movie ticket", "a book", "a scarf", "a game", "bus fare", "a gift")

EARN = Forms(
    train=(
        "{he} {earn} ${n} more by {chore}.",
        "Later, {name} {earn} another ${n} {chore}.",
        "{name} also {earn} ${n} by {chore}.",
    ),
    held=("{his} money {it_grow} by ${n} from {chore}.",),
)
CHORES = ("walking dogs", "washing cars", "mowing lawns", "babysitting", "selling lemonade")

SELL_ALL = Forms(
    train=(
        "{he} {sell} all of them for ${p} each.",
        "{name} {sell} every one of the {things} for ${p}.",
    ),
    held=("At ${p} apiece, all the {things} {pl_go} to buyers.",),
)

ASIDES_OPEN = (
    "It {is} a sunny Saturday.",
    "The market {is} busy that morning.",
    "School {is} out for the summer.",
    "It {is} the week before a big holiday.",
)
"""Context sentences with no numbers that can open a story (they name nobody)."""

ASIDES = (
    "{name} really {love} {things}.",
    "{his} friends {pl_help} {him} count them.",
    "{he} {keep} them in {his} {place}.",
    "{he} {want} to keep the nicest ones.",
    "The weather {is} cold that day.",
    "{he} {plan} to have some left for the weekend.",
)
"""Context sentences with no numbers that can follow the first sentence."""


def aside(s: Scene, personal: bool = True) -> None:
    """Maybe add a context sentence without numbers, at the start or after the first one
    (only an opening one, about nobody, unless `personal`)."""
    if s.rng.random() < 0.35:
        if s.rng.random() < 0.4 or not personal:
            s.sentences.insert(0, s.say(s.rng.choice(ASIDES_OPEN)))
        else:
            at = s.rng.randint(1, len(s.sentences))
            sentence = s.say(s.rng.choice(ASIDES), place=s.rng.choice(PLACES[s.thing.kind]))
            s.sentences.insert(at, sentence)


def _gain_verb(s: Scene) -> str:
    return s.rng.choice(GAIN_VERBS[s.thing.kind])


def _loss_verb(s: Scene) -> str:
    return s.rng.choice(LOSS_VERBS[s.thing.kind])


def _tell(s: Scene, sentence: Forms, clause: Forms | None, joined: bool, **extra: object) -> None:
    # A held-out clause names its own subject; a training one ("and sold 5") needs the last
    # sentence to be about the main person.
    if joined and clause is not None and s.sentences and (s.held or s.joinable):
        s.join_last(s.pick(clause), **extra)
    else:
        s.tell(s.pick(sentence), **extra)


# --- starts -------------------------------------------------------------------------------


def start(s: Scene, n: int) -> Pile:
    """The person has `n` of the scene's things."""
    verb = _gain_verb(s)
    place = s.rng.choice(PLACES[s.thing.kind])
    s.tell(s.pick(START), n=n, gain=s.verb(verb), place=place)
    var = s.let(n, s.thing.var)
    s.note(f"{s.thing.count(n)} at the start")
    return Pile(var, n, "count", s.thing.many, "start")


def groups_start(s: Scene, g: int, k: int) -> Pile:
    """`g` containers of `k` things each: one step (g * k)."""
    one, many = s.rng.choice(CONTAINERS[s.thing.kind])
    verb = _gain_verb(s)
    s.tell(s.pick(GROUPS_START), g=g, k=k, container=one, containers=many, gain=s.verb(verb))
    groups = s.let(g, many.replace(" ", "_"))
    per = s.let(k, f"{s.thing.var}_per_{one}", f"per_{one}")
    total = s.calc(f"{groups} * {per}", s.thing.var, f"total_{s.thing.var}")
    s.note(f"{g} {many} × {k} = {g * k} {s.thing.many}")
    return Pile(total, g * k, "count", s.thing.many, "groups")


def money_start(s: Scene, m: int) -> Pile:
    s.tell(s.pick(MONEY_START), m=m)
    var = s.let(m, "money")
    s.note(f"${m} at the start")
    return Pile(var, m, "money", "dollars", "start")


# --- changes to a count -------------------------------------------------------------------


def gain(s: Scene, pile: Pile, n: int, joined: bool = False) -> Pile:
    verb = _gain_verb(s)
    extra = {"n": n, "gain": s.verb(verb), "gain_pp": VERBS[verb].participle}
    _tell(s, GAIN, GAIN_CLAUSE, joined, **extra)
    added = s.let(n, VERBS[verb].var, f"more_{s.thing.var}", f"{VERBS[verb].var}_later")
    new = s.calc(f"{pile.var} + {added}", f"{s.thing.var}_now", f"total_{s.thing.var}")
    s.note(f"{pile.value} + {n} = {pile.value + n}")
    return Pile(new, pile.value + n, "count", pile.label, "gain")


def loss(s: Scene, pile: Pile, n: int, joined: bool = False) -> Pile:
    verb = _loss_verb(s)
    extra = {"n": n, "loss": s.verb(verb), "loss_pp": VERBS[verb].participle}
    _tell(s, LOSS, LOSS_CLAUSE, joined, **extra)
    taken = s.let(n, VERBS[verb].var, f"{VERBS[verb].var}_later")
    new = s.calc(f"{pile.var} - {taken}", f"{s.thing.var}_left", f"{s.thing.var}_remaining")
    s.note(f"{pile.value} - {n} = {pile.value - n}")
    return Pile(new, pile.value - n, "count", pile.label, "loss")


def give(s: Scene, pile: Pile, n: int, joined: bool = False) -> Pile:
    _tell(s, GIVE, GIVE_CLAUSE, joined, n=n)
    given = s.let(n, f"given_to_{s.other.var}", "given_away")
    new = s.calc(f"{pile.var} - {given}", f"{s.thing.var}_left", f"{s.thing.var}_remaining")
    s.note(f"{pile.value} - {n} = {pile.value - n}")
    return Pile(new, pile.value - n, "count", pile.label, "loss")


def receive(s: Scene, pile: Pile, n: int, joined: bool = False) -> Pile:
    _tell(s, RECEIVE, RECEIVE_CLAUSE, joined, n=n)
    got = s.let(n, f"from_{s.other.var}", "received")
    new = s.calc(f"{pile.var} + {got}", f"{s.thing.var}_now", f"total_{s.thing.var}")
    s.note(f"{pile.value} + {n} = {pile.value + n}")
    return Pile(new, pile.value + n, "count", pile.label, "gain")


def part_loss(
    s: Scene, pile: Pile, p: int, q: int, *, percent: bool, rest: bool, joined: bool = False
) -> Pile:
    """Lose p/q (or p percent, q = 100) of the pile; `rest`: the pile left (two steps),
    otherwise the part lost (one step)."""
    verb = _loss_verb(s)
    if percent:
        part = f"{p}%" if s.rng.random() < 0.7 else f"{p} percent"
    else:
        part = fraction_text(p, q, s.rng.random() < 0.4)
    extra = {"part": part, "loss": s.verb(verb), "loss_pp": VERBS[verb].participle}
    _tell(s, PART_LOSS, PART_LOSS_CLAUSE, joined, **extra)
    expression = f"{pile.var} // {q}" if p == 1 else f"{pile.var} * {p} // {q}"
    taken = s.calc(expression, VERBS[verb].var)
    amount = pile.value * p // q
    what = f"{p}% of {pile.value}" if percent else f"{part} of {pile.value}"
    s.note(f"{what} is {pile.value} × {p} / {q} = {amount}")
    if not rest:
        return Pile(taken, amount, "count", pile.label, "part", verb)
    new = s.calc(f"{pile.var} - {taken}", f"{s.thing.var}_left", f"{s.thing.var}_remaining")
    s.note(f"{pile.value} - {amount} = {pile.value - amount} left")
    return Pile(new, pile.value - amount, "count", pile.label, "loss")


def share(s: Scene, pile: Pile, k: int, joined: bool = False) -> tuple[Pile, str, str]:
    """Share equally among `k` people: the amount each gets (one step).
    Returns the pile, the people's plural and singular."""
    members, member = s.rng.choice(GROUPS)
    _tell(s, SHARE, SHARE_CLAUSE, joined, k=k, members=members)
    people = s.let(k, members)
    each = s.calc(f"{pile.var} // {people}", f"{s.thing.var}_each", f"{s.thing.var}_per_{member}")
    s.note(f"{pile.value} / {k} = {pile.value // k} each")
    return Pile(each, pile.value // k, "each", pile.label, "share"), members, member


def pack(s: Scene, pile: Pile, k: int, joined: bool = False) -> tuple[Pile, str, str]:
    """Pack into containers of `k`: how many containers are filled (one step)."""
    # Not the containers the story already counts ("18 cartons of eggs ... into cartons").
    fresh = [c for c in CONTAINERS[s.thing.kind] if c[1].replace(" ", "_") not in s.names]
    one, many = s.rng.choice(fresh)
    _tell(s, PACK, PACK_CLAUSE, joined, k=k, container=one, containers=many)
    per = s.let(k, f"per_{one}", f"{s.thing.var}_per_{one}")
    full = s.calc(f"{pile.var} // {per}", many.replace(" ", "_"), f"full_{many}")
    s.note(f"{pile.value} / {k} = {pile.value // k} {many}")
    return Pile(full, pile.value // k, "containers", many, "pack"), one, many


# --- money --------------------------------------------------------------------------------


def buy(s: Scene, pile: Pile, n: int, p: int) -> Pile:
    """Buy `n` of the scene's things at $p each from the money pile (two steps)."""
    s.tell(s.pick(BUY), n=n, p=p)
    price = s.let(p, "price", f"price_per_{s.thing.one.replace(' ', '_')}")
    count = s.let(n, s.thing.var, f"{s.thing.var}_bought")
    cost = s.calc(f"{count} * {price}", "cost", "total_cost")
    left = s.calc(f"{pile.var} - {cost}", "money_left", "money_remaining")
    s.note(f"{n} × ${p} = ${n * p}, and ${pile.value} - ${n * p} = ${pile.value - n * p}")
    return Pile(left, pile.value - n * p, "money", "dollars", "spend")


def spend(s: Scene, pile: Pile, n: int) -> Pile:
    purchase = s.rng.choice(PURCHASES)
    s.tell(s.pick(SPEND), n=n, purchase=purchase)
    spent = s.let(n, f"spent_on_{purchase.split()[-1]}", "spent")
    left = s.calc(f"{pile.var} - {spent}", "money_left", "money_remaining")
    s.note(f"${pile.value} - ${n} = ${pile.value - n}")
    return Pile(left, pile.value - n, "money", "dollars", "spend")


def earn(s: Scene, pile: Pile, n: int) -> Pile:
    chore = s.rng.choice(CHORES)
    s.tell(s.pick(EARN), n=n, chore=chore)
    earned = s.let(n, "earned", "earned_more")
    total = s.calc(f"{pile.var} + {earned}", "money_now", "total_money")
    s.note(f"${pile.value} + ${n} = ${pile.value + n}")
    return Pile(total, pile.value + n, "money", "dollars", "earn")


def sell_all(s: Scene, pile: Pile, p: int) -> Pile:
    """Sell the whole pile at $p each: the money made (one step)."""
    s.tell(s.pick(SELL_ALL), p=p)
    price = s.let(p, "price", "price_each")
    made = s.calc(f"{pile.var} * {price}", "money_made", "earned")
    s.note(f"{pile.value} × ${p} = ${pile.value * p}")
    return Pile(made, pile.value * p, "money", "dollars", "sell")


# --- question and answer ------------------------------------------------------------------

QUESTIONS = {
    "count": Forms(
        train=(
            "How many {things} {does} {name} have now?",
            "How many {things} {does} {name} end up with?",
            "How many {things} {does} {name} have in the end?",
            "Find how many {things} {name} {has} at the end.",
            "What is the number of {things} {name} {has} now?",
        ),
        held=("By the end, {name} {has} how many {things}?",),
    ),
    "loss": Forms(
        train=(
            "How many {things} {does} {name} have left?",
            "How many {things} {are} left?",
            "How many {things} {does} {name} still have?",
            "How many {things} {pl_remain}?",
            "Work out how many {things} {are} left.",
        ),
        held=("{name} {is} left with how many {things}?",),
    ),
    "part": Forms(
        train=(
            "How many {things} {does} {name} {loss_base}?",
            "How many of the {things} {are} {loss_pp}?",
            "Find the number of {things} {name} {loss}.",
        ),
        held=("Counting only the {loss_pp} {things}, how many {are} there?",),
    ),
    "each": Forms(
        train=(
            "How many {things} {does} each {member} get?",
            "How many {things} {it_does} each of the {members} receive?",
            "How many {things} {does} each {member} end up with?",
        ),
        held=("What {is} each {member}'s share of the {things}?",),
    ),
    "containers": Forms(
        train=(
            "How many {containers} {does} {name} fill?",
            "How many full {containers} {does} {he} get?",
            "How many {containers} {are} filled?",
        ),
        held=("What {is} the number of {containers} {he} {fill}?",),
    ),
    "spend": Forms(
        train=(
            "How much money {does} {name} have left?",
            "How many dollars {does} {name} have left?",
            "How much money {does} {name} still have?",
            "Find how much money {name} {has} left.",
        ),
        held=("What {is} left in {names} wallet, in dollars?",),
    ),
    "earn": Forms(
        train=(
            "How much money {does} {name} have now?",
            "How many dollars {does} {name} have in the end?",
            "Find how much money {name} {has} now.",
        ),
        held=("{names} money comes to how many dollars at the end?",),
    ),
    "sell": Forms(
        train=(
            "How much money {does} {name} make?",
            "How many dollars {does} {name} earn from the sale?",
            "Find how much money {name} {get} for them.",
        ),
        held=("The sale brings {name} how many dollars?",),
    ),
}


def ask(s: Scene, pile: Pile, **extra: object) -> str:
    """The question for the last step's pile."""
    if pile.verb:
        verb = VERBS[pile.verb]
        words = {"loss": s.verb(pile.verb), "loss_base": verb.base, "loss_pp": verb.participle}
        extra = {**words, **extra}
    kind = pile.unit
    if pile.unit == "count" and pile.last in ("loss", "part"):
        kind = pile.last
    elif pile.unit == "money":
        kind = pile.last if pile.last in ("earn", "sell") else "spend"
    bank = QUESTIONS[kind]
    if s.explicit:
        # With two people in the story, "How many are left?" could mean either: name the one.
        train = [f for f in bank.train if "{name" in f] or bank.train
        bank = Forms(train, [f for f in bank.held if "{name" in f] or bank.held)
    return s.say(s.pick(bank), **extra)


def who(s: Scene) -> tuple[str, str]:
    """How the answer names the main person, and their "has"."""
    if s.person is NARRATOR:
        return "You", "have"
    name = s.person.later
    return name[:1].upper() + name[1:], "has"


def answer(s: Scene, pile: Pile, *, member: str = "", containers: str = "") -> str:
    """One sentence stating the result, the only number in it."""
    subject, has = who(s)
    value = pile.value
    if pile.unit == "money":
        if pile.last == "sell":
            return f"{subject} {'make' if has == 'have' else 'makes'} ${human(value)}."
        left = " left" if pile.last == "spend" else " now"
        return f"{subject} {has} ${human(value)}{left}."
    if pile.unit == "each":
        return f"Each {member} gets {s.thing.count(value)}."
    if pile.unit == "containers":
        return f"{human(value)} {containers} are filled."
    if pile.last == "loss":
        return f"{subject} {has} {s.thing.count(value)} left."
    if pile.last == "groups":
        return f"There are {s.thing.count(value)} in all."
    if pile.last == "part":
        were = "was" if value == 1 else "were"
        return f"{s.thing.count(value)} {were} {VERBS[pile.verb].participle}."
    return f"{subject} {has} {s.thing.count(value)} now."


def exact(value: Fraction | int) -> int:
    """`value` as an int, which it must be (the steps keep every amount whole)."""
    if Fraction(value).denominator != 1:
        raise ValueError(f"{value} is not whole")
    return int(value)
