"""The LoRA layers a run trains: attached to the frozen base, optionally started from an adapter.

`attach_lora` freezes the base model and wraps it with peft LoRA layers drawn from the run's
seed; `init_from_adapter` loads an earlier adapter's weights into them (`init_adapter`),
refusing one whose rank, alpha, target modules or shapes do not fit, since a partial fit would
silently start part of the adapter from scratch.

This module does not save adapters (see `checkpoint` and `trainer`).
"""

from __future__ import annotations

import json
import logging
from typing import Any

from worldmodel.errors import ConfigError
from worldmodel.model.loading import ADAPTER_CONFIG, ADAPTER_WEIGHTS, BUNDLED
from worldmodel.train.config import TrainConfig

log = logging.getLogger(__name__)


def attach_lora(model: Any, config: TrainConfig) -> Any:
    """Freeze the base and wrap it with LoRA adapters (drawn from the run's seed)."""
    import torch
    from peft import LoraConfig, get_peft_model

    model.config.use_cache = False
    if config.gradient_checkpointing:
        model.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})
        model.enable_input_require_grads()
    torch.manual_seed(config.seed)  # LoRA's A matrices are drawn here
    lora = LoraConfig(
        r=config.lora_r,
        lora_alpha=config.lora_alpha,
        lora_dropout=config.lora_dropout,
        target_modules=list(config.lora_targets),
        task_type="CAUSAL_LM",
    )
    try:
        return get_peft_model(model, lora)
    except ValueError as exc:
        raise ConfigError(f"lora_targets: {exc}") from exc


def init_from_adapter(model: Any, config: TrainConfig) -> dict[str, str] | None:
    """Load `config.init_adapter`'s weights into the fresh LoRA layers; {dir, sha256} of them.

    The adapter must have the run's rank, alpha and target modules, and fill every LoRA
    weight: anything else would silently start part of the adapter from scratch.
    """
    if config.init_adapter is None:
        return None
    from peft import set_peft_model_state_dict
    from safetensors.torch import load_file

    from worldmodel.model.bundled import sha256_of
    from worldmodel.model.defaults import bundled_adapter
    from worldmodel.model.loading import check_adapter_dir

    if config.init_adapter == BUNDLED:
        found = bundled_adapter()
        if found is None:
            raise ConfigError("init_adapter: this checkout has no bundled adapter")
        folder = found
    else:
        folder = check_adapter_dir(config.init_adapter)
    saved = json.loads((folder / ADAPTER_CONFIG).read_text())
    wanted = {
        "r": config.lora_r,
        "lora_alpha": config.lora_alpha,
        "target_modules": sorted(config.lora_targets),
    }
    have = {
        "r": saved.get("r"),
        "lora_alpha": saved.get("lora_alpha"),
        "target_modules": sorted(saved.get("target_modules") or []),
    }
    differ = [
        f"{k}: adapter has {have[k]!r}, run has {wanted[k]!r}"
        for k in wanted
        if have[k] != wanted[k]
    ]
    if differ:
        raise ConfigError(
            f"init_adapter {folder} does not fit this run (set the run's LoRA settings to the "
            "adapter's):\n  " + "\n  ".join(differ)
        )
    weights_file = folder / ADAPTER_WEIGHTS
    if not weights_file.is_file():
        raise ConfigError(f"init_adapter {folder} has no {ADAPTER_WEIGHTS}")
    weights = load_file(str(weights_file))
    trainable = {name for name, p in model.named_parameters() if p.requires_grad}
    try:
        loaded = set_peft_model_state_dict(model, weights)
    except RuntimeError as exc:  # shape mismatch: an adapter for another base model
        raise ConfigError(
            f"init_adapter {folder} does not fit model {config.model}: {exc}"
        ) from exc
    unexpected = list(getattr(loaded, "unexpected_keys", []) or [])
    missing = sorted(
        name for name in getattr(loaded, "missing_keys", []) or [] if name in trainable
    )
    if unexpected or missing:
        raise ConfigError(
            f"init_adapter {folder} does not fit model {config.model}: "
            f"{len(unexpected)} of its tensors have no place here, e.g. {unexpected[:2]}; "
            f"{len(missing)} LoRA weights would stay untrained, e.g. {missing[:2]}"
        )
    digest = sha256_of(weights_file)
    log.warning("LoRA weights start from %s (sha256 %s...)", folder, digest[:12])
    return {"dir": str(folder), "sha256": digest}
