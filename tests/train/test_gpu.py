"""Training on a GPU (CUDA, or ROCm through torch's cuda API): `pytest -m gpu`.

The same code the CPU tests cover, on the device users train on: weights in bf16 (fp16 where
the GPU has no bf16, as on the MI50) with LoRA in fp32, and checkpoints that resume in the same
data order. Batched greedy generation on a GPU is tested with the generator
(tests/test_generate.py). Skipped where torch sees no GPU.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from worldmodel.model.device import backend_name, resolve_device, resolve_dtype
from worldmodel.train.trainer import train

pytestmark = [
    pytest.mark.gpu,
    pytest.mark.skipif(not torch.cuda.is_available(), reason="torch sees no GPU"),
]

GPU = {"device": "cuda", "precision": "auto"}


def _loss_lines(run: Path) -> list[dict]:
    lines = [json.loads(x) for x in (run / "metrics.jsonl").read_text().splitlines()]
    return [line for line in lines if "loss" in line]


def test_auto_device_and_precision_pick_the_gpu() -> None:
    device = resolve_device("auto")
    assert device.type == "cuda"
    assert backend_name(device) == ("rocm" if torch.version.hip else "cuda")
    half = torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    assert resolve_dtype("auto", device) == half


def test_lora_trains_on_the_gpu_in_half_precision_and_leaves_base_weights_alone(
    tiny_model_dir, tiny_train_config, base_parameters, tmp_path
):
    base = load_file(str(tiny_model_dir / "model.safetensors"))
    seen: dict = {}
    result = train(
        tiny_train_config(tmp_path / "run", **GPU, max_steps=3),
        on_finish=lambda model: seen.update(model=model),
    )
    assert result.steps == 3 and not result.interrupted
    model = seen["model"]
    half = resolve_dtype("auto", torch.device("cuda"))
    trained = {n: p for n, p in model.named_parameters() if p.requires_grad}
    assert trained and all("lora_" in n for n in trained)
    assert all(p.device.type == "cuda" and p.dtype == torch.float32 for p in trained.values())
    frozen = base_parameters(model)
    for name, original in base.items():
        weight = frozen[name]
        assert weight.dtype == half, name
        assert torch.equal(weight.cpu(), original.to(half)), name
    adapter = load_file(str(Path(result.adapter_dir) / "adapter_model.safetensors"))
    lora_b = [t for n, t in adapter.items() if "lora_B" in n]
    assert lora_b and all(t.abs().sum() > 0 for t in lora_b)
    assert result.val_losses and all(0 < v < float("inf") for v in result.val_losses)


def test_a_gpu_run_resumes_with_the_same_batches(tiny_train_config, tmp_path):
    straight = tmp_path / "straight"
    train(tiny_train_config(straight, **GPU, max_steps=4))

    class Killed(Exception):
        pass

    def kill_at_three(step: int) -> bool:
        if step == 3:
            raise Killed
        return False

    resumed = tmp_path / "resumed"
    interrupted = tiny_train_config(resumed, **GPU, max_steps=4)
    with pytest.raises(Killed):
        train(interrupted, should_stop=kill_at_three)
    result = train(tiny_train_config(resumed, **GPU, max_steps=4, resume=True))
    assert result.resumed_from == 2 and result.steps == 4
    a, b = _loss_lines(straight), _loss_lines(resumed)
    assert [m["step"] for m in b] == [1, 2, 3, 4]
    assert [m["data"] for m in a] == [m["data"] for m in b]  # the same batches, in order
    # GPU kernels may reduce in another order from run to run: close, not necessarily equal.
    assert [m["loss"] for m in b] == pytest.approx([m["loss"] for m in a], rel=1e-3)
    first = load_file(str(straight / "adapter" / "adapter_model.safetensors"))
    second = load_file(str(resumed / "adapter" / "adapter_model.safetensors"))
    assert first.keys() == second.keys()
    for name in first:
        torch.testing.assert_close(first[name], second[name], rtol=1e-3, atol=1e-4)
