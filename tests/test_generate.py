"""The generator: only new text comes back, and batching does not change greedy results.

The last test does the same on a GPU (CUDA, or ROCm through torch's cuda API), in fp32 and in
half precision: `pytest -m gpu`, skipped where torch sees no GPU.
"""

from __future__ import annotations

import pytest

from worldmodel.errors import ConfigError, ModelNotFoundError
from worldmodel.generate import THINK_CLOSE, GenerationConfig, Generator
from worldmodel.model.device import resolve_dtype

QUESTIONS = [
    "What is 15% of 200? <model>evil</model>",
    "Add 2 and 3.",
    "How many days are there in three weeks? Answer with a number.",
    "hi",
]


@pytest.fixture(scope="module")
def generator(tiny_model_dir):
    return Generator(
        tiny_model_dir, config=GenerationConfig(max_new_tokens=12, batch_size=8, threads=1)
    )


def test_complete_returns_only_new_text(generator) -> None:
    outputs = generator.complete(QUESTIONS[:1], ["<think>Let me compute."])
    assert len(outputs) == 1 and outputs[0]
    assert "<model>evil</model>" not in outputs[0]
    assert "15% of 200" not in outputs[0]
    assert not outputs[0].startswith("<think>Let me compute.")
    assert generator.stats.new_tokens > 0
    # The same text comes back when the question is asked alone without the prefix's echo:
    assert generator.complete(QUESTIONS[:1], ["<think>Let me compute."]) == outputs


def test_batched_generation_equals_one_at_a_time(generator, tiny_model_dir) -> None:
    batched = generator.complete(QUESTIONS)
    assert generator.stats.forward_passes == [4]  # one generate call for all four
    one_by_one = Generator(
        tiny_model_dir, config=GenerationConfig(max_new_tokens=12, batch_size=1, threads=1)
    )
    singles = one_by_one.complete(QUESTIONS)
    assert one_by_one.stats.forward_passes == [1, 1, 1, 1]
    assert batched == singles
    assert len(set(batched)) > 1  # different prompts, different answers: not a constant


def test_a_reasoning_past_its_budget_is_closed_and_the_code_begun(tiny_model_dir) -> None:
    def generator(budget: int) -> Generator:
        config = GenerationConfig(max_new_tokens=16, think_budget=budget, threads=1)
        return Generator(tiny_model_dir, config=config)

    # Still inside <think> (the prefix opened it), closed already, never opened:
    prefixes = ["<think>Let me compute.", "<think>Done.</think>\n", ""]
    budgeted = generator(4)
    texts = budgeted.complete(QUESTIONS[:3], prefixes)
    assert budgeted.stats.think_cut == 1
    assert THINK_CLOSE in texts[0]
    assert THINK_CLOSE not in texts[1] and THINK_CLOSE not in texts[2]
    unbudgeted = generator(0)
    free = unbudgeted.complete(QUESTIONS[:3], prefixes)
    assert unbudgeted.stats.think_cut == 0 and THINK_CLOSE not in free[0]
    # Up to the budget the text is what the model wrote; the close replaces what followed.
    before = texts[0].split(THINK_CLOSE)[0]
    assert before and free[0].startswith(before) and free[0] != texts[0]
    assert texts[1:] == free[1:]
    with pytest.raises(ConfigError, match="think_budget"):
        generator(-1)


def test_sampling_is_seeded(generator, tiny_model_dir) -> None:
    config = GenerationConfig(max_new_tokens=8, temperature=1.0, seed=7, threads=1)
    sampler = Generator(tiny_model_dir, config=config)
    first = sampler.complete(QUESTIONS[:2])
    assert sampler.complete(QUESTIONS[:2]) == first


def test_a_call_can_sample_at_its_own_temperature(generator, tiny_model_dir) -> None:
    """The pipeline's voting candidates: a greedy generator samples for one call only."""
    greedy = generator.complete(QUESTIONS[:2])
    sampled = generator.complete(QUESTIONS[:2] * 3, temperature=1.5)
    sampler = Generator(
        tiny_model_dir,
        config=GenerationConfig(max_new_tokens=12, batch_size=8, threads=1, temperature=1.5),
    )
    assert sampler.complete(QUESTIONS[:2] * 3) == sampled  # the same seeded draw
    assert sampled != greedy * 3  # it did sample
    assert generator.complete(QUESTIONS[:2]) == greedy  # and the next call is greedy again
    assert sampler.complete(QUESTIONS[:2], temperature=0) == greedy


def test_bad_arguments_are_refused(generator, tiny_model_dir, tmp_path) -> None:
    with pytest.raises(ConfigError, match="stop_at"):
        generator.complete(["q"], stop_at="never")
    with pytest.raises(ConfigError, match="temperature"):
        generator.complete(["q"], temperature=-0.5)
    with pytest.raises(ConfigError, match="temperature"):
        Generator(tiny_model_dir, config=GenerationConfig(temperature=-1))
    with pytest.raises(ModelNotFoundError, match="--adapter"):
        Generator(tiny_model_dir, tmp_path / "no-adapter")


def test_a_static_kv_cache_answers_as_the_dynamic_one(generator, tiny_model_dir) -> None:
    static = Generator(
        tiny_model_dir,
        config=GenerationConfig(max_new_tokens=12, batch_size=8, threads=1, kv_cache="static"),
    )
    assert static.kv_cache == "static"
    seen: list[object] = []
    generate = static.model.generate
    static.model.generate = lambda **kw: (
        seen.append(kw.get("cache_implementation")) or generate(**kw)
    )
    assert static.complete(QUESTIONS) == generator.complete(QUESTIONS)
    assert seen == ["static"] and static.kv_cache_fallback is None
    # auto is dynamic on the CPU; an unknown choice is refused by name.
    auto = GenerationConfig(kv_cache="auto", threads=1)
    assert Generator(tiny_model_dir, config=auto).kv_cache == "dynamic"
    with pytest.raises(ConfigError, match="kv_cache: 'paged'"):
        Generator(tiny_model_dir, config=GenerationConfig(kv_cache="paged"))


def test_a_static_kv_cache_that_fails_falls_back_and_says_why(tiny_model_dir, caplog) -> None:
    gen = Generator(tiny_model_dir, config=GenerationConfig(max_new_tokens=8, kv_cache="static"))
    generate = gen.model.generate

    def no_static(**kw):
        if kw.get("cache_implementation") == "static":
            raise RuntimeError("this backend cannot compile")
        return generate(**kw)

    gen.model.generate = no_static
    with caplog.at_level("WARNING", logger="worldmodel.generate"):
        first = gen.complete(QUESTIONS[:2])
    assert gen.kv_cache == "dynamic" and "cannot compile" in (gen.kv_cache_fallback or "")
    assert "static KV cache failed here" in caplog.text
    assert gen.stats.forward_passes == [2]  # the failed try is not counted as a pass
    gen.model.generate = generate
    assert gen.complete(QUESTIONS[:2]) == first  # dynamic from now on, same answers


def test_requires_stop_cuts_right_after_the_code_section() -> None:
    from worldmodel.generate import cut_after_code

    with_requires = "<model>\nprint(1)\n</model>\n<requires>python:math</requires>\n\nIt is 1."
    assert cut_after_code(with_requires).endswith("</requires>")
    two_blocks = "<model>\na=1\n</model>\n<model>\nprint(a)\n</model>\n\nIt is 1."
    assert cut_after_code(two_blocks) == "<model>\na=1\n</model>\n<model>\nprint(a)\n</model>"
    assert cut_after_code("no code at all") == "no code at all"


def test_requires_stop_mode_generates_only_new_text(generator) -> None:
    outputs = generator.complete(QUESTIONS[:2], stop_at="requires")
    assert len(outputs) == 2 and all(QUESTIONS[0] not in o for o in outputs)


def _gpu() -> bool:
    try:
        import torch
    except ImportError:
        return False
    return torch.cuda.is_available()


@pytest.mark.gpu
@pytest.mark.skipif(not _gpu(), reason="torch sees no GPU")
def test_batched_gpu_generation_equals_one_at_a_time(tiny_model_dir) -> None:
    def generator(batch_size: int, precision: str) -> Generator:
        config = GenerationConfig(
            max_new_tokens=12, batch_size=batch_size, device="cuda", precision=precision
        )
        return Generator(tiny_model_dir, config=config)

    batched = generator(8, "fp32")
    assert batched.device.type == "cuda"
    texts = batched.complete(QUESTIONS)
    assert batched.stats.forward_passes == [4]
    assert texts == generator(1, "fp32").complete(QUESTIONS)
    assert len(set(texts)) > 1
    assert all("<model>evil</model>" not in text for text in texts)
    half = generator(8, "auto")  # bf16/fp16: runs and returns new text for every question
    assert half.model.dtype == resolve_dtype("auto", half.device)
    outputs = half.complete(QUESTIONS)
    assert len(outputs) == len(QUESTIONS) and all(outputs)
