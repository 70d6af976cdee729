"""The training configuration: one dataclass, YAML files, CLI overrides, validation.

Precedence: field defaults < YAML file (`wm train --config FILE`) < CLI flags (`--set k=v` and
the named flags). `validate` collects every problem and raises one `ConfigError` listing them
all, each naming the setting to change. The resolved config is saved as JSON beside every
checkpoint and the final adapter, so a run can be reproduced.

This module does not train (see `trainer`).
"""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from worldmodel.errors import ConfigError
from worldmodel.model.device import DEVICES, PRECISIONS, ROCM_ENV_KEYS

DEFAULT_TARGETS = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]

# Settings a resumed run may change without breaking bit-for-bit continuation. output_dir and
# run_name only say where the run folder is, and the checkpoint was found there: a folder moved,
# mounted elsewhere, or mirrored into another box's staging folder (`workers.artifacts`)
# continues the same run.
RESUME_MAY_CHANGE = frozenset(
    {"resume", "threads", "progress", "log_every", "keep_checkpoints", "output_dir", "run_name"}
)
# Settings a resumed run may change to train longer (or stop sooner, but not before the step it
# reached): the batches continue in exactly the same order, and the learning-rate schedule is
# recomputed for the new length from the step reached on.
RESUME_MAY_EXTEND = frozenset({"epochs", "max_steps"})


def _f(default: Any, help: str) -> Any:
    """A dataclass field with an immutable default and its one-line help."""
    return field(default=default, metadata={"help": help})


@dataclass
class TrainConfig:
    """Every setting of a LoRA training run. `help(field)` gives each one's meaning and units."""

    model: str = _f("bundled", "base model: a local HF model directory, or 'bundled'")
    train_file: str = _f("data/train.jsonl", "training records (chat-messages JSONL)")
    extra_train_files: list[str] = field(
        default_factory=list,
        metadata={
            "help": "more training JSONL files, read after train_file (e.g. the self-training "
            "stream data/self/train.jsonl); max_train_examples limits train_file only"
        },
    )
    validation_file: str | None = _f(
        "data/validation.jsonl", "validation records for per-epoch loss; null to skip"
    )
    output_dir: str = _f("", "run folder; '' means <WM_HOME>/runs/<run_name>")
    run_name: str = _f("worldmodel-lora", "name of the run folder when output_dir is ''")
    with_output: bool = _f(
        False, "answer-after-execution variant: insert the record's <output> block (no loss)"
    )
    plain_share: float = _f(
        0.0,
        "with with_output: this fraction of records (a seeded draw) stays plain, so one adapter "
        "serves both answer modes",
    )
    max_train_examples: int | None = _f(None, "use only the first N training records; null: all")
    max_seq_len: int = _f(1024, "tokens per packed row; longer examples are dropped and counted")
    packing: bool = _f(True, "pack several examples per row (else one example per row)")
    batch_size: int = _f(4, "rows per micro-batch")
    grad_accum: int = _f(1, "micro-batches per optimizer step")
    epochs: int = _f(3, "passes over the training data")
    max_steps: int | None = _f(None, "stop after this many optimizer steps; null: all epochs")
    learning_rate: float = _f(2e-4, "peak learning rate (AdamW), reached after warmup")
    weight_decay: float = _f(0.0, "AdamW weight decay")
    warmup_ratio: float = _f(0.05, "fraction of total steps spent warming up linearly from 0")
    max_grad_norm: float = _f(1.0, "gradient clipping norm; 0 disables clipping")
    lora_r: int = _f(16, "LoRA rank")
    lora_alpha: int = _f(32, "LoRA alpha (scale = alpha / r)")
    lora_dropout: float = _f(0.05, "dropout on the LoRA input (probability)")
    lora_targets: list[str] = field(
        default_factory=lambda: list(DEFAULT_TARGETS),
        metadata={"help": "module names that get LoRA adapters"},
    )
    init_adapter: str | None = _f(
        None,
        "start from this PEFT adapter's weights (e.g. fine-tune an adapter further on new "
        "data; 'bundled': the committed one); its rank, alpha and targets must match; fresh "
        "optimizer and schedule; null: fresh LoRA",
    )
    gradient_checkpointing: bool = _f(False, "recompute activations in backward to save memory")
    precision: str = _f("auto", "auto|fp32|bf16|fp16; auto: fp32 on CPU, bf16 (else fp16) on GPU")
    device: str = _f("auto", "auto|cpu|cuda|cuda:N|rocm|rocm:N")
    threads: int | None = _f(None, "CPU threads for torch; null: torch's default")
    rocm_env: dict[str, str] = field(
        default_factory=dict,
        metadata={"help": "ROCm variables applied before GPU init (HSA_OVERRIDE_GFX_VERSION, ...)"},
    )
    seed: int = _f(0, "seed for LoRA init, dropout and data order")
    checkpoint_every: int = _f(100, "save a checkpoint every N optimizer steps; 0: only at end")
    keep_checkpoints: int = _f(2, "how many recent checkpoints to keep on disk")
    early_stopping_patience: int = _f(0, "stop after N epochs without val-loss gain; 0: never")
    early_stopping_min_delta: float = _f(0.0, "smallest val-loss decrease that counts as a gain")
    log_every: int = _f(1, "write a metrics line every N optimizer steps")
    progress: bool = _f(True, "show a progress bar on stderr")
    resume: bool = _f(False, "continue from the last checkpoint in the run folder")

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def run_dir(self) -> Path:
        """The run folder (output_dir, or <WM_HOME>/runs/<run_name>)."""
        if self.output_dir:
            return Path(self.output_dir).expanduser()
        from worldmodel.home import home_path

        return home_path("runs", create=False) / self.run_name


def field_help() -> dict[str, str]:
    """Field name -> one-line help (for `wm train --help-config`)."""
    return {f.name: f.metadata["help"] for f in dataclasses.fields(TrainConfig)}


def load_yaml(path: str | Path) -> dict[str, Any]:
    """Read a YAML config file into a mapping (not yet validated)."""
    import yaml

    source = Path(path)
    if not source.is_file():
        raise ConfigError(f"config file {source} does not exist")
    from worldmodel.files import read_utf8

    try:
        data = yaml.safe_load(read_utf8(source)) or {}
    except yaml.YAMLError as exc:
        raise ConfigError(f"config file {source} is not valid YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise ConfigError(f"config file {source} must hold a mapping of settings")
    return data


def parse_overrides(pairs: list[str]) -> dict[str, Any]:
    """`["lr=1e-4", "lora_targets=[q_proj,v_proj]"]` -> typed values (parsed as YAML scalars)."""
    import yaml

    values: dict[str, Any] = {}
    for pair in pairs:
        key, sep, raw = pair.partition("=")
        if not sep or not key.strip():
            raise ConfigError(f"--set {pair!r}: expected KEY=VALUE")
        values[key.strip()] = yaml.safe_load(raw) if raw.strip() else ""
    return values


def build_config(*layers: Mapping[str, Any]) -> TrainConfig:
    """Defaults, then each layer in order (later wins); validated, every problem reported."""
    merged: dict[str, Any] = {}
    for layer in layers:
        merged.update(layer)
    problems: list[str] = []
    hints = typing.get_type_hints(TrainConfig)
    known = {f.name for f in dataclasses.fields(TrainConfig)}
    values: dict[str, Any] = {}
    for key, value in merged.items():
        if key not in known:
            problems.append(f"{key}: unknown setting")
            continue
        converted, error = _coerce(value, hints[key])
        if error:
            problems.append(f"{key}: {error}")
        else:
            values[key] = converted
    config = TrainConfig(**values)
    problems += validate(config)
    if problems:
        raise ConfigError("invalid training config:\n  " + "\n  ".join(problems))
    return config


def validate(config: TrainConfig) -> list[str]:
    """Every problem with the values of `config` (empty when it is usable)."""
    problems: list[str] = []

    def need(ok: bool, message: str) -> None:
        if not ok:
            problems.append(message)

    for name in ("max_seq_len", "batch_size", "grad_accum", "epochs", "lora_r", "lora_alpha"):
        need(getattr(config, name) >= 1, f"{name}: must be >= 1")
    need(config.max_seq_len >= 16, "max_seq_len: must be >= 16 tokens")
    need(config.learning_rate > 0, "learning_rate: must be > 0")
    need(0 <= config.warmup_ratio < 1, "warmup_ratio: must be in [0, 1)")
    need(0 <= config.plain_share <= 1, "plain_share: must be in [0, 1]")
    need(
        config.plain_share == 0 or config.with_output,
        "plain_share: only means something with with_output: true",
    )
    need(0 <= config.lora_dropout < 1, "lora_dropout: must be in [0, 1)")
    need(config.weight_decay >= 0, "weight_decay: must be >= 0")
    need(config.max_grad_norm >= 0, "max_grad_norm: must be >= 0")
    need(config.checkpoint_every >= 0, "checkpoint_every: must be >= 0")
    need(config.keep_checkpoints >= 1, "keep_checkpoints: must be >= 1")
    need(config.early_stopping_patience >= 0, "early_stopping_patience: must be >= 0")
    need(config.log_every >= 1, "log_every: must be >= 1")
    need(config.max_steps is None or config.max_steps >= 1, "max_steps: must be >= 1 or null")
    need(config.threads is None or config.threads >= 1, "threads: must be >= 1 or null")
    need(
        config.max_train_examples is None or config.max_train_examples >= 1,
        "max_train_examples: must be >= 1 or null",
    )
    need(bool(config.lora_targets), "lora_targets: name at least one module")
    need(config.init_adapter != "", "init_adapter: give an adapter directory, 'bundled' or null")
    need(config.precision in PRECISIONS, f"precision: must be one of {', '.join(PRECISIONS)}")
    base = config.device.split(":")[0]
    need(base in DEVICES, "device: must be auto, cpu, cuda, cuda:N, rocm or rocm:N")
    unknown_env = sorted(set(config.rocm_env) - set(ROCM_ENV_KEYS))
    need(not unknown_env, f"rocm_env: unknown variables {unknown_env}; allowed {ROCM_ENV_KEYS}")
    need(bool(config.model), "model: give a model directory or 'bundled'")
    need(bool(config.train_file), "train_file: give a JSONL file")
    need(bool(config.output_dir or config.run_name), "run_name: give a name or set output_dir")
    return problems


def resume_conflicts(saved: Mapping[str, Any], current: TrainConfig) -> list[str]:
    """Settings that differ from the checkpoint's and would break continuation of its run.

    The run's length (`RESUME_MAY_EXTEND`) is not among them: see `extended_settings`.
    """
    now = current.to_dict()
    free = RESUME_MAY_CHANGE | RESUME_MAY_EXTEND
    return [
        f"{key}: checkpoint has {saved.get(key)!r}, now {now[key]!r}"
        for key in now
        if key not in free and saved.get(key) != now[key]
    ]


def extended_settings(saved: Mapping[str, Any], current: TrainConfig) -> list[str]:
    """The run-length settings changed since the checkpoint, as 'key: old -> new'."""
    now = current.to_dict()
    return [
        f"{key}: {saved.get(key)!r} -> {now[key]!r}"
        for key in sorted(RESUME_MAY_EXTEND)
        if saved.get(key) != now[key]
    ]


def _coerce(value: Any, hint: Any) -> tuple[Any, str | None]:
    """Check `value` against a field type; ints are accepted for floats. Returns (value, error)."""
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        options = typing.get_args(hint)
        if value is None:
            return (None, None) if type(None) in options else (None, "must not be null")
        inner = next(option for option in options if option is not type(None))
        return _coerce(value, inner)
    if origin is list:
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            return None, f"must be a list of strings, got {value!r}"
        return list(value), None
    if origin is dict:
        if not isinstance(value, dict):
            return None, f"must be a mapping, got {value!r}"
        return {str(k): str(v) for k, v in value.items()}, None
    if hint is bool:
        return (
            (value, None)
            if isinstance(value, bool)
            else (None, f"must be true/false, got {value!r}")
        )
    if hint is int:
        ok = isinstance(value, int) and not isinstance(value, bool)
        return (value, None) if ok else (None, f"must be an integer, got {value!r}")
    if hint is float:
        if isinstance(value, str):
            # YAML 1.1 reads "1e-4" (no dot) as text; accept it as the number users mean.
            try:
                return float(value), None
            except ValueError:
                return None, f"must be a number, got {value!r}"
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
        return (float(value), None) if ok else (None, f"must be a number, got {value!r}")
    if hint is str:
        return (value, None) if isinstance(value, str) else (None, f"must be text, got {value!r}")
    return None, f"unsupported type {hint}"
