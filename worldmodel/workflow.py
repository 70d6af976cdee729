"""The whole workflow in one call: build data -> train -> evaluate -> sample answers.

Each stage calls the same library function its own command uses (`wm data build`,
`wm train`, `wm eval`, `wm query`) and writes into one run folder:

    <out>/data/{train,validation,test}.jsonl   the verified data this run trained on
    <out>/train/                               checkpoints, adapter, metrics (see wm train)
    <out>/eval.json                            the evaluation report (both answer modes)
    <out>/samples.json                         answers to a few sample questions
    <out>/workflow.json                        the settings, each stage's timing and result

Presets: ``quick`` (a small dataset and a few training steps: minutes on a CPU, to try the
workflow end to end) and ``full`` (the committed data recipe and configs/smollm2-cpu.yaml).
This module does not print; callers pass `on_stage` to report progress.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

SAMPLE_QUESTIONS = (
    "What is 15% of 200?",
    "How many vowels are in the word 'encyclopedia'?",
    "What is the median of 4, 9, 1, 7 and 3?",
)


@dataclass(frozen=True)
class WorkflowConfig:
    """Settings of one whole-workflow run; every field has a default."""

    out: str
    """Run folder; every stage writes under it."""
    model: str = "bundled"
    """Base model: a local HF model directory, or 'bundled'."""
    per_template: int = 4
    """Generated examples per template (81 templates)."""
    gsm8k_limit: int = 100
    """GSM8K problems to convert and verify (0: none)."""
    seed: int = 0
    """Seed for data generation and training."""
    train_overrides: dict[str, Any] = field(default_factory=dict)
    """TrainConfig settings on top of the preset's config file."""
    train_config_file: str | None = "configs/smollm2-cpu-quick.yaml"
    """YAML config the training stage starts from (None: TrainConfig defaults)."""
    eval_limit: int = 24
    """Test questions to evaluate per mode (stratified by family)."""
    sandbox: str = "process"
    """Execution backend for verification, evaluation and samples: 'vm' or 'process'."""
    samples: Sequence[str] = SAMPLE_QUESTIONS
    """Questions answered at the end, as a look at the trained model."""
    max_new_tokens: int = 256
    """Generation budget per answer during evaluation and samples."""


PRESETS: dict[str, dict[str, Any]] = {
    "quick": {},
    "full": {
        "per_template": 80,
        "gsm8k_limit": 1500,
        "train_config_file": "configs/smollm2-cpu.yaml",
        "eval_limit": 200,
    },
}


def preset(name: str, out: str, **overrides: Any) -> WorkflowConfig:
    """The named preset's settings, with `overrides` on top (None values are ignored)."""
    if name not in PRESETS:
        raise ValueError(f"unknown preset {name!r}; choose one of {', '.join(PRESETS)}")
    settings = {**PRESETS[name], **{k: v for k, v in overrides.items() if v is not None}}
    return replace(WorkflowConfig(out=out), **settings)


def run_workflow(
    config: WorkflowConfig, *, on_stage: Callable[[str, dict[str, Any]], None] | None = None
) -> dict[str, Any]:
    """Run every stage in order; returns (and writes) the workflow summary."""
    from sandbox.registry import get_executor
    from worldmodel.data.build import build
    from worldmodel.evaluate import better_mode, evaluate, load_items, stratified
    from worldmodel.format import MODES
    from worldmodel.generate import GenerationConfig, Generator
    from worldmodel.pipeline import Pipeline
    from worldmodel.train.config import build_config, load_yaml
    from worldmodel.train.trainer import train

    out = Path(config.out)
    out.mkdir(parents=True, exist_ok=True)
    summary: dict[str, Any] = {"config": _jsonable(asdict(config)), "stages": {}}

    def stage(name: str, result: dict[str, Any], started: float) -> None:
        result["seconds"] = round(time.perf_counter() - started, 2)
        summary["stages"][name] = result
        (out / "workflow.json").write_text(json.dumps(summary, indent=2) + "\n")
        if on_stage:
            on_stage(name, result)

    executor = get_executor(config.sandbox)
    try:
        started = time.perf_counter()
        report = build(
            out / "data",
            seed=config.seed,
            per_template=config.per_template,
            use_gsm8k=config.gsm8k_limit > 0,
            gsm8k_limit=config.gsm8k_limit,
            executor=executor,
        )
        stage("data", {"written": dict(report.counts), "rejected": dict(report.rejected)}, started)

        started = time.perf_counter()
        layers = (
            [load_yaml(_config_path(config.train_config_file))] if config.train_config_file else []
        )
        layers.append(
            {
                "model": config.model,
                "train_file": str(out / "data" / "train.jsonl"),
                "validation_file": str(out / "data" / "validation.jsonl"),
                "output_dir": str(out / "train"),
                "seed": config.seed,
                "progress": False,
                **config.train_overrides,
            }
        )
        result = train(build_config(*layers), command="wm workflow")
        if result.adapter_dir is None:
            raise RuntimeError("training produced no adapter")
        stage("train", asdict(result), started)

        started = time.perf_counter()
        generator = Generator(
            config.model,
            result.adapter_dir,
            config=GenerationConfig(max_new_tokens=config.max_new_tokens),
        )
        items, problems = load_items(out / "data" / "test.jsonl")
        items = stratified(items, config.eval_limit)
        reports = [
            evaluate(Pipeline(generator, executor, mode=mode), items, skipped_lines=problems)
            for mode in MODES
        ]
        best = better_mode(reports)
        evaluation = {
            "better_mode": best,
            "reports": [r.to_dict() for r in reports],
        }
        (out / "eval.json").write_text(json.dumps(evaluation, indent=2) + "\n")
        stage(
            "eval",
            {"better_mode": best, "metrics": {r.mode: r.metrics for r in reports}},
            started,
        )

        started = time.perf_counter()
        answers = Pipeline(generator, executor, mode=best).answer_many(list(config.samples))
        samples = [answer.to_dict() for answer in answers]
        (out / "samples.json").write_text(json.dumps(samples, indent=2) + "\n")
        stage(
            "samples",
            {
                "answers": [
                    {
                        "question": a.question,
                        "final": a.final,
                        "claim": a.claim,
                        "verification": a.verification.status,
                    }
                    for a in answers
                ]
            },
            started,
        )
    finally:
        executor.close()
    return summary


def _config_path(name: str) -> Path:
    """A config file as given, else relative to this checkout (configs/ is not packaged)."""
    path = Path(name)
    if path.is_file() or path.is_absolute():
        return path
    return Path(__file__).resolve().parents[1] / path


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    return value
