"""Spotting a response that has started to repeat itself.

A small model sometimes falls into a loop: the same sentence in its reasoning, or the same
line of code with a counter in it (`total_7 = total_6 + 20`), over and over until the token
limit. Nothing after the first few copies is worth generating, and a response cut off by the
limit has no closed `<model>` block, so nothing runs.

`repeated_unit(text)` looks at the section the text is in now (the open `<think>`, the open
`<model>`, or the prose after the last closing tag) and splits it into units: lines in code;
sentences and clauses (split after `.`, `!`, `?`, `;` or `,` and whitespace) and lines in
reasoning and prose. Only finished units count (the last piece may still be growing) and only
those of at least `min_chars` characters, so short lines such as `else:` never do. It returns
a unit that occurs `exact` times verbatim, or `numbered` times once every run of digits reads
`0` (the counting loops), and None otherwise.

The thresholds were set against the data: on the 17,015 gold responses of `data/` then (GSM8K
solutions included) the defaults never fired at any point of a response, while they spot a
loop in each of the 8 responses of the bundled model (v8, without this guard) that lacked one
of the three blocks on the 300-question test sample. Legitimate enumerations do repeat a
numbered sentence ("After the fifth hour, 800 * 2 = 1600 ants." is the fifth of its kind),
which is why the numbered threshold is twice the verbatim one. `guard_cut` checks a
whole response that way: the GSM8K importer rejects a solution the guard would cut (1 of
6,895, a month-by-month doubling written out eight times), and `tests/test_loops.py` checks
every gold response of `data/` with it.
"""

from __future__ import annotations

import re
from collections import Counter

EXACT_REPEATS = 3
"""A unit seen this many times verbatim in one section is a loop."""
NUMBERED_REPEATS = 6
"""A unit seen this many times with its numbers ignored is a loop."""
MIN_CHARS = 20
"""Units shorter than this are never counted."""

_TAG = re.compile(r"<(/?)(think|model|output)>")
_PROSE_UNITS = re.compile(r"(?<=[.!?;,])\s+|\n")
_CODE_UNITS = re.compile(r"\n")
_DIGITS = re.compile(r"\d+")


def section(text: str) -> tuple[str, str]:
    """(kind, body) of the section `text` ends in: "think" or "code" while that tag is open,
    else "prose": everything after the last `<think>`, `<model>` or `<output>` tag (or the
    whole text when there is none). `<requires>` tags do not start a section: prose that loops
    through a stray `</requires>` is still one section, so its copies add up."""
    tags = list(_TAG.finditer(text))
    if not tags:
        return "prose", text
    last = tags[-1]
    closing, name = last.group(1), last.group(2)
    body = text[last.end() :]
    if not closing and name == "think":
        return "think", body
    if not closing and name == "model":
        return "code", body
    return "prose", body


def repeated_unit(
    text: str,
    *,
    exact: int = EXACT_REPEATS,
    numbered: int = NUMBERED_REPEATS,
    min_chars: int = MIN_CHARS,
) -> str | None:
    """The unit that repeats too often in the section `text` ends in, or None (see module)."""
    kind, body = section(text)
    splitter = _CODE_UNITS if kind == "code" else _PROSE_UNITS
    finished = splitter.split(body)[:-1]
    units = [unit.strip() for unit in finished]
    units = [unit for unit in units if len(unit) >= min_chars]
    if not units:
        return None
    verbatim = Counter(units)
    unit, count = verbatim.most_common(1)[0]
    if count >= exact:
        return unit
    numbers = Counter(_DIGITS.sub("0", unit) for unit in units)
    unit, count = numbers.most_common(1)[0]
    if count >= numbered:
        return unit
    return None


_UNIT_ENDS = re.compile(r"\n|[.!?;,]\s")


def guard_cut(text: str) -> str | None:
    """The unit on which the guard would stop `text` if a model wrote it, checked at every point
    a unit finishes (as generation checks it), or None. Training data must pass: a response
    the guard cuts is one the model could never finish."""
    for match in [*_UNIT_ENDS.finditer(text), None]:
        unit = repeated_unit(text[: match.end() if match else len(text)])
        if unit is not None:
            return unit
    return None


def unit_finished(before: str, piece: str) -> bool:
    """Whether appending `piece` to `before` can finish a unit (so a check is worth doing):
    it holds a newline, or it brings whitespace after a clause's closing punctuation."""
    if "\n" in piece:
        return True
    if not piece:
        return False
    joined = before[-1:] + piece
    return any(joined[i] in ".!?;," and joined[i + 1].isspace() for i in range(len(joined) - 1))
