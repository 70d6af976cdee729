"""The template machinery: how one question family turns a seed into one example.

A `Template` names a family, a set of phrasings (format strings for the question) and a
`build` function. `build` receives a `Values` drawer and returns a `Draft`: the question's slot
values, a short reasoning, readable Python code that prints the answer, the modules it
imports, a one-sentence prose answer, and the expected answer computed by the generator's own
Python (never by running the code string) with the rule used to compare it.

`Values` is where value hold-out lives: a value is *reserved* when a stable hash of its text
falls in a fixed bucket (see `is_reserved`). Ordinary examples never draw a reserved value;
value-holdout examples draw their key value from the reserved set, so those values never
appear in train or validation.

This module does not execute code, split data or write files.
"""

from __future__ import annotations

import builtins
import random
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

T = TypeVar("T")

FAMILIES = ("arithmetic", "text", "system", "data", "advanced_math", "word_problems")
"""The generated families, in build order. A new family goes last, so the families before it
draw exactly the examples they drew without it (`generate` fills templates in this order and
deduplicates against everything drawn before)."""

RESERVED_BUCKETS = 8
"""One value in RESERVED_BUCKETS (by hash) is held out for the test split."""


def is_reserved(value: object) -> bool:
    """True when `value` belongs to the held-out value set (stable across runs and machines)."""
    text = str(value).strip().lower()
    return zlib.crc32(text.encode("utf-8")) % RESERVED_BUCKETS == 0


class NoHoldoutValue(Exception):
    """A key draw asked for a reserved value but its range holds none."""


class Values:
    """Draws the values of one example from a seeded RNG, honouring value hold-out.

    With `holdout=False` every draw skips reserved values. With `holdout=True` the draw made
    with `key=True` comes from the reserved set (other draws still skip it), so the example
    tests values the model never saw in training.
    """

    def __init__(
        self, rng: random.Random, *, holdout: bool = False, phrasing: int | None = None
    ) -> None:
        self.rng = rng
        self.holdout = holdout
        self.phrasing = phrasing
        """The number of the phrasing the question will be asked in (None outside a build).
        Templates that compose the question's sentences themselves read it to write the held-out
        phrasing in held-out sentence forms too (`word_problems`); the others ignore it."""
        self.drawn: list[str] = []
        self.key: str | None = None

    def choice(self, options: Sequence[T], *, key: bool = False) -> T:
        """One of `options`; reserved ones are excluded unless this is the held-out key."""
        if self.holdout and key:
            pool = [o for o in options if is_reserved(o)]
            if not pool:
                raise NoHoldoutValue(f"no reserved value among {len(options)} options")
            value = self.rng.choice(pool)
        else:
            # Rejection sampling: cheap for large ranges, and 7 in 8 values are allowed.
            for _ in range(1000):
                value = self.rng.choice(options)
                if not is_reserved(value):
                    break
            else:
                raise ValueError(f"every one of {len(options)} options is reserved")
        self.drawn.append(str(value))
        if key:
            self.key = str(value)
        return value

    # These two methods shadow the builtins in the rest of the class body, so the annotations
    # below them say `builtins.int`.
    def int(self, lo: int, hi: int, *, key: bool = False) -> int:
        """An integer in [lo, hi]."""
        return self.choice(range(lo, hi + 1), key=key)

    def float(self, lo: float, hi: float, digits: builtins.int = 1, *, key: bool = False) -> float:
        """A number in [lo, hi] with `digits` decimals (never a whole number)."""
        scale = 10**digits
        steps = range(round(lo * scale), round(hi * scale) + 1)
        options = _Scaled(steps, scale, digits)
        return self.choice(options, key=key)

    def sample(self, options: Sequence[T], k: builtins.int) -> list[T]:
        """`k` distinct non-reserved options, in random order."""
        pool = [o for o in options if not is_reserved(o)]
        values = self.rng.sample(pool, k)
        self.drawn.extend(str(v) for v in values)
        return values

    def ints(self, lo: builtins.int, hi: builtins.int, k: builtins.int) -> list[builtins.int]:
        """`k` integers in [lo, hi] (repeats allowed), none reserved."""
        pool = [i for i in range(lo, hi + 1) if not is_reserved(i)]
        values = [self.rng.choice(pool) for _ in range(k)]
        self.drawn.extend(str(v) for v in values)
        return values


class _Scaled(Sequence[float]):
    """The non-whole numbers i / scale for i in `steps`, as a lazy sequence."""

    def __init__(self, steps: range, scale: int, digits: int) -> None:
        self.steps = [i for i in steps if i % scale != 0]
        self.scale = scale
        self.digits = digits

    def __len__(self) -> int:
        return len(self.steps)

    # Only ever indexed by an int (random.choice): no slice overload, hence the ignore.
    def __getitem__(self, index: builtins.int) -> float:  # type: ignore[override]
        return round(self.steps[index] / self.scale, self.digits)


@dataclass(frozen=True)
class Draft:
    """One example as a template builds it, before rendering and execution."""

    slots: dict[str, Any]
    """Values for the question phrasing's {placeholders}."""
    reasoning: str
    code: str
    requires: tuple[str, ...]
    """Python modules the code imports, exactly (e.g. ("math",))."""
    answer: str
    """One sentence stating the value."""
    expected: str
    """The expected stdout (or the predicate's argument), computed without running `code`."""
    check: str = "number"
    """How stdout is compared: "number", "exact" or "predicate:<name>" (see verify.matches)."""
    answer_from_output: bool = False
    """True for non-deterministic answers: the prose answer's {output} is filled from stdout."""
    meta: dict[str, Any] = field(default_factory=dict)
    """More facts for the record's `meta` (e.g. a word problem's kind and number of steps)."""


@dataclass(frozen=True)
class Template:
    """A question family member: phrasings plus a build function.

    `phrasings` are the wordings every split draws from; the last one is held out for the test
    split (`splits.plan`). `train_phrasings` are wordings added after the test split was fixed:
    only the extra training stream (`generate.generate_extra`) uses them, so adding them leaves
    the validation and test splits byte-identical. Their phrasing numbers continue after the
    held-out one (`wording`).
    """

    name: str
    family: str
    phrasings: tuple[str, ...]
    build: Callable[[Values], Draft] = field(repr=False)
    train_phrasings: tuple[str, ...] = ()

    @property
    def held_out(self) -> int:
        """The number of the phrasing kept for the test split's phrasing hold-out."""
        return len(self.phrasings) - 1

    @property
    def training(self) -> tuple[int, ...]:
        """The numbers of every phrasing a training example may use (all but the held-out)."""
        extra = range(len(self.phrasings), len(self.phrasings) + len(self.train_phrasings))
        return (*range(self.held_out), *extra)

    def wording(self, phrasing: int) -> str:
        """The format string of phrasing number `phrasing` (see `train_phrasings`)."""
        if phrasing < len(self.phrasings):
            return self.phrasings[phrasing]
        return self.train_phrasings[phrasing - len(self.phrasings)]


REGISTRY: dict[str, Template] = {}


def template(
    name: str, family: str, phrasings: Sequence[str], train_phrasings: Sequence[str] = ()
) -> Callable:
    """Register `build` as the template `name` of `family` with these phrasings (the last one
    held out for test) and training-only `train_phrasings` (see `Template`)."""
    if family not in FAMILIES:
        raise ValueError(f"unknown family {family!r}")
    if len(phrasings) < 3:
        raise ValueError(f"template {name!r} needs at least 3 phrasings")

    def register(build: Callable[[Values], Draft]) -> Callable[[Values], Draft]:
        if name in REGISTRY:
            raise ValueError(f"template {name!r} registered twice")
        REGISTRY[name] = Template(name, family, tuple(phrasings), build, tuple(train_phrasings))
        return build

    return register


def num(value: float | int, digits: int = 2) -> str:
    """How the code prints a number and how the expected answer is written: Python's repr of
    `round(value, digits)` for floats, plain digits for ints."""
    if isinstance(value, int):
        return str(value)
    return repr(round(value, digits))


def human(value: float | int, digits: int = 2) -> str:
    """A number as a sentence states it: thousands separators, no trailing ".0"."""
    if isinstance(value, float):
        value = round(value, digits)
        if value.is_integer():
            value = int(value)
    if isinstance(value, int):
        return f"{value:,}"
    return f"{value:,}"


def code(*lines: str) -> str:
    """Join code lines; a tiny helper so templates read as the program they emit."""
    return "\n".join(lines) + "\n"
