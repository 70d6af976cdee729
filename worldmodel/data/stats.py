"""Counting a dataset: records per family, template, split, hold-out and source.

Used by `wm data stats` and the manifest. Bad lines are counted, not fatal. This module does
not verify records (see `check`).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from worldmodel.data.record import read_jsonl

DIMENSIONS = ("family", "template", "split", "holdout", "source")


def dataset_files(targets: Sequence[Path]) -> list[Path]:
    """The .jsonl files named, or found directly inside named directories (sorted)."""
    files: list[Path] = []
    for target in targets:
        if target.is_dir():
            files.extend(sorted(target.glob("*.jsonl")))
        else:
            files.append(target)
    return files


def count(files: Sequence[Path]) -> dict[str, Any]:
    """{"total", "bad_lines", "files", and one {value: count} table per dimension}."""
    tables: dict[str, Counter[str]] = {d: Counter() for d in DIMENSIONS}
    total = bad = 0
    per_file: dict[str, int] = {}
    for path in files:
        n = 0
        for _, record, _error in read_jsonl(path):
            if record is None:
                bad += 1
                continue
            n += 1
            for dimension in DIMENSIONS:
                value = record.get(dimension)
                tables[dimension]["none" if value is None else str(value)] += 1
        per_file[str(path)] = n
        total += n
    return {
        "total": total,
        "bad_lines": bad,
        "files": per_file,
        **{d: dict(sorted(t.items())) for d, t in tables.items()},
    }
