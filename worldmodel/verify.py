"""Checking what a model claims against what its code printed.

A response carries a prose answer ("15% of 200 is 30.") and code whose execution printed a
value ("30.0"). `verify_claim` compares the two and returns one of three verdicts:

- ``verified``: a value the prose states as its result equals the executed value;
- ``mismatch``: the prose states results, and none of them equals the executed value;
- ``unverifiable``: there is nothing to compare (the code failed or printed nothing, or the
  prose states no value).

The stated results are the numbers right after "is", "are", "equals", "=", ":" and the like
("15% of 200 is 30" states 30, not 15 or 200), or the last number when the prose has no such
word. So "30% of 200 is 300" is a mismatch with a printed 30 even though "30" appears in it.
The digits of a date or clock time the prose names ("from 2024-01-01 to 2024-03-01") are not
stated results.
A result written first ("30 is 15% of 200") reads as stating 15: a false mismatch, never a
false verification.

Numbers compare with a tolerance that respects how precisely the prose wrote them
("3.14" matches 3.14159, "about 33.3%" matches 33.333...). Text values compare after
normalising case, whitespace and surrounding punctuation.

This module does not execute anything and does not decide what the final answer is; the
pipeline does that (the final answer is always the executed value).
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

Status = Literal["verified", "mismatch", "unverifiable"]

# A number as people and programs write it: optional sign, thousands separators, decimals,
# exponent. Thousands groups must be exactly three digits so "1,2,3" stays three numbers.
_NUMBER = re.compile(
    r"""(?<![\w.])              # not glued to a word or another number
        (?P<sign>[-+−])?
        (?P<int>\d{1,3}(?:,\d{3})+|\d+)?
        (?P<frac>\.\d+)?
        (?:[eE](?P<exp>[-+]?\d+))?
        (?![\w])""",
    re.VERBOSE,
)
_FRACTION = re.compile(r"(?<![\w./])(-?\d+)\s*/\s*(\d+)(?![\w./])")


@dataclass(frozen=True)
class Number:
    """A number found in text, with the precision it was written at."""

    value: float
    decimals: int
    text: str


@dataclass
class Verification:
    """The verdict on one answer. JSON-serialisable via `to_dict`."""

    status: Status
    reason: str
    executed: str | None = None
    """The executed value the claim was compared against (last line of stdout)."""
    claimed: list[str] = field(default_factory=list)
    """The values found in the prose answer."""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Verification:
        return cls(**data)


def extract_numbers(text: str) -> list[Number]:
    """Every number in `text`, in order: "1,234.5", "-3", "2e-3", "3/4" (as 0.75), "15%"."""
    return [number for _, number in _numbers_at(text)]


# Words after which prose states a result: "is 30", "are 3 vowels", "= 42", "answer: 7".
_RESULT_MARK = re.compile(
    r"\b(?:is|are|was|were|equals?|gives|makes|comes\s+to|totals?)\b|[=≈:]", re.IGNORECASE
)


# Dates and clock times: the prose names them ("from 2024-01-01 to 2024-03-01", "at 12:35"),
# their digits are not results it states.
_DATE_OR_TIME = re.compile(r"(?<![\w.])(?:\d{4}-\d{2}-\d{2}|\d{1,2}:\d{2}(?::\d{2})?)(?![\w])")


def stated_results(text: str) -> list[Number]:
    """The numbers `text` states as its result: the first number after each "is", "=", ...
    (see the module docstring), or the last number when no such word is followed by one.
    The parts of a date or clock time are not numbers it states."""
    numbers = _numbers_at(text, masked=[m.span() for m in _DATE_OR_TIME.finditer(text)])
    if not numbers:
        return []
    stated: list[Number] = []
    for mark in _RESULT_MARK.finditer(text):
        after = next((number for start, number in numbers if start >= mark.end()), None)
        if after is not None and after not in stated:
            stated.append(after)
    return stated or [numbers[-1][1]]


def _numbers_at(text: str, masked: Sequence[tuple[int, int]] = ()) -> list[tuple[int, Number]]:
    """(start offset, number) for every number in `text` outside the `masked` spans, in order."""
    found: list[tuple[int, Number]] = []
    taken: list[tuple[int, int]] = list(masked)
    for match in _FRACTION.finditer(text):
        if any(start <= match.start() < end for start, end in taken):
            continue
        num, den = int(match.group(1)), int(match.group(2))
        if den != 0:
            found.append((match.start(), Number(num / den, 6, match.group(0))))
            taken.append(match.span())
    for match in _NUMBER.finditer(text):
        if not (match.group("int") or match.group("frac")):
            continue
        if any(start <= match.start() < end for start, end in taken):
            continue
        sign = -1.0 if match.group("sign") in ("-", "−") else 1.0
        digits = (match.group("int") or "0").replace(",", "") + (match.group("frac") or "")
        exponent = int(match.group("exp") or 0)
        try:
            value = sign * float(digits) * (10.0**exponent)
        except OverflowError:
            continue
        if not math.isfinite(value):
            continue
        decimals = max(0, len((match.group("frac") or ".")[1:]) - exponent)
        found.append((match.start(), Number(value, decimals, match.group(0))))
    return sorted(found, key=lambda pair: pair[0])


def numbers_match(claimed: Number, executed: float, *, rel_tol: float = 1e-6) -> bool:
    """Whether a written number agrees with a computed one, at the precision it was written."""
    if math.isclose(claimed.value, executed, rel_tol=rel_tol, abs_tol=1e-9):
        return True
    if claimed.decimals < 12:
        # "3.14" stands for anything that rounds to 3.14; allow half a unit in the last place
        # (plus float noise), but never for integers written without decimals unless the
        # computed value is itself within rounding of that integer.
        half_unit = 0.5 * 10.0 ** (-claimed.decimals)
        return abs(claimed.value - executed) <= half_unit * (1 + 1e-9)
    return False


def normalise_text(value: str) -> str:
    """Lower-case, collapse whitespace, strip quotes and trailing punctuation."""
    value = " ".join(value.split()).lower()
    return value.strip(" \t\"'`.,;:!?")


def executed_value(stdout: str) -> str | None:
    """The value a program printed: its last non-empty output line, stripped."""
    for line in reversed(stdout.splitlines()):
        if line.strip():
            return line.strip()
    return None


def verify_claim(answer: str, stdout: str | None, *, execution_ok: bool = True) -> Verification:
    """Compare the prose `answer` with the executed output `stdout`."""
    if not execution_ok:
        return Verification("unverifiable", "the code did not run successfully")
    value = executed_value(stdout or "")
    if value is None:
        return Verification("unverifiable", "the code printed nothing")
    # The numbers the prose states as its result (empty exactly when it states no number).
    results = stated_results(answer)
    executed_numbers = extract_numbers(value)
    if executed_numbers and len(executed_numbers) == 1:
        target = executed_numbers[0].value
        if not results:
            if normalise_text(value) and normalise_text(value) in normalise_text(answer):
                return Verification("verified", "the answer repeats the printed value", value)
            return Verification("unverifiable", "the answer states no number to compare", value, [])
        texts = [claim.text for claim in results]
        if any(numbers_match(claim, target) for claim in results):
            return Verification(
                "verified", "the result the answer states equals the output", value, texts
            )
        return Verification(
            "mismatch",
            f"the code printed {value} but the answer states {', '.join(texts)}",
            value,
            texts,
        )
    # Text (or several values on one line): the answer must contain the printed line.
    wanted = normalise_text(value)
    if wanted and wanted in normalise_text(answer):
        return Verification("verified", "the answer contains the printed value", value, [answer])
    if wanted in _BOOLEAN_WORDS:
        words = set(re.findall(r"[a-z']+", answer.lower()))
        said_true = bool(words & _BOOLEAN_WORDS["true"])
        said_false = bool(words & _BOOLEAN_WORDS["false"])
        if said_true != said_false:
            agrees = said_true == (wanted == "true")
            status: Status = "verified" if agrees else "mismatch"
            return Verification(
                status,
                f"the answer says {'yes' if said_true else 'no'}; the code printed {value}",
                value,
                [answer],
            )
        return Verification("unverifiable", "the answer states no clear yes or no", value)
    texts = [claim.text for claim in results] or [answer]
    if (
        executed_numbers
        and results
        and all(
            any(numbers_match(claim, number.value) for claim in results)
            for number in executed_numbers
        )
    ):
        return Verification(
            "verified", "every printed number is a result the answer states", value, texts
        )
    if not answer.strip():
        return Verification("unverifiable", "the response has no prose answer", value)
    return Verification(
        "mismatch", f"the code printed {value!r}; the answer does not state it", value, texts
    )


_BOOLEAN_WORDS = {
    "true": {"yes", "true", "correct"},
    "false": {"no", "not", "false", "isn't", "incorrect"},
}
