"""The MFU arithmetic of bench/bench_train.py (bench/_mfu.py), checked against a real model."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[1] / "bench"


def _mfu_module():
    spec = importlib.util.spec_from_file_location("_mfu", BENCH / "_mfu.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_flops_per_token_counts_every_matrix_a_token_passes_through() -> None:
    torch = pytest.importorskip("torch")
    from transformers import Qwen3Config, Qwen3ForCausalLM

    m = _mfu_module()
    config = Qwen3Config(
        vocab_size=1000,
        hidden_size=64,
        intermediate_size=96,
        num_hidden_layers=3,
        num_attention_heads=4,
        num_key_value_heads=2,
        head_dim=32,  # not hidden / heads: the config's own head_dim is used
        tie_word_embeddings=False,
    )
    model = Qwen3ForCausalLM(config)
    matrices = sum(
        module.weight.numel() for module in model.modules() if isinstance(module, torch.nn.Linear)
    )
    assert m.flops_per_token(config, context=0) == 4 * matrices
    # Attention over the context: 12 FLOPs per layer, head dimension and token of context.
    extra = m.flops_per_token(config, context=100) - m.flops_per_token(config, context=0)
    assert extra == 12 * 3 * 4 * 32 * 100


def test_peaks_and_utilisation() -> None:
    m = _mfu_module()
    assert m.peak_tflops("NVIDIA H100 80GB HBM3") == 989.0
    assert m.peak_tflops("NVIDIA H100 PCIe") == 756.0
    assert m.peak_tflops("AMD Instinct MI50") == 26.5
    assert m.peak_tflops("AMD Radeon VII") is None
    assert m.peak_tflops("anything", override=100.0) == 100.0
    # 1,000 tokens/s at 1 GFLOP a token on one 10-TFLOPS device: 10%; on 4 devices: 2.5%.
    assert m.mfu(1000, 1e9, 10.0) == pytest.approx(0.1)
    assert m.mfu(1000, 1e9, 10.0, devices=4) == pytest.approx(0.025)
