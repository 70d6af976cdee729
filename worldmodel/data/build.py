"""Building the dataset: generate, import GSM8K, verify every example, split and write files.

`build()` is the whole pipeline behind `wm data build`. Every candidate's code runs in the
process sandbox (a thread pool of `workers`), and only examples whose output matches their
independently computed answer are written. Everything that did not make it is counted with a
reason in the returned `BuildReport` and in `manifest.json`: generator shortfalls, GSM8K lines
that could not be converted, duplicates, and verification failures.

`extra_train` adds that many training examples per template from a separate stream
(`generate.generate_extra`, which also uses the training-only phrasings), drawn after every
other candidate and shuffled into train with their own RNG: the validation and test files stay
byte-identical to a build without them.

Output: `train.jsonl`, `validation.jsonl`, `test.jsonl` and `manifest.json` in `out`. The
same seed and options give byte-identical files on the same machine (records whose answer
depends on the machine, marked in their meta, can differ between machines).
"""

from __future__ import annotations

import hashlib
import json
import random
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sandbox.executor import Executor
from worldmodel.data import gsm8k
from worldmodel.data.generate import generate, generate_extra
from worldmodel.data.record import SPLITS, Example, normalize_question, to_record, write_jsonl
from worldmodel.data.verify import Verdict, default_executor, verify_code
from worldmodel.errors import FormatError
from worldmodel.format import DEFAULT_ALLOWED_MODULES

Progress = Callable[[int, int], None]
"""Called as progress(done, total) while examples are verified."""


@dataclass
class BuildReport:
    """What a build produced and what it rejected, with reasons."""

    counts: dict[str, int] = field(default_factory=dict)
    """Written records per split."""
    kept: dict[str, int] = field(default_factory=dict)
    """Verified records per source ("generated", "gsm8k")."""
    rejected: dict[str, int] = field(default_factory=dict)
    """Rejections per "<stage>: <reason>"."""
    rejected_examples: list[dict[str, str]] = field(default_factory=list)
    """The first rejections in full (id, stage, reason)."""
    shortfalls: list[str] = field(default_factory=list)
    gsm8k_lines: int = 0
    gsm8k_not_sampled: int = 0
    """Converted GSM8K examples left out by `gsm8k_limit` (not failures)."""
    seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "counts": self.counts,
            "kept": self.kept,
            "rejected": self.rejected,
            "rejected_examples": self.rejected_examples,
            "shortfalls": self.shortfalls,
            "gsm8k_lines": self.gsm8k_lines,
            "gsm8k_not_sampled": self.gsm8k_not_sampled,
        }


def generator_hash() -> str:
    """SHA-256 over the source of worldmodel/data (generators, importer, verification)."""
    root = Path(__file__).resolve().parent
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*.py")):
        digest.update(str(path.relative_to(root)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def verify_all(
    examples: list[Example],
    executor: Executor,
    workers: int,
    progress: Progress | None = None,
) -> list[Verdict]:
    """Verify every example in a thread pool; verdicts come back in the examples' order."""

    def one(example: Example) -> Verdict:
        return verify_code(
            executor,
            example.code,
            example.requires,
            example.expected,
            example.check,
            DEFAULT_ALLOWED_MODULES,
        )

    verdicts: list[Verdict] = []
    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        for verdict in pool.map(one, examples):
            verdicts.append(verdict)
            if progress:
                progress(len(verdicts), len(examples))
    return verdicts


def _reject(report: BuildReport, example_id: str, stage: str, reason: str) -> None:
    category = reason.split(":", 1)[0] if stage == "verify" else reason
    key = f"{stage}: {category}"
    report.rejected[key] = report.rejected.get(key, 0) + 1
    if len(report.rejected_examples) < 50:
        report.rejected_examples.append({"id": example_id, "stage": stage, "reason": reason})


def collect(
    seed: int,
    per_template: int,
    use_gsm8k: bool,
    gsm8k_limit: int,
    gsm8k_path: Path,
    report: BuildReport,
    extra_train: int = 0,
) -> list[Example]:
    """All candidates: generated ones, a seeded sample of converted GSM8K lines, then
    `extra_train` more training examples per template (`generate_extra`)."""
    seen: set[str] = set()
    generated = generate(seed, per_template, seen)
    report.shortfalls = generated.shortfalls
    candidates = list(generated.examples)
    if use_gsm8k:
        candidates += _gsm8k_candidates(seed, gsm8k_limit, gsm8k_path, report, seen)
    if extra_train:
        extra = generate_extra(seed, extra_train, seen)
        report.shortfalls = [*report.shortfalls, *extra.shortfalls]
        candidates += extra.examples
    return candidates


def _gsm8k_candidates(
    seed: int, gsm8k_limit: int, gsm8k_path: Path, report: BuildReport, seen: set[str]
) -> list[Example]:
    """The converted GSM8K lines not already in `seen`, sampled down to `gsm8k_limit`."""
    converted: list[Example] = []
    for number, example, reason in gsm8k.load(gsm8k_path):
        report.gsm8k_lines += 1
        if example is None:
            _reject(
                report,
                f"gsm8k-train-{number:05d}",
                "gsm8k convert",
                gsm8k.reason_category(reason or ""),
            )
            continue
        key = normalize_question(example.question)
        if key in seen:
            _reject(report, example.id, "gsm8k convert", "duplicate question")
            continue
        seen.add(key)
        converted.append(example)
    if 0 < gsm8k_limit < len(converted):
        rng = random.Random(f"{seed}:gsm8k")
        chosen = sorted(rng.sample(range(len(converted)), gsm8k_limit))
        report.gsm8k_not_sampled = len(converted) - gsm8k_limit
        converted = [converted[i] for i in chosen]
    return converted


def build(
    out: Path,
    *,
    seed: int = 0,
    per_template: int = 80,
    use_gsm8k: bool = True,
    gsm8k_limit: int = 0,
    gsm8k_path: Path = gsm8k.SOURCE,
    extra_train: int = 0,
    workers: int = 2,
    executor: Executor | None = None,
    progress: Progress | None = None,
    on_candidates: Callable[[int], None] | None = None,
) -> BuildReport:
    """Generate, verify and write the dataset into `out`; returns the report."""
    import time

    started = time.perf_counter()
    report = BuildReport()
    candidates = collect(
        seed, per_template, use_gsm8k, gsm8k_limit, gsm8k_path, report, extra_train
    )
    if on_candidates:
        on_candidates(len(candidates))
    owned = executor is None
    executor = executor or default_executor()
    try:
        verdicts = verify_all(candidates, executor, workers, progress)
    finally:
        if owned:
            executor.close()
    by_split: dict[str, list[dict[str, Any]]] = {split: [] for split in SPLITS}
    extra: list[dict[str, Any]] = []
    kept: Counter[str] = Counter()
    for example, verdict in zip(candidates, verdicts, strict=True):
        if not verdict.ok:
            _reject(report, example.id, "verify", verdict.reason)
            continue
        try:
            record = to_record(example, verdict.stdout)
        except FormatError as exc:  # e.g. a tag-like string inside GSM8K text
            _reject(report, example.id, "render", exc.reason)
            continue
        (extra if example.meta.get("stream") == "extra" else by_split[example.split]).append(record)
        kept[example.source] += 1
    shuffle = random.Random(f"{seed}:order")
    for records in by_split.values():
        shuffle.shuffle(records)
    if extra:
        # Shuffled in with an RNG of their own, so the order of the other splits is unchanged.
        by_split["train"] += extra
        random.Random(f"{seed}:order:extra").shuffle(by_split["train"])
    for split, records in by_split.items():
        report.counts[split] = write_jsonl(out / f"{split}.jsonl", records)
    report.kept = dict(sorted(kept.items()))
    manifest = {
        "seed": seed,
        "per_template": per_template,
        "gsm8k": use_gsm8k,
        "gsm8k_limit": gsm8k_limit,
        "extra_train": extra_train,
        "generator_sha256": generator_hash(),
        "total": sum(report.counts.values()),
        **report.to_dict(),
        "families": dict(
            sorted(Counter(r["family"] for rs in by_split.values() for r in rs).items())
        ),
    }
    (out / "manifest.json").write_text(
        json.dumps(manifest, indent=2, sort_keys=True) + "\n", encoding="utf-8"
    )
    report.seconds = time.perf_counter() - started
    return report
