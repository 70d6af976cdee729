"""Family "word_problems": everyday one-step word problems told as short, varied stories.

Each template is one kind of problem (change, combine, compare, equal groups, sharing,
remainders, unit prices, rates, fractions and percentages of a quantity). Its question is
composed, not fixed: `story.Scene` picks the people, things, tense and sentence forms, and
`steps` writes each sentence with its code and reasoning. The phrasings are *frames* that
place the story and the question (question last or first, with or without a lead-in); the
last frame is held out, and a story asked in it is written only in held-out sentence forms,
so the test split's phrasing hold-out has sentences no training example uses.

Every example's meta names its `kind` and its number of `steps` (computed lines of code).
Two- and three-step mixes and distractors are in `chains`; bare arithmetic in `expressions`.
"""

from __future__ import annotations

from collections.abc import Callable

from worldmodel.data.templates import steps
from worldmodel.data.templates.base import Draft, Values, num, template
from worldmodel.data.templates.story import (
    CONTAINERS,
    GAIN_VERBS,
    GROUPS,
    NARRATOR,
    PLACES,
    VERBS,
    Forms,
    Scene,
)

FAMILY = "word_problems"

FRAMES = (
    "{story} {question}",
    "{question} {story}",
    "{story} Please answer: {question}",
    "Word problem: {story} {question}",
    "{story} {question} Show your working.",
    "Here's one from my homework. {story} {question}",
    "{question} (Context: {story})",
    "Please solve this: {story} {question}",
    "Can you help me with this? {story} {question}",
    "{story}\nQuestion: {question}",
    "Q: {question}\nDetails: {story}",
    "I'm stuck on this problem. {story} {question} Thanks!",
    "{story} My question is: {question}",
    "Solve step by step. {story} {question}",
    "{question} Here is the situation: {story}",
    "Math problem:\n{story}\n{question}",
    "Here is a little puzzle for you. {story} And now the question: {question}",
)
"""Where the story and the question go. The last frame is held out for the test split."""

HELD_OUT = len(FRAMES) - 1


def scene(v: Values, **options: bool) -> Scene:
    """A scene for `v`, in held-out sentence forms when the question uses the held-out frame."""
    return Scene(v, v.phrasing == HELD_OUT, **options)


def finish(
    s: Scene,
    question: str,
    value: int | float,
    result: str,
    answer: str,
    kind: str,
    *,
    show: str | None = None,
    personal: bool = True,
) -> Draft:
    """The Draft for a told scene: the story (with maybe a context sentence; one about the
    person and their things only when `personal`), the question, the code printing `result`
    (or `show`), and meta with the kind and number of steps."""
    steps.aside(s, personal)
    return Draft(
        slots={"story": s.story(), "question": question},
        reasoning=s.reasoning(),
        code=s.program(show or result),
        requires=tuple(s.imports),
        answer=answer,
        expected=num(value),
        meta={"kind": kind, "steps": s.steps},
    )


def story_template(name: str) -> Callable:
    """Register a word-problem template `name`, asked in the FRAMES."""
    return template(name, FAMILY, FRAMES)


def answer_subject(s: Scene) -> tuple[str, str]:
    """How the answer names the main person and the verb ending ("Ana", "s" / "You", "")."""
    subject, has = steps.who(s)
    return subject, "" if has == "have" else "s"


# --- change -------------------------------------------------------------------------------


@story_template("gain")
def gain(v: Values) -> Draft:
    s = scene(v)
    pile = steps.start(s, v.int(3, 400, key=True))
    joined = s.rng.random() < 0.35
    n = v.int(2, 250)
    if s.rng.random() < 0.6:
        kind, pile = "gain", steps.gain(s, pile, n, joined)
    else:
        kind, pile = "receive", steps.receive(s, pile, n, joined)
    question = steps.ask(s, pile)
    return finish(s, question, pile.value, pile.var, steps.answer(s, pile), kind)


@story_template("loss")
def loss(v: Values) -> Draft:
    s = scene(v)
    start = v.int(10, 500, key=True)
    pile = steps.start(s, start)
    joined = s.rng.random() < 0.35
    n = v.int(2, start - 1)
    if s.rng.random() < 0.6:
        kind, pile = "loss", steps.loss(s, pile, n, joined)
    else:
        kind, pile = "give", steps.give(s, pile, n, joined)
    question = steps.ask(s, pile)
    return finish(s, question, pile.value, pile.var, steps.answer(s, pile), kind)


# --- combine and compare ------------------------------------------------------------------

TWO_PEOPLE = Forms(
    train=(
        "{name} {has} {a} {things} and {o_name} {o_has} {b}.",
        "{name} {has} {a} {things}. {o_name} {o_has} {b} {things}.",
        "{o_name} {o_has} {b} {things}, and {name} {has} {a}.",
        "{name} {gain} {a} {things}, and {o_name} {o_gain} {b}.",
    ),
    held=("{a} {things} {pl_belong} to {whom} and {b} to {o_name}.",),
)


def tell_two(s: Scene, a: int, b: int) -> None:
    """The person has `a` of the things and the other person `b`."""
    verb = s.rng.choice(GAIN_VERBS[s.thing.kind])
    s.tell(s.pick(TWO_PEOPLE), a=a, b=b, gain=s.verb(verb), o_gain=s.verb(verb, "o"))
    s.explicit = True


BOTH_QUESTION = Forms(
    train=(
        "How many {things} {pl_does} they have altogether?",
        "How many {things} {pl_does} {name} and {o_name} have in total?",
        "How many {things} {pl_does} the two of them have together?",
    ),
    held=("Between the two of them, how many {things} {are} there?",),
)
DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
OVER_DAYS = Forms(
    train=(
        "On {d1}, {name} {gain} {a} {things}. On {d2}, {he} {gain} {b}.",
        "{name} {gain} {a} {things} on {d1} and {b} on {d2}.",
        "{name} {gain} {a} {things} on {d1}. The next day {he} {gain} {b} more.",
    ),
    held=("{d1} {it_bring} {whom} {a} {things}, and {d2} {it_bring} {b} more.",),
)
THIRD_DAY = Forms(train=("On {d3}, {he} {gain} {c}.",), held=("{d3} {it_bring} {c} more.",))
DAYS_QUESTION = Forms(
    train=(
        "How many {things} {does} {name} {gain_base} in all?",
        "How many {things} {does} {he} {gain_base} over those days?",
        "What is the total number of {things} {name} {gain}?",
    ),
    held=("Over those days, {name} {gain} how many {things} in total?",),
)
KINDS_OF = {
    "fruit": ("ripe", "green"),
    "baked": ("chocolate", "vanilla", "lemon"),
    "toy": ("red", "blue", "green", "yellow"),
    "supply": ("red", "blue", "green", "black"),
    "garden": ("red", "yellow", "white"),
    "book": ("paperback", "hardcover"),
}
MISSING_PART = Forms(
    train=(
        "{name} {has} {t} {things}. {a} of them {are} {c1} and the rest {are} {c2}.",
        "Of the {t} {things} in {names} {place}, {a} {are} {c1}; the others {are} {c2}.",
        "There {are} {t} {things} in {names} {place}: {a} {c1} ones and some {c2} ones.",
    ),
    held=("{name} {count} {t} {things}, and all but {a} of them {are} {c2}.",),
)
MISSING_QUESTION = Forms(
    train=(
        "How many {c2} {things} {does} {name} have?",
        "How many {c2} {things} {are} there?",
        "How many of the {things} {are} {c2}?",
    ),
    held=("What {is} the number of {c2} {things}?",),
)


@story_template("combine")
def combine(v: Values) -> Draft:
    s = scene(v)
    things = s.thing.var
    pick = s.rng.random()
    if pick < 0.35:
        a, b = v.int(2, 400, key=True), v.int(2, 400)
        tell_two(s, a, b)
        first = s.let(a, f"{s.person.var}_{things}")
        second = s.let(b, f"{s.other.var}_{things}")
        total = s.calc(f"{first} + {second}", f"total_{things}")
        s.note(f"{a} + {b} = {a + b}")
        question = s.say(s.pick(BOTH_QUESTION))
        who = f"You and {s.other.later}" if s.person is NARRATOR else "They"
        answer = f"{who} have {s.thing.count(a + b)} altogether."
        return finish(s, question, a + b, total, answer, "combine_people")
    if pick < 0.7:
        verb = s.rng.choice(GAIN_VERBS[s.thing.kind])
        d1 = s.rng.randrange(5)
        days = {"d1": DAYS[d1], "d2": DAYS[d1 + 1], "d3": DAYS[d1 + 2]}
        a, b = v.int(2, 300, key=True), v.int(2, 300)
        extra = {"gain": s.verb(verb), "gain_base": VERBS[verb].base, **days}
        s.tell(s.pick(OVER_DAYS), a=a, b=b, **extra)
        parts = [a, b]
        if s.rng.random() < 0.4:
            parts.append(v.int(2, 300))
            s.tell(s.pick(THIRD_DAY), c=parts[2], **extra)
        names = [s.let(x, f"{things}_{DAYS[d1 + i].lower()}") for i, x in enumerate(parts)]
        total = s.calc(" + ".join(names), f"total_{things}")
        s.note(f"{' + '.join(map(str, parts))} = {sum(parts)}")
        question = s.say(s.pick(DAYS_QUESTION), **extra)
        subject, _ = answer_subject(s)
        answer = f"{subject} {VERBS[verb].past} {s.thing.count(sum(parts))} in all."
        return finish(s, question, sum(parts), total, answer, "combine_days")
    c1, c2 = s.rng.sample(KINDS_OF[s.thing.kind], 2)
    t = v.int(5, 500, key=True)
    a = v.int(1, t - 1)
    place = s.rng.choice(PLACES[s.thing.kind])
    s.tell(s.pick(MISSING_PART), t=t, a=a, c1=c1, c2=c2, place=place)
    total = s.let(t, f"total_{things}")
    known = s.let(a, f"{c1}_{things}")
    rest = s.calc(f"{total} - {known}", f"{c2}_{things}")
    s.note(f"{t} - {a} = {t - a} {c2}")
    question = s.say(s.pick(MISSING_QUESTION), c2=c2)
    verb = "is" if t - a == 1 else "are"
    answer = f"{t - a} of the {s.thing.many} {verb} {c2}."
    return finish(s, question, t - a, rest, answer, "missing_part")


DIFFERENCE_QUESTION = Forms(
    train=(
        "How many more {things} {does} {name} have than {o_name}?",
        "How many fewer {things} {o_does} {o_name} have than {name}?",
        "What is the difference between the numbers of {things} they have?",
    ),
    held=("{o_name} would need how many more {things} to match {whom}?",),
)
MORE_FEWER = Forms(
    train=(
        "{o_name} {o_has} {b} {things}. {name} {has} {d} {more} than {o_name}.",
        "{name} {has} {d} {more} {things} than {o_name}, who {o_has} {b}.",
        "{o_name} {o_has} {b} {things}, and {name} {has} {d} {more}.",
    ),
    held=("Compared with {o_names} {b} {things}, {names} pile is {d} {bigger}.",),
)
TIMES = Forms(
    train=(
        "{name} {has} {times} as many {things} as {o_name}, who {o_has} {b}.",
        "{o_name} {o_has} {b} {things}. {name} {has} {times} as many.",
    ),
    held=("For every {thing} {o_name} {o_has}, {name} {has} {k}; {o_name} {o_has} {b}.",),
)
HOW_MANY_MAIN = Forms(
    train=(
        "How many {things} {does} {name} have?",
        "How many {things} {does} {name} own?",
        "Find the number of {things} {name} {has}.",
    ),
    held=("What {is} {names} count of {things}?",),
)
TIMES_WORDS = {2: "twice", 3: "three times", 4: "four times", 5: "five times", 10: "ten times"}


@story_template("compare")
def compare(v: Values) -> Draft:
    s = scene(v)
    things = s.thing.var
    pick = s.rng.random()
    subject, ending = answer_subject(s)
    if pick < 0.4:
        a = v.int(5, 500, key=True)
        b = v.int(1, a - 1)
        tell_two(s, a, b)
        first = s.let(a, f"{s.person.var}_{things}")
        second = s.let(b, f"{s.other.var}_{things}")
        diff = s.calc(f"{first} - {second}", "difference", "more")
        s.note(f"{a} - {b} = {a - b}")
        question = s.say(s.pick(DIFFERENCE_QUESTION))
        answer = f"The difference is {a - b} {s.thing.one if a - b == 1 else s.thing.many}."
        return finish(s, question, a - b, diff, answer, "difference")
    if pick < 0.8:
        more = s.rng.random() < 0.55
        b = v.int(5, 400, key=True)
        d = v.int(1, 300) if more else v.int(1, b - 1)
        words = (
            {"more": "more", "bigger": "bigger"} if more else {"more": "fewer", "bigger": "smaller"}
        )
        s.tell(s.pick(MORE_FEWER), b=b, d=d, **words)
        base = s.let(b, f"{s.other.var}_{things}")
        gap = s.let(d, "more" if more else "fewer", "difference")
        a = b + d if more else b - d
        result = s.calc(f"{base} {'+' if more else '-'} {gap}", f"{s.person.var}_{things}")
        s.note(f"{b} {'+' if more else '-'} {d} = {a}")
        question = s.say(s.pick(HOW_MANY_MAIN))
        answer = f"{subject} ha{'s' if ending else 've'} {s.thing.count(a)}."
        return finish(s, question, a, result, answer, "more_than" if more else "fewer_than")
    k = s.rng.choice(tuple(TIMES_WORDS))
    b = v.int(2, 120, key=True)
    s.tell(s.pick(TIMES), b=b, k=k, times=TIMES_WORDS[k] if s.rng.random() < 0.5 else f"{k} times")
    base = s.let(b, f"{s.other.var}_{things}")
    factor = s.let(k, "times")
    result = s.calc(f"{base} * {factor}", f"{s.person.var}_{things}")
    s.note(f"{b} × {k} = {b * k}")
    question = s.say(s.pick(HOW_MANY_MAIN))
    answer = f"{subject} ha{'s' if ending else 've'} {s.thing.count(b * k)}."
    return finish(s, question, b * k, result, answer, "times_as_many")


# --- groups, sharing and remainders -------------------------------------------------------

IN_ALL = Forms(
    train=(
        "How many {things} {does} {name} have in all?",
        "How many {things} {are} there altogether?",
        "How many {things} is that in total?",
    ),
    held=("Counting every {container}, how many {things} {are} there?",),
)


@story_template("equal_groups")
def equal_groups(v: Values) -> Draft:
    s = scene(v)
    g = v.int(2, 40, key=True)
    k = v.int(2, 48)
    pile = steps.groups_start(s, g, k)
    container = next(one for one, many in CONTAINERS[s.thing.kind] if many in s.sentences[-1])
    question = s.say(s.pick(IN_ALL), container=container)
    return finish(s, question, pile.value, pile.var, steps.answer(s, pile), "equal_groups")


@story_template("sharing")
def sharing(v: Values) -> Draft:
    s = scene(v)
    k = v.int(2, 12)
    n = v.choice(range(2 * k, 40 * k + 1, k), key=True)
    pile = steps.start(s, n)
    joined = s.rng.random() < 0.4
    if s.rng.random() < 0.5:
        each, members, member = steps.share(s, pile, k, joined)
        question = steps.ask(s, each, members=members, member=member)
        answer = steps.answer(s, each, member=member)
        return finish(s, question, each.value, each.var, answer, "share")
    full, one, many = steps.pack(s, pile, k, joined)
    question = steps.ask(s, full, container=one, containers=many)
    answer = steps.answer(s, full, containers=many)
    return finish(s, question, full.value, full.var, answer, "pack")


LEFT_OVER = Forms(
    train=(
        "How many {things} {are} left over?",
        "How many {things} {pl_does} not fit?",
        "How many {things} {does} {name} have left after that?",
    ),
    held=("What number of {things} {is} left out?",),
)
FULL = Forms(
    train=(
        "How many {containers} {can} {he} fill completely?",
        "How many full {containers} {does} {name} make?",
    ),
    held=("Only full {containers} count: how many {are} there?",),
)
NEEDED = Forms(
    train=(
        "How many {containers} {does} {name} need to pack all of them?",
        "How many {containers} {are} needed for all the {things}?",
    ),
    held=("To hold every {thing}, what number of {containers} {is} needed?",),
)
PACK_ONLY = Forms(
    train=(
        "{he} {want} to pack them into {containers} of {k}.",
        "Each {container} {it_hold} {k} {things}.",
        "{name} {pack} the {things} into {containers} that hold {k} each.",
    ),
    held=("{containers} of {k} {are} what {name} {use} for packing.",),
)


@story_template("leftover")
def leftover(v: Values) -> Draft:
    s = scene(v)
    k = v.int(3, 15)
    n = v.choice([x for x in range(k + 1, 30 * k) if x % k], key=True)
    pile = steps.start(s, n)
    pick = s.rng.random()
    if pick < 0.4:
        members = _share_sentence(s, k)
        people = s.let(k, members)
        rest = s.calc(f"{pile.var} % {people}", "left_over")
        s.note(f"{n} = {k} × {n // k} + {n % k}, so {n % k} are left over")
        question = s.say(s.pick(LEFT_OVER))
        verb = "is" if n % k == 1 else "are"
        answer = f"{s.thing.count(n % k)} {verb} left over."
        return finish(s, question, n % k, rest, answer, "remainder")
    one, many = s.rng.choice(CONTAINERS[s.thing.kind])
    s.tell(s.pick(PACK_ONLY), k=k, container=one, containers=many)
    per = s.let(k, f"per_{one}")
    subject, ending = answer_subject(s)
    if pick < 0.7:
        full = s.calc(f"{pile.var} // {per}", f"full_{many}")
        s.note(f"{n} / {k} = {n / k:.2f}, so {n // k} full {many}")
        question = s.say(s.pick(FULL), container=one, containers=many)
        answer = f"{subject} can fill {n // k} {one if n // k == 1 else many}."
        return finish(s, question, n // k, full, answer, "full_groups")
    s.imports.append("math")
    needed = s.calc(f"math.ceil({pile.var} / {per})", f"{many}_needed")
    s.note(f"{n} / {k} = {n / k:.2f}, rounded up to {-(-n // k)} {many}")
    question = s.say(s.pick(NEEDED), container=one, containers=many)
    answer = f"{subject} need{ending} {-(-n // k)} {many}."
    return finish(s, question, -(-n // k), needed, answer, "round_up")


def _share_sentence(s: Scene, k: int) -> str:
    """The person shares the pile among `k` people; returns what they are called."""
    members, _ = s.rng.choice(GROUPS)
    s.tell(s.pick(steps.SHARE), k=k, members=members)
    return members
