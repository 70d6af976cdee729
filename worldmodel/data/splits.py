"""How examples are divided into train, validation and test, and how hold-out is kept honest.

Per template, the test split holds three kinds of example:

- `holdout="phrasing"`: the template's last phrasing, which no train or validation example
  uses;
- `holdout="values"`: a key value from the reserved set (`templates.base.is_reserved`), which
  no train or validation example draws at all;
- `holdout=None`: ordinary in-distribution test examples.

GSM8K examples go to train and validation only, by a hash of their id (no hold-out kinds):
the test split is the generated families', so it measures them and nothing adapted from
GSM8K's training set. `leaks` re-checks both
hold-out promises on finished records; the tests and `wm data check` use it. This module does
not generate or verify examples.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from worldmodel.data.templates.base import is_reserved


@dataclass(frozen=True)
class Slot:
    """A kind of example a template is asked for, and how many."""

    split: str
    holdout: str | None
    count: int


def plan(per_template: int) -> list[Slot]:
    """The slots for one template, in fill order (hold-outs first, then train)."""
    phrasing = max(1, round(per_template * 0.06))
    values = max(1, round(per_template * 0.06))
    test = max(1, round(per_template * 0.05))
    validation = max(1, round(per_template * 0.08))
    train = max(1, per_template - phrasing - values - test - validation)
    return [
        Slot("test", "phrasing", phrasing),
        Slot("test", "values", values),
        Slot("train", None, train),
        Slot("validation", None, validation),
        Slot("test", None, test),
    ]


def gsm8k_split(example_id: str) -> str:
    """Train or validation (95 / 5) by a stable hash of the id; never test.

    The validation buckets (90-94) are the ones of the earlier 90/5/5 split, so a GSM8K
    example that was in validation stays there; the old test buckets (95-99) now train."""
    bucket = int(hashlib.sha1(example_id.encode("utf-8")).hexdigest()[:8], 16) % 100
    return "validation" if 90 <= bucket < 95 else "train"


def leaks(records: Iterable[dict[str, Any]]) -> list[tuple[str, str]]:
    """Hold-out promises broken by these records as (record id, problem); [] when both hold.

    - no train/validation record of a template uses a phrasing that a phrasing-holdout record
      of the same template uses;
    - no train/validation record drew a reserved value (`meta.values`), and every
      value-holdout record's key value is reserved.
    """
    problems: list[tuple[str, str]] = []
    seen: dict[tuple[str, int], list[str]] = {}
    held: set[tuple[str, int]] = set()
    for record in records:
        if record.get("source") != "generated" or not (
            isinstance(record.get("template"), str) and isinstance(record.get("phrasing"), int)
        ):
            continue
        key = (record["template"], record["phrasing"])
        meta = record.get("meta")
        if not isinstance(meta, dict):
            meta = {}
        values = meta.get("values")
        if not isinstance(values, list):
            values = []
        if record["holdout"] == "phrasing":
            held.add(key)
        if record["split"] in ("train", "validation"):
            seen.setdefault(key, []).append(record["id"])
            reserved = [v for v in values if is_reserved(v)]
            if reserved:
                problems.append(
                    (record["id"], f"{record['split']} record uses reserved values {reserved}")
                )
        if record["holdout"] == "values" and not is_reserved(meta.get("key")):
            problems.append(
                (record["id"], f"value-holdout key {meta.get('key')!r} is not reserved")
            )
    for key in sorted(held & set(seen)):
        problems.append(
            (seen[key][0], f"uses phrasing {key[1]} of {key[0]}, which is held out for test")
        )
    return problems
