"""The dataset record: one JSON object per line, in the chat-messages shape TRL reads.

A record looks like::

    {"messages": [{"role": "user", "content": question},
                  {"role": "assistant", "content": rendered response}],
     "id": "percent_of-3f2a9c01d4", "family": "arithmetic", "template": "percent_of",
     "phrasing": 2, "source": "generated" | "gsm8k", "expected": "150.0",
     "output": "150.0\\n", "check": "number", "split": "train" | "validation" | "test",
     "holdout": null | "values" | "phrasing", "meta": {...}}

`output` is the verified stdout (training renders an answer-after-execution variant from it);
`check` is the comparison rule of `verify.matches`; `meta` holds the drawn values and, for
machine-dependent answers, a note saying so. This module builds, writes and reads records;
it does not generate or verify them.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from worldmodel.errors import DataError
from worldmodel.format import BUILTINS_REQUIREMENT, Requirement, Response, render

SPLITS = ("train", "validation", "test")
HOLDOUTS = (None, "values", "phrasing")
SOURCES = ("generated", "gsm8k", "self")
FIELDS = (
    "messages",
    "id",
    "family",
    "template",
    "phrasing",
    "source",
    "expected",
    "output",
    "check",
    "split",
    "holdout",
)
"""Fields every record must have (`meta` is optional)."""


def holdout_label(holdout: str | None) -> str:
    """A hold-out kind as reports and `wm eval --holdout` name it: in-distribution is "none"."""
    return holdout or "none"


@dataclass
class Example:
    """One candidate example before (and after) verification."""

    id: str
    family: str
    template: str
    phrasing: int
    source: str
    question: str
    reasoning: str
    code: str
    requires: tuple[str, ...]
    answer: str
    expected: str
    check: str
    split: str
    holdout: str | None = None
    answer_from_output: bool = False
    meta: dict[str, Any] = field(default_factory=dict)


def normalize_question(text: str) -> str:
    """The key deduplication compares: lower-case, single spaces, no trailing punctuation."""
    return re.sub(r"\s+", " ", text.lower()).strip().rstrip(".?!")


def stable_id(prefix: str, text: str) -> str:
    """An id that depends only on `prefix` and the question text."""
    return f"{prefix}-{hashlib.sha1(text.encode('utf-8')).hexdigest()[:10]}"


def response_of(example: Example, output: str) -> Response:
    """The assistant's response for a verified example (its prose answer filled if needed)."""
    answer = example.answer
    if example.answer_from_output:
        answer = answer.replace("{output}", output.strip())
    return Response(
        reasoning=example.reasoning,
        code=(example.code,),
        # Code that imports nothing still declares <requires>python:builtins</requires>.
        requirements=tuple(Requirement("python", m) for m in example.requires)
        or (BUILTINS_REQUIREMENT,),
        answer=answer,
    )


def to_record(example: Example, output: str) -> dict[str, Any]:
    """The JSONL record of a verified example; `output` is the stdout that verified it."""
    meta = dict(example.meta)
    if example.answer_from_output:
        meta["nondeterministic"] = (
            "the answer depends on the machine or the clock; it was checked with a predicate "
            "and the prose answer states the output observed at build time"
        )
    return {
        "messages": [
            {"role": "user", "content": example.question},
            {"role": "assistant", "content": render(response_of(example, output))},
        ],
        "id": example.id,
        "family": example.family,
        "template": example.template,
        "phrasing": example.phrasing,
        "source": example.source,
        "expected": example.expected,
        "output": output,
        "check": example.check,
        "split": example.split,
        "holdout": example.holdout,
        "meta": meta,
    }


def write_jsonl(path: Path, records: Iterable[dict[str, Any]]) -> int:
    """Write records one per line (stable key order, UTF-8); returns how many were written."""
    path.parent.mkdir(parents=True, exist_ok=True)
    count = 0
    with path.open("w", encoding="utf-8", newline="\n") as handle:
        for record in records:
            handle.write(json.dumps(record, ensure_ascii=False) + "\n")
            count += 1
    return count


def read_jsonl(path: Path) -> Iterator[tuple[int, dict[str, Any] | None, str | None]]:
    """Yield (line number, record or None, error or None) for every non-blank line.

    A line that is not UTF-8 text or not a JSON object yields an error instead of raising, so
    one bad line never hides the rest of the file, and nothing is silently replaced (training
    must not learn replacement characters; a checker must report the line).
    """
    with path.open("rb") as handle:
        for number, raw in enumerate(handle, start=1):
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                byte = raw[exc.start]
                yield number, None, f"not UTF-8 text: byte 0x{byte:02x} at column {exc.start + 1}"
                continue
            if not line.strip():
                continue
            try:
                value = json.loads(line)
            except json.JSONDecodeError as exc:
                yield number, None, f"bad JSON: {exc.msg} (column {exc.colno})"
                continue
            if not isinstance(value, dict):
                yield number, None, f"bad JSON: expected an object, got {type(value).__name__}"
                continue
            yield number, value, None


def missing_fields(record: dict[str, Any]) -> list[str]:
    """Required fields the record lacks or holds with the wrong shape."""
    missing = [name for name in FIELDS if name not in record]
    for name, kind in (
        ("id", str),
        ("family", str),
        ("template", str),
        ("phrasing", int),
        ("expected", str),
        ("check", str),
    ):
        if name in record and not isinstance(record[name], kind):
            missing.append(f"{name} (must be {kind.__name__})")
    messages = record.get("messages")
    if "messages" in record and not (
        isinstance(messages, list)
        and len(messages) == 2
        and all(isinstance(m, dict) and isinstance(m.get("content"), str) for m in messages)
        and [m.get("role") for m in messages] == ["user", "assistant"]
    ):
        missing.append("messages (must be [user, assistant] with string content)")
    return missing


def read_records(path: str | Path, limit: int | None = None) -> list[dict[str, Any]]:
    """Records of a JSONL file; `DataError` names the file and line of the first malformed one
    (training stops there: `wm data check` lists every problem of a file at once)."""
    source = Path(path)
    if not source.is_file():
        raise DataError(f"data file {source} does not exist (build it with `wm data build`)")
    records: list[dict[str, Any]] = []
    for number, record, error in read_jsonl(source):
        if record is None:
            raise DataError(f"{source}:{number}: {error}")
        record["_line"] = number
        records.append(record)
        if limit is not None and len(records) >= limit:
            break
    if not records:
        raise DataError(f"data file {source} holds no records")
    return records
