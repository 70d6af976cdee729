"""Family "word_problems", continued: unit prices and rates told as stories.

`unit_price`: the total for n items at a price, the price of one from a total, how many a sum
buys. `rate`: an amount per day/hour/week/minute times a duration, or the rate from a total
and a duration. Same frames, scenes and hold-out of sentence forms as `word_problems`.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

from worldmodel.data.templates.base import Draft, Values, human
from worldmodel.data.templates.story import Forms
from worldmodel.data.templates.word_problems import answer_subject, finish, scene, story_template

PRICE_TOTAL = Forms(
    train=(
        "Each {thing} {it_cost} ${p}. {name} {buy} {n} of them.",
        "{name} {buy} {n} {things} at ${p} each.",
        "{things} {pl_cost} ${p} each, and {name} {buy} {n}.",
        "{name} {buy} {n} {things}. One {thing} {it_cost} ${p}.",
    ),
    held=("{name} {pick} {n} {things} off the shelf, each with a price tag of ${p}.",),
)
TOTAL_QUESTION = Forms(
    train=(
        "How much {does} {he} spend?",
        "How much {does} {name} pay in total?",
        "What is the total cost?",
    ),
    held=("{name} {pay} how many dollars altogether?",),
)
PRICE_EACH = Forms(
    train=(
        "{name} {pay} ${t} for {n} {things}.",
        "{n} {things} {pl_cost} ${t} altogether.",
        "{name} {buy} {n} {things} for ${t} in total.",
    ),
    held=("The bill for {n} {things} {it_come} to ${t}.",),
)
EACH_QUESTION = Forms(
    train=(
        "How much {does} one {thing} cost?",
        "What is the price of each {thing}?",
        "How much {it_does} each {thing} cost if they all cost the same?",
    ),
    held=("Each {thing} {it_cost} how many dollars?",),
)
PRICE_COUNT = Forms(
    train=(
        "{name} {has} ${m}. {things} {pl_cost} ${p} each.",
        "{things} {pl_cost} ${p} each, and {name} {has} ${m} to spend.",
        "{name} {go} shopping with ${m}. Each {thing} {it_cost} ${p}.",
    ),
    held=("With ${m} in hand, {name} {look} at {things} priced at ${p} apiece.",),
)
COUNT_QUESTION = Forms(
    train=(
        "How many {things} {can} {he} buy?",
        "What is the most {things} {name} {can} buy?",
    ),
    held=("The money stretches to how many {things} at most?",),
)
CENTS = (0.25, 0.5, 0.75, 1.25, 1.5, 1.75, 2.25, 2.5, 3.5, 4.75)


@story_template("unit_price")
def unit_price(v: Values) -> Draft:
    s = scene(v)
    thing = s.thing.one.replace(" ", "_")
    subject, ending = answer_subject(s)
    pick = s.rng.random()
    if pick < 0.45:
        n = v.int(2, 30, key=True)
        cents = s.rng.random() < 0.3
        p = v.choice(CENTS) if cents else v.int(2, 60)
        shown = f"{p:.2f}" if cents else str(p)
        s.tell(s.pick(PRICE_TOTAL), n=n, p=shown)
        price = s.let(p, "price", f"price_per_{thing}")
        count = s.let(n, s.thing.var)
        cost = s.calc(f"{count} * {price}", "total_cost")
        question = s.say(s.pick(TOTAL_QUESTION))
        if cents:
            total = float(round(Fraction(str(p)) * n, 2))
            s.note(f"{n} × ${shown} = ${total:.2f}")
            answer = f"{subject} pay{ending} ${total:.2f} in total."
            show = f"round({cost}, 2)"
            return finish(s, question, total, cost, answer, "unit_price_total", show=show)
        s.note(f"{n} × ${p} = ${n * p}")
        answer = f"{subject} pay{ending} ${human(n * p)} in total."
        return finish(s, question, n * p, cost, answer, "unit_price_total")
    if pick < 0.75:
        n = v.int(2, 25)
        each = v.int(2, 80, key=True)
        t = n * each
        s.tell(s.pick(PRICE_EACH), n=n, t=t)
        total_var = s.let(t, "total_cost")
        count = s.let(n, s.thing.var)
        price = s.calc(f"{total_var} // {count}", "price", f"price_per_{thing}")
        s.note(f"${t} / {n} = ${each} each")
        question = s.say(s.pick(EACH_QUESTION))
        answer = f"Each {s.thing.one} costs ${each}."
        return finish(s, question, each, price, answer, "unit_price_each")
    p = v.int(2, 40)
    m = v.int(2 * p, 30 * p, key=True)
    s.tell(s.pick(PRICE_COUNT), m=m, p=p)
    money = s.let(m, "money")
    price = s.let(p, "price", f"price_per_{thing}")
    count = s.calc(f"{money} // {price}", f"{s.thing.var}_bought")
    s.note(f"${m} / ${p} = {m / p:.2f}, so {m // p} whole {s.thing.many}")
    question = s.say(s.pick(COUNT_QUESTION))
    answer = f"{subject} can buy {s.thing.count(m // p)}."
    return finish(s, question, m // p, count, answer, "unit_price_count")


@dataclass(frozen=True)
class Rate:
    """One kind of rate story: its variables, sentences and answers."""

    topic: str
    rate_var: str
    time_var: str
    total_var: str
    rates: tuple[int, int]
    """The range of the rate."""
    facts: Forms
    """States the rate {r} and the duration {t}."""
    total_question: Forms
    inverse_facts: Forms
    """States the total {total} and the duration {t}."""
    rate_question: Forms
    total_answer: str
    """The prose answer for the total: fields {subject}, {s} (verb ending), {x}."""
    rate_answer: str


RATES = (
    Rate(
        "reading",
        "pages_per_day",
        "days",
        "pages",
        (4, 60),
        Forms(
            train=(
                "{name} {read} {r} pages every day for {t} days.",
                "{name} {read} {r} pages a day. {he} {keep} this up for {t} days.",
                "Every day for {t} days, {name} {read} {r} pages of {his} book.",
            ),
            held=("{names} reading pace {is} {r} pages a day, and {he} {read} for {t} days.",),
        ),
        Forms(
            train=("How many pages {does} {he} read in all?", "How many pages {does} {name} read?"),
            held=("Over all those days, {name} {read} how many pages?",),
        ),
        Forms(
            train=(
                "{name} {read} {total} pages in {t} days, the same number each day.",
                "In {t} days, {name} {read} a {total}-page book, the same amount every day.",
            ),
            held=("{total} pages {are} read by {whom} over {t} days at a steady pace.",),
        ),
        Forms(
            train=(
                "How many pages {does} {he} read each day?",
                "How many pages a day {does} {name} read?",
            ),
            held=("What {is} {names} daily number of pages?",),
        ),
        "{subject} read{s} {x} pages in all.",
        "{subject} read{s} {x} pages a day.",
    ),
    Rate(
        "work",
        "pay_per_hour",
        "hours",
        "earnings",
        (8, 45),
        Forms(
            train=(
                "{name} {earn} ${r} an hour and {work} {t} hours.",
                "{name} {work} {t} hours at ${r} per hour.",
                "{name} {earn} ${r} per hour. {he} {work} for {t} hours this week.",
            ),
            held=("{names} pay {is} ${r} an hour, and {he} {put} in {t} hours.",),
        ),
        Forms(
            train=("How much {does} {he} earn?", "How much money {does} {name} earn in total?"),
            held=("For the whole time, {name} {earn} how many dollars?",),
        ),
        Forms(
            train=(
                "{name} {earn} ${total} for {t} hours of work.",
                "{name} {work} {t} hours and {earn} ${total}.",
            ),
            held=("{t} hours of work {pl_earn} {whom} ${total}.",),
        ),
        Forms(
            train=("How much {does} {he} earn per hour?", "What is {names} hourly pay?"),
            held=("Per hour, {name} {earn} how many dollars?",),
        ),
        "{subject} earn{s} ${x} in all.",
        "{subject} earn{s} ${x} per hour.",
    ),
    Rate(
        "driving",
        "km_per_hour",
        "hours",
        "distance_km",
        (30, 110),
        Forms(
            train=(
                "{name} {drive} at {r} km per hour for {t} hours.",
                "{name} {drive} for {t} hours at a steady {r} km per hour.",
                "For {t} hours, {name} {drive} at {r} km/h.",
            ),
            held=("{names} car {it_keep} a speed of {r} km per hour for {t} hours.",),
        ),
        Forms(
            train=("How far {does} {he} drive?", "How many kilometers {does} {name} drive?"),
            held=("What distance {does} {name} cover, in km?",),
        ),
        Forms(
            train=(
                "{name} {drive} {total} km in {t} hours at a steady speed.",
                "It {it_take} {whom} {t} hours to drive {total} km at a constant speed.",
            ),
            held=("{total} km {are} covered by {whom} in {t} hours at a constant speed.",),
        ),
        Forms(
            train=(
                "What is {his} speed in km per hour?",
                "How many km per hour {does} {name} drive?",
            ),
            held=("{name} {drive} how many km each hour?",),
        ),
        "{subject} drive{s} {x} km.",
        "{subject} drive{s} at {x} km per hour.",
    ),
    Rate(
        "saving",
        "saved_per_week",
        "weeks",
        "savings",
        (2, 50),
        Forms(
            train=(
                "{name} {save} ${r} every week for {t} weeks.",
                "{name} {save} ${r} a week. {he} {keep} saving for {t} weeks.",
            ),
            held=("For {t} weeks in a row, ${r} {it_go} into {names} piggy bank.",),
        ),
        Forms(
            train=("How much {does} {he} save in total?", "How much money {does} {name} save?"),
            held=("{names} savings add up to how many dollars?",),
        ),
        Forms(
            train=(
                "{name} {save} ${total} in {t} weeks, the same amount each week.",
                "Over {t} weeks, {name} {save} ${total}, the same amount every week.",
            ),
            held=("${total} {is} saved by {whom} over {t} weeks, in equal weekly amounts.",),
        ),
        Forms(
            train=(
                "How much {does} {he} save each week?",
                "How much money {does} {name} save per week?",
            ),
            held=("Every week, {name} {save} how many dollars?",),
        ),
        "{subject} save{s} ${x} in all.",
        "{subject} save{s} ${x} each week.",
    ),
    Rate(
        "machine",
        "bottles_per_minute",
        "minutes",
        "bottles",
        (5, 120),
        Forms(
            train=(
                "A machine {it_fill} {r} bottles every minute for {t} minutes.",
                "A bottling machine {it_fill} {r} bottles a minute. It {it_run} for {t} minutes.",
            ),
            held=(
                "Bottles {pl_come} off the line at {r} a minute, and it {it_run} for {t} minutes.",
            ),
        ),
        Forms(
            train=("How many bottles {it_does} it fill?", "How many bottles {are} filled in all?"),
            held=("The line fills how many bottles in total?",),
        ),
        Forms(
            train=(
                "A machine {it_fill} {total} bottles in {t} minutes at a steady pace.",
                "In {t} minutes, a bottling machine {it_fill} {total} bottles.",
            ),
            held=("{total} bottles {are} filled in {t} minutes, at an even pace.",),
        ),
        Forms(
            train=(
                "How many bottles {it_does} it fill each minute?",
                "How many bottles a minute {it_does} the machine fill?",
            ),
            held=("Each minute, how many bottles {are} filled?",),
        ),
        "The machine fills {x} bottles in all.",
        "The machine fills {x} bottles a minute.",
    ),
)


@story_template("rate")
def rate(v: Values) -> Draft:
    s = scene(v)
    kind = s.rng.choice(RATES)
    money = "$" if "$" in kind.total_answer else ""
    subject, ending = answer_subject(s)
    t = v.int(2, 14)
    if s.rng.random() < 0.55:
        r = v.int(*kind.rates, key=True)
        s.tell(s.pick(kind.facts), r=r, t=t)
        per = s.let(r, kind.rate_var)
        time = s.let(t, kind.time_var)
        total = s.calc(f"{per} * {time}", kind.total_var)
        s.note(f"{money}{r} × {t} = {money}{r * t}")
        question = s.say(s.pick(kind.total_question))
        answer = kind.total_answer.format(subject=subject, s=ending, x=human(r * t))
        return finish(s, question, r * t, total, answer, f"rate_total_{kind.topic}", personal=False)
    low, high = kind.rates
    all_ = v.choice(range(low * t, high * t + 1, t), key=True)
    s.tell(s.pick(kind.inverse_facts), total=all_, t=t)
    total = s.let(all_, kind.total_var)
    time = s.let(t, kind.time_var)
    per = s.calc(f"{total} // {time}", kind.rate_var)
    s.note(f"{money}{all_} / {t} = {money}{all_ // t}")
    question = s.say(s.pick(kind.rate_question))
    answer = kind.rate_answer.format(subject=subject, s=ending, x=human(all_ // t))
    return finish(s, question, all_ // t, per, answer, f"rate_per_{kind.topic}", personal=False)
