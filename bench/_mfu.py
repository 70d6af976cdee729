"""Model FLOPs utilisation (MFU) of LoRA training: the model's FLOPs per second over the peak.

FLOPs per token, for a decoder like Llama or Qwen3 (from its config), in LoRA training:

- forward: 2 FLOPs per weight of every matrix a token goes through (attention projections,
  MLP, the output head; not the input embedding, a lookup);
- backward: the gradient with respect to the activations costs as much again (2 per weight);
  the frozen base weights get no gradient, so the third third of full training's 6N is not
  done (the LoRA matrices' own cost is under 1% and left out);
- attention scores and their weighted sum: 4 FLOPs per layer, head dimension and token of
  context, forward, and twice that backward (12 in all; after PaLM's appendix B).

So `4 * N + 12 * layers * heads * head_dim * context` per token, where `context` is the mean
length a token attends over (half a packed row's length is the mean position; we use the row
length, an upper bound, as PaLM does). The peak is the device's dense bf16/fp16 tensor rate from
its data sheet (`PEAK_TFLOPS`), or `--peak-tflops`. This module prints nothing.
"""

from __future__ import annotations

from typing import Any

PEAK_TFLOPS = {
    # Dense bf16 (fp16 where the device has no bf16 rate) tensor TFLOPS, from data sheets.
    "H200": 989.0,
    "H100 NVL": 835.0,
    "H100 PCIe": 756.0,
    "H100": 989.0,  # the SXM part ("NVIDIA H100 80GB HBM3")
    "A100": 312.0,
    "L40S": 362.0,
    "A10G": 70.0,
    "MI300X": 1307.0,
    "MI250X": 383.0,
    "MI250": 362.0,
    "MI210": 181.0,
    "MI100": 184.6,
    "MI60": 29.5,
    "MI50": 26.5,
}
"""Matched against the device's name in this order: the first name it contains wins."""


def peak_tflops(device_name: str, override: float | None = None) -> float | None:
    """The device's peak TFLOPS: `override`, else from `PEAK_TFLOPS`, else None (unknown)."""
    if override:
        return override
    for name, peak in PEAK_TFLOPS.items():
        if name.lower() in device_name.lower():
            return peak
    return None


def flops_per_token(config: Any, context: float) -> float:
    """LoRA training FLOPs per token for a Llama/Qwen3-style `config` (module docstring)."""
    d = config.hidden_size
    heads = config.num_attention_heads
    kv_heads = getattr(config, "num_key_value_heads", None) or heads
    head_dim = getattr(config, "head_dim", None) or d // heads
    layer = (
        d * heads * head_dim  # q
        + 2 * d * kv_heads * head_dim  # k, v
        + heads * head_dim * d  # o
        + 3 * d * config.intermediate_size  # gate, up, down
    )
    weights = config.num_hidden_layers * layer + d * config.vocab_size  # + the output head
    attention = 12 * config.num_hidden_layers * heads * head_dim * context
    return 4 * weights + attention


def mfu(tokens_per_s: float, per_token: float, peak: float, devices: int = 1) -> float:
    """The share (0..1) of `devices` devices' peak that `tokens_per_s` tokens of training use."""
    return tokens_per_s * per_token / (devices * peak * 1e12)
