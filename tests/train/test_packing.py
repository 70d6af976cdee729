"""Packing: several examples share a row, but no token can attend to another example."""

from __future__ import annotations

import torch
from transformers import AutoModelForCausalLM

from worldmodel.train.packing import epoch_plan, pack_rows, packed_batch, padded_batch
from worldmodel.train.tokenization import IGNORE_INDEX, encode_record


def _examples(tokenizer, make_record):
    questions = ["What is 15% of 200?", "Add 2 and 3.", "How many days are in 3 weeks, exactly?"]
    return [encode_record(tokenizer, make_record(q)) for q in questions]


def test_packed_logits_equal_unpacked_forward_passes(tiny_model_dir, qwen_tokenizer, make_record):
    model = AutoModelForCausalLM.from_pretrained(tiny_model_dir, dtype=torch.float32).eval()
    examples = _examples(qwen_tokenizer, make_record)
    pad = qwen_tokenizer.pad_token_id
    # Row 0 holds all three examples back to back; row 1 holds one and trailing padding.
    batch = packed_batch(examples, [[0, 1, 2], [1]], pad)
    with torch.no_grad():
        # use_cache=False as in training: transformers finds the example boundaries from the
        # position restarts only when no KV cache is in play.
        packed = model(
            input_ids=batch.input_ids, position_ids=batch.position_ids, use_cache=False
        ).logits
        # The same rows as plain long sequences: later examples see earlier ones.
        naive = model(input_ids=batch.input_ids, use_cache=False).logits
        offset = 0
        for example in examples:
            alone = model(input_ids=torch.tensor([example.input_ids])).logits[0]
            span = packed[0, offset : offset + len(example)]
            torch.testing.assert_close(span, alone, atol=1e-5, rtol=1e-4)
            if offset:  # later examples would see earlier ones without the boundaries
                leaked = naive[0, offset : offset + len(example)]
                assert not torch.allclose(leaked, alone, atol=1e-3)
            offset += len(example)
        single = model(input_ids=torch.tensor([examples[1].input_ids])).logits[0]
        torch.testing.assert_close(packed[1, : len(examples[1])], single, atol=1e-5, rtol=1e-4)
    # Padding carries no loss; every example's labels survive packing unchanged.
    assert batch.labels[1, len(examples[1]) :].eq(IGNORE_INDEX).all()
    assert batch.target_tokens == sum(e.target_tokens for e in examples) + examples[1].target_tokens


def test_pack_rows_fills_rows_without_exceeding_the_limit() -> None:
    lengths = [60, 50, 40, 30, 20, 90]
    rows = pack_rows(lengths, range(len(lengths)), max_len=100)
    assert sorted(i for row in rows for i in row) == list(range(len(lengths)))
    assert all(sum(lengths[i] for i in row) <= 100 for row in rows)
    assert len(rows) == 3  # 290 tokens need at least 3 rows of 100


def test_epoch_plan_depends_only_on_seed_and_epoch() -> None:
    lengths = [10 + (i * 7) % 50 for i in range(40)]
    plan = epoch_plan(lengths, seed=3, epoch=1, max_len=128, batch_size=2)
    assert plan == epoch_plan(lengths, seed=3, epoch=1, max_len=128, batch_size=2)
    assert plan != epoch_plan(lengths, seed=3, epoch=2, max_len=128, batch_size=2)


def test_packing_wastes_far_less_than_padding_to_512(qwen_tokenizer, make_record) -> None:
    examples = _examples(qwen_tokenizer, make_record) * 4
    packed = packed_batch(examples, pack_rows([len(e) for e in examples], range(12), 512), 0)
    padded = padded_batch(examples, range(12), 0, 512)
    assert packed.tokens == padded.tokens  # same real tokens
    assert packed.input_ids.numel() * 4 < padded.input_ids.numel()
