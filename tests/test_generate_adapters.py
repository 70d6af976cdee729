"""One generator, many adapters: per-call adapters load once beside the base and stay warm.

The adapters are random LoRA weights (peft with `init_lora_weights=False`, so they are not the
identity) on the tiny Qwen3, which makes each one's greedy text differ from the base's. The
reference for "generated with adapter X" is a generator built with X from the start.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from worldmodel.errors import ConfigError, ModelNotFoundError
from worldmodel.generate import GenerationConfig, Generator

QUESTIONS = ["What is 15% of 200?", "Add 2 and 3."]


def _config(**extra: int) -> GenerationConfig:
    return GenerationConfig(max_new_tokens=10, threads=1, **extra)


@pytest.fixture(scope="module")
def adapters(tiny_model_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """Two different random adapters for the tiny model."""
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    made = []
    for seed in (1, 2):
        torch.manual_seed(seed)
        base = AutoModelForCausalLM.from_pretrained(tiny_model_dir, local_files_only=True)
        config = LoraConfig(
            r=4, lora_alpha=32, target_modules=["q_proj", "v_proj"], init_lora_weights=False
        )
        folder = tmp_path_factory.mktemp(f"adapter{seed}")
        get_peft_model(base, config).save_pretrained(folder)
        made.append(folder)
    return made


def test_per_call_adapters_match_a_generator_built_with_them(tiny_model_dir, adapters):
    first, second = adapters
    shared = Generator(tiny_model_dir, config=_config())
    base = shared.complete(QUESTIONS)
    with_first = shared.complete(QUESTIONS, adapter=first)
    with_second = shared.complete(QUESTIONS, adapter=second)
    assert with_first == Generator(tiny_model_dir, first, config=_config()).complete(QUESTIONS)
    assert with_second == Generator(tiny_model_dir, second, config=_config()).complete(QUESTIONS)
    assert len({tuple(base), tuple(with_first), tuple(with_second)}) == 3
    # Without an adapter the loaded ones are switched off; asked again, nothing is reloaded.
    assert shared.complete(QUESTIONS) == base
    assert shared.complete(QUESTIONS, adapter=first) == with_first
    assert shared.adapter_loads == [str(first.resolve()), str(second.resolve())]


def test_least_recently_used_adapter_is_unloaded_past_the_limit(tiny_model_dir, adapters):
    first, second = adapters
    own = Generator(tiny_model_dir, first, config=_config(warm_adapters=1))
    own_text = own.complete(QUESTIONS)
    # Its own adapter is the one `adapter=None` means, and naming it loads nothing more.
    assert own.complete(QUESTIONS, adapter=first) == own_text and own.adapter_loads == []
    with_second = own.complete(QUESTIONS, adapter=second)
    assert own.complete(QUESTIONS) == own_text  # back to its own, `second` stays warm

    shared = Generator(tiny_model_dir, config=_config(warm_adapters=1))
    shared.complete(QUESTIONS, adapter=first)
    assert shared.complete(QUESTIONS, adapter=second) == with_second
    assert shared.warm_adapters == [str(second.resolve())]  # `first` was unloaded
    shared.complete(QUESTIONS, adapter=first)
    assert shared.adapter_loads == [str(p.resolve()) for p in (first, second, first)]


def test_a_folder_that_is_not_an_adapter_is_refused(tiny_model_dir, tmp_path):
    generator = Generator(tiny_model_dir, config=_config())
    with pytest.raises(ModelNotFoundError, match=r"adapter_config\.json"):
        generator.complete(QUESTIONS, adapter=tmp_path)
    with pytest.raises(ConfigError, match="warm_adapters"):
        Generator(tiny_model_dir, config=_config(warm_adapters=0))
