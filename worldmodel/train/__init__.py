"""LoRA supervised fine-tuning: configuration, tokenization, packing, checkpoints, the loop.

- `config`: `TrainConfig`, YAML loading, CLI overrides, validation of every field at once.
- `tokenization`: chat-template rendering shared with generation; assistant-only labels.
- `packing`: several examples per row with per-example attention boundaries.
- `examples`: the records read, tokenized and planned into each epoch's batches.
- `lora`: the LoRA layers attached to the frozen base, optionally started from an adapter.
- `checkpoint`: numbered checkpoints with resolved config and metrics beside them.
- `resume`: which checkpoint a run continues from; the loop put back where it was.
- `distributed`: data-parallel runs: each rank's share of a step, DDP, torchrun's world.
- `trainer`: the loop (load, set up, train, save).

Heavy imports (torch, transformers, peft) happen inside functions.
"""
