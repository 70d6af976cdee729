"""Where a model runs: device (CPU, CUDA or ROCm), CPU thread count, and numeric precision.

ROCm builds of torch expose AMD GPUs through the `torch.cuda` API, so "cuda" and "rocm" are the
same torch device type; `backend_name` tells them apart for the user. The MI50 (gfx906) needs
environment settings that HIP reads once, when it initialises: `HSA_OVERRIDE_GFX_VERSION`,
`PYTORCH_ROCM_ARCH` and `HIP_VISIBLE_DEVICES`. They come from configuration (`rocm_env` in a
training config) and are applied by `apply_rocm_env` before the first CUDA call; nothing here
hard-codes them.

Every choice is explicit: asking for a GPU that is not there is a `ConfigError`, never a silent
fall back to the CPU. This module does not load models (see `worldmodel.model.loading`).
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Mapping
from typing import TYPE_CHECKING

from worldmodel.errors import ConfigError

if TYPE_CHECKING:
    import torch

log = logging.getLogger(__name__)

ROCM_ENV_KEYS = ("HSA_OVERRIDE_GFX_VERSION", "PYTORCH_ROCM_ARCH", "HIP_VISIBLE_DEVICES")
VISIBLE_DEVICES = ("HIP_VISIBLE_DEVICES", "CUDA_VISIBLE_DEVICES")
"""The variables that choose the GPUs a process sees, in the order they are read (ROCm's first)."""
"""The environment variables `apply_rocm_env` accepts. For an MI50: gfx906, i.e.
HSA_OVERRIDE_GFX_VERSION=9.0.6, PYTORCH_ROCM_ARCH=gfx906, HIP_VISIBLE_DEVICES=0."""

DEVICES = ("auto", "cpu", "cuda", "rocm")
PRECISIONS = ("auto", "fp32", "bf16", "fp16")


def apply_rocm_env(settings: Mapping[str, str | int]) -> dict[str, str]:
    """Set the ROCm environment variables named in `settings`; return what was set.

    HIP reads these when it initialises, so call this before any CUDA/HIP call. A setting that
    arrives after torch has initialised its GPU state is applied but logged as too late.
    """
    unknown = sorted(set(settings) - set(ROCM_ENV_KEYS))
    if unknown:
        raise ConfigError(
            f"rocm_env: unknown variable(s) {', '.join(unknown)}; "
            f"allowed: {', '.join(ROCM_ENV_KEYS)}"
        )
    applied: dict[str, str] = {}
    for key, value in settings.items():
        text = str(value)
        previous = os.environ.get(key)
        if previous is not None and previous != text:
            log.info(
                "rocm_env: %s=%s from config replaces %s from the environment", key, text, previous
            )
        os.environ[key] = text
        applied[key] = text
    torch = sys.modules.get("torch")
    if applied and torch is not None and torch.cuda.is_initialized():
        log.warning("rocm_env applied after the GPU was initialised; restart the process to use it")
    return applied


def is_rocm() -> bool:
    """True when the installed torch is a ROCm (HIP) build."""
    import torch

    return getattr(torch.version, "hip", None) is not None


def resolve_device(requested: str = "auto") -> torch.device:
    """Turn "auto", "cpu", "cuda", "cuda:N", "rocm" or "rocm:N" into a torch device.

    "auto" picks the GPU when torch sees one (CUDA or ROCm) and the CPU otherwise. Asking for a
    GPU that torch cannot see raises `ConfigError` naming the fix.
    """
    import torch

    name = requested.strip().lower()
    base, _, index = name.partition(":")
    if (
        base not in DEVICES
        or (index and not index.isdigit())
        or (base in ("auto", "cpu") and index)
    ):
        raise ConfigError(
            f"device: {requested!r} is not one of auto, cpu, cuda, cuda:N, rocm, rocm:N"
        )
    if base == "auto":
        return torch.device("cuda") if torch.cuda.is_available() else torch.device("cpu")
    if base == "cpu":
        return torch.device("cpu")
    if base == "rocm" and not is_rocm():
        raise ConfigError(
            "device: 'rocm' asked for, but this torch is not a ROCm build; install torch from "
            "the ROCm wheel index (see README) or set device: cpu"
        )
    if not torch.cuda.is_available():
        raise ConfigError(
            f"device: {requested!r} asked for, but torch sees no GPU "
            f"(torch {torch.__version__}); set device: cpu or install a GPU build of torch"
        )
    return torch.device(f"cuda:{index}" if index else "cuda")


def backend_name(device: torch.device) -> str:
    """ "cpu", "cuda" or "rocm": what the user should read for this device."""
    if device.type == "cpu":
        return "cpu"
    return "rocm" if is_rocm() else "cuda"


def set_threads(threads: int | None) -> int:
    """Set torch's CPU thread count (None leaves torch's default); return the count in use.

    On a small shared machine, more threads than free cores is slower, not faster: choose
    deliberately and measure (bench/bench_train.py).
    """
    import torch

    if threads is not None:
        if threads < 1:
            raise ConfigError(f"threads: must be >= 1, got {threads}")
        torch.set_num_threads(threads)
    return torch.get_num_threads()


def cpu_has_native_bf16() -> bool:
    """Whether this CPU computes bf16 in hardware (AVX512-BF16 or AMX): there, bf16 autocast
    trains ~1.75x faster than fp32 (measured: SmolLM2-135M LoRA, one thread, 171 vs 98 tok/s)."""
    import torch

    probes = ("_is_avx512_bf16_supported", "_is_amx_tile_supported")
    return any(bool(getattr(torch.cpu, name, lambda: False)()) for name in probes)


def resolve_dtype(precision: str, device: torch.device) -> torch.dtype:
    """The dtype for weights and autocast: "auto" is fp32 on CPU (exact and reproducible; ask
    for bf16 explicitly on CPUs with native bf16), bf16 on GPUs that support it and fp16 on
    those that do not (the MI50 has no bf16)."""
    import torch

    if precision not in PRECISIONS:
        raise ConfigError(f"precision: {precision!r} is not one of {', '.join(PRECISIONS)}")
    if precision == "auto":
        if device.type == "cpu":
            return torch.float32
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    if device.type == "cpu" and precision != "fp32" and not cpu_has_native_bf16():
        log.warning(
            "precision %s on a CPU without native bf16 (AVX512-BF16/AMX) is slow; use fp32",
            precision,
        )
    return {"fp32": torch.float32, "bf16": torch.bfloat16, "fp16": torch.float16}[precision]
