"""Load a local Hugging Face causal-LM directory, its tokenizer, and an optional PEFT adapter.

Only local directories are accepted (`local_files_only=True`): the system never downloads a
model behind the user's back. The name "bundled" means the embedded default base, converted on
first use by `worldmodel.model.bundled`. A missing or unusable directory raises
`ModelNotFoundError` whose message names the fix.

Weights are read from safetensors only, never from a pickle (`pytorch_model.bin`,
`adapter_model.bin`): an adapter can come from a job-chosen artifact URL, and unpickling a
crafted file can run code, so a folder without safetensors weights is refused.

This module does not choose devices (see `device`) or train (see `worldmodel.train`).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

from worldmodel.errors import ModelNotFoundError

if TYPE_CHECKING:
    import torch
    from transformers import PreTrainedTokenizerBase

log = logging.getLogger(__name__)

BUNDLED = "bundled"
"""The model name that selects the embedded default base (SmolLM2-135M-Instruct)."""

ADAPTER_CONFIG = "adapter_config.json"
"""The file that makes a folder a PEFT adapter (peft's name for it)."""
ADAPTER_WEIGHTS = "adapter_model.safetensors"
"""The adapter's weights in a PEFT adapter folder (peft's name for them)."""

_MODEL_FIX = (
    "pass --model with a local Hugging Face model directory (one that holds config.json and "
    "the weights, e.g. a downloaded Qwen3-0.6B snapshot), or --model bundled for the embedded "
    "SmolLM2-135M-Instruct base"
)


def resolve_model_dir(model: str | Path) -> Path:
    """The directory for `model`: "bundled" converts/uses the embedded base; else a checked path."""
    if str(model) == BUNDLED:
        from worldmodel.model.bundled import ensure_bundled_model

        return ensure_bundled_model()
    return check_model_dir(model)


def check_model_dir(path: str | Path) -> Path:
    """Return `path` resolved if it is a model directory; raise `ModelNotFoundError` if not."""
    folder = Path(path).expanduser()
    if not folder.exists():
        raise ModelNotFoundError(f"model directory {folder} does not exist; {_MODEL_FIX}")
    if not folder.is_dir():
        raise ModelNotFoundError(f"model path {folder} is not a directory; {_MODEL_FIX}")
    if not (folder / "config.json").is_file():
        raise ModelNotFoundError(
            f"model directory {folder} has no config.json, so it is not a Hugging Face model "
            f"directory; {_MODEL_FIX}"
        )
    return folder.resolve()


def check_adapter_dir(path: str | Path) -> Path:
    """Return `path` resolved if it is a PEFT adapter directory; raise `ModelNotFoundError`."""
    folder = Path(path).expanduser()
    missing = next(
        (n for n in (ADAPTER_CONFIG, ADAPTER_WEIGHTS) if not (folder / n).is_file()), None
    )
    if missing is not None:
        state = "does not exist" if not folder.exists() else f"has no {missing}"
        raise ModelNotFoundError(
            f"adapter directory {folder} {state}; pass --adapter with a directory written by "
            "`wm train` (its output folder or a checkpoint-N/adapter folder), or omit --adapter "
            "to use the base model alone (pickled adapter_model.bin weights are never read)"
        )
    return folder.resolve()


def load_tokenizer(model_dir: str | Path) -> PreTrainedTokenizerBase:
    """The model's tokenizer, with a pad token (the EOS token when the model defines none)."""
    from transformers import AutoTokenizer

    folder = check_model_dir(model_dir)
    try:
        tokenizer = AutoTokenizer.from_pretrained(folder, local_files_only=True)
    except (OSError, ValueError) as exc:
        raise ModelNotFoundError(f"cannot load a tokenizer from {folder}: {exc}") from exc
    if tokenizer.chat_template is None:
        raise ModelNotFoundError(
            f"the tokenizer in {folder} has no chat template; use an instruct/chat model"
        )
    if tokenizer.pad_token is None:
        # Padding positions carry no loss and are masked from attention, so any id works;
        # EOS is the conventional choice and is logged so it is never a surprise.
        log.info("tokenizer has no pad token; using its EOS token %r", tokenizer.eos_token)
        tokenizer.pad_token = tokenizer.eos_token
    return tokenizer


def load_model(
    model_dir: str | Path,
    adapter_dir: str | Path | None = None,
    *,
    device: torch.device | str = "cpu",
    dtype: torch.dtype | None = None,
    trainable_adapter: bool = False,
    attn_implementation: str | None = None,
) -> tuple[Any, PreTrainedTokenizerBase]:
    """Load base model (+ adapter) onto `device`; return (model, tokenizer).

    With an adapter the returned model is a `peft.PeftModel`; its adapter weights are trainable
    only if `trainable_adapter` (resuming training), else the model is in eval mode.
    """
    import torch
    from transformers import AutoModelForCausalLM

    folder = check_model_dir(model_dir)
    tokenizer = load_tokenizer(folder)
    kwargs: dict[str, Any] = {
        "local_files_only": True,
        "use_safetensors": True,  # never a pickled pytorch_model.bin (see the module docstring)
        "dtype": dtype or torch.float32,
    }
    if attn_implementation:
        kwargs["attn_implementation"] = attn_implementation
    try:
        model: Any = AutoModelForCausalLM.from_pretrained(folder, **kwargs)
    except (OSError, ValueError) as exc:
        raise ModelNotFoundError(f"cannot load a causal LM from {folder}: {exc}") from exc
    model.to(device)
    if adapter_dir is not None:
        from peft import PeftModel

        adapter = check_adapter_dir(adapter_dir)
        model = PeftModel.from_pretrained(model, adapter, is_trainable=trainable_adapter)
        model.to(device)
    if not trainable_adapter:
        model.eval()
    return model, tokenizer


def merge_adapter(model_dir: str | Path, adapter_dir: str | Path, out_dir: str | Path) -> Path:
    """Fold a LoRA adapter into its base weights and save a plain model directory (fp32).

    The result loads with `AutoModelForCausalLM.from_pretrained` and needs no peft.
    """
    out = Path(out_dir).expanduser()
    if out.exists() and any(out.iterdir()):
        raise ModelNotFoundError(f"export folder {out} is not empty; choose a new --out folder")
    model, tokenizer = load_model(resolve_model_dir(model_dir), adapter_dir)
    merged = model.merge_and_unload()
    merged.save_pretrained(out)
    tokenizer.save_pretrained(out)
    return out.resolve()
