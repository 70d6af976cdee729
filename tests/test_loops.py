"""The loop guard: what counts as a loop, that gold data never does, and that the generator
ends a looping section with real generation (a model built to loop)."""

from __future__ import annotations

import itertools
from functools import partial
from pathlib import Path

import pytest

from worldmodel.data.record import read_records
from worldmodel.generate import CODE_CLOSE, THINK_CLOSE, GenerationConfig, Generator
from worldmodel.loops import guard_cut, repeated_unit, section, unit_finished

DATA = Path(__file__).resolve().parents[1] / "data"
SENTENCE = " The wheel keeps turning all night."
CODE_LINE = "result = compute(items)\n"
THINK_PREFIX = "<think>"
CODE_PREFIX = "<think>Compute it.</think>\n<model>\nitems = [1]\n"
PROSE_PREFIX = (
    "<think>Compute it.</think>\n<model>\nprint(7)\n</model>\n"
    "<requires>python:builtins</requires>\n<output>\n7\n</output>\n\n"
)


def test_the_section_is_the_open_tag_or_the_prose_after_the_last_block() -> None:
    assert section("<think>a. b") == ("think", "a. b")
    assert section("<think>a</think>\n<model>\nx = 1\n") == ("code", "\nx = 1\n")
    after = "<think>a</think>\n<model>\nx\n</model>\n<requires>python:math</requires>\n\nIt is"
    assert section(after) == ("prose", "\n<requires>python:math</requires>\n\nIt is")
    assert section("no tags at all") == ("prose", "no tags at all")


def test_a_unit_repeated_verbatim_three_times_is_a_loop() -> None:
    twice = "<think>" + SENTENCE * 2 + " "
    assert repeated_unit(twice) is None
    assert repeated_unit(twice + SENTENCE.strip() + " ") == SENTENCE.strip()
    # The third copy counts once finished: whitespace after its full stop, not before.
    assert repeated_unit(twice + SENTENCE.strip()) is None


def test_a_counting_loop_is_caught_at_six_numbered_copies_and_short_units_never() -> None:
    lines = "".join(f"total_{i} = total_{i - 1} + 20\n" for i in range(2, 7))
    assert repeated_unit("<model>\n" + lines) is None  # five of them
    assert repeated_unit("<model>\n" + lines + "total_7 = total_6 + 20\n") is not None
    assert repeated_unit("<model>\n" + "else:\n    x += 1\n" * 9) is None  # shorter than 20


def test_prose_that_loops_through_stray_tags_is_one_section() -> None:
    copy = "The lift takes 10 minutes to get down, so</requires>\n\n"
    assert repeated_unit("<output>\n10\n</output>\n\n" + copy * 3) is not None


def test_a_unit_can_only_finish_on_a_newline_or_whitespace_after_punctuation() -> None:
    assert unit_finished("a", "b\n")
    assert unit_finished("It is 3.", " The")
    assert unit_finished("It is 3", ". The")
    assert not unit_finished("It is 3", ".5")
    assert not unit_finished("It is", " 3")


def test_no_gold_response_in_the_data_is_ever_taken_for_a_loop() -> None:
    """Every record of every split (GSM8K solutions included), checked at every point a unit
    finishes, as the generator would while writing it."""
    checked = 0
    for split in ("train", "validation", "test"):
        for record in read_records(DATA / f"{split}.jsonl"):
            response = record["messages"][-1]["content"]
            assert guard_cut(response) is None, record["id"]
            checked += 1
    assert checked > 17_000


@pytest.fixture(scope="module")
def looping_model(tmp_path_factory, qwen_tokenizer_dir) -> Path:
    """A 1-layer Qwen3 whose next token depends only on the current one (attention and MLP
    outputs zeroed, one-hot embeddings): from each prefix below it writes SENTENCE or CODE_LINE
    over and over. Every other token maps to a zero vector, so it then writes "!" forever."""
    torch = pytest.importorskip("torch")
    from transformers import AutoTokenizer, Qwen3Config, Qwen3ForCausalLM

    from worldmodel.model.prompt import prompt_ids

    tokenizer = AutoTokenizer.from_pretrained(qwen_tokenizer_dir)

    def ids(text: str) -> list[int]:
        return tokenizer(text, add_special_tokens=False)["input_ids"]

    successor: dict[int, int] = {}

    def cycle(start: int, tokens: list[int]) -> None:
        chain = [start, *tokens, tokens[0]]
        for source, target in itertools.pairwise(chain):
            assert successor.setdefault(source, target) == target, "not a function of one token"

    sentence, code = ids(SENTENCE), ids(CODE_LINE)
    cycle(prompt_ids(tokenizer, "q", THINK_PREFIX)[-1], sentence)
    cycle(prompt_ids(tokenizer, "q", PROSE_PREFIX)[-1], sentence)
    cycle(prompt_ids(tokenizer, "q", CODE_PREFIX)[-1], code)
    forced = set(ids(THINK_CLOSE)) | set(ids(CODE_CLOSE))
    assert not forced & set(successor), "a forced token would restart a cycle"
    hidden = 32
    assert len(successor) <= hidden
    config = Qwen3Config(
        vocab_size=len(tokenizer),
        hidden_size=hidden,
        intermediate_size=32,
        num_hidden_layers=1,
        num_attention_heads=4,
        num_key_value_heads=2,
        head_dim=8,
        max_position_embeddings=1024,
        tie_word_embeddings=False,
        eos_token_id=tokenizer.convert_tokens_to_ids("<|im_end|>"),
        pad_token_id=tokenizer.pad_token_id,
        bos_token_id=None,
    )
    model = Qwen3ForCausalLM(config)
    with torch.no_grad():
        for layer in model.model.layers:
            layer.self_attn.o_proj.weight.zero_()
            layer.mlp.down_proj.weight.zero_()
        model.model.embed_tokens.weight.zero_()
        model.lm_head.weight.zero_()
        for dim, (source, target) in enumerate(successor.items()):
            model.model.embed_tokens.weight[source, dim] = 1.0
            model.lm_head.weight[target, dim] = 10.0
    folder = tmp_path_factory.mktemp("looping-qwen3")
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


def _generate(model_dir: Path, prefix: str, loop_guard: bool) -> tuple[str, int]:
    config = GenerationConfig(max_new_tokens=60, think_budget=0, loop_guard=loop_guard, threads=1)
    generator = Generator(model_dir, config=config)
    text = generator.complete(["q"], [prefix])[0]
    return text, generator.stats.looped


def test_without_the_guard_the_model_loops_to_the_token_limit(looping_model) -> None:
    text, looped = _generate(looping_model, THINK_PREFIX, loop_guard=False)
    assert looped == 0
    assert text.startswith(SENTENCE * 5) and THINK_CLOSE not in text


def test_a_looping_reasoning_is_closed_and_the_code_begun(looping_model) -> None:
    text, looped = _generate(looping_model, THINK_PREFIX, loop_guard=True)
    assert looped == 1
    # Three copies, the whitespace that finished the third, then the forced close.
    assert text.startswith(SENTENCE * 3 + " The" + THINK_CLOSE)
    assert text.count(SENTENCE) == 3


def test_a_looping_code_block_is_closed(looping_model) -> None:
    text, looped = _generate(looping_model, CODE_PREFIX, loop_guard=True)
    assert looped == 1
    assert text.startswith(CODE_LINE * 3 + CODE_CLOSE)


def test_looping_prose_ends_the_turn(looping_model) -> None:
    text, looped = _generate(looping_model, PROSE_PREFIX, loop_guard=True)
    assert looped == 1
    assert text == SENTENCE * 3 + " The"


def _metaspace_tokenizer(corpus: list[str]):  # type: ignore[no-untyped-def]
    """A SentencePiece-style tokenizer (as Llama 2's and Mistral's fast ones): a `▁` marks a
    word start and the decoder drops the first one, so a word-start token decoded alone loses
    its space. Trained here on `corpus`; no download."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tokenizer = Tokenizer(models.BPE(unk_token="<unk>"))
    tokenizer.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="first")
    tokenizer.decoder = decoders.Metaspace(replacement="▁", prepend_scheme="first")
    alphabet = sorted(set("".join(corpus)))
    trainer = trainers.BpeTrainer(
        vocab_size=600, special_tokens=["<unk>", "</s>"], initial_alphabet=alphabet
    )
    tokenizer.train_from_iterator(corpus, trainer)
    return PreTrainedTokenizerFast(tokenizer_object=tokenizer, eos_token="</s>", unk_token="<unk>")


def _follow(tokenizer, prefix: str, text: str) -> tuple[str, str]:  # type: ignore[no-untyped-def]
    """Feed `text`'s tokens to a ResponseGuard one step at a time, as generate() does, after
    the prompt `prefix`; return the text it followed and the text those tokens really add."""
    import torch

    from worldmodel.generate import ResponseGuard, TokenPieces

    encode = partial(tokenizer, add_special_tokens=False)
    ids, before = encode(text)["input_ids"], encode(prefix)["input_ids"]
    guard = ResponseGuard(
        1,
        [prefix],
        budget=0,
        loops=True,
        think_close=[],
        code_close=[],
        stop=[-1],
        pieces=TokenPieces(tokenizer),
    )
    scores = torch.zeros(1, len(tokenizer))
    for end in range(len(ids) + 1):
        guard(torch.tensor([[0, *ids[:end]]]), scores)
    # What the tokens add after the prefix's tokens, in the tokenizer's own full decoding.
    added = tokenizer.decode(before + ids)[len(tokenizer.decode(before)) :]
    return guard.texts[0], prefix + added


@pytest.mark.parametrize("kind", ["qwen3 byte-level BPE", "SentencePiece-style"])
def test_the_guard_follows_the_text_exactly_whatever_the_tokenizer(
    kind: str, qwen_tokenizer
) -> None:  # type: ignore[no-untyped-def]
    gold = [r["messages"][1]["content"] for r in read_records(DATA / "test.jsonl", limit=40)]
    tokenizer = qwen_tokenizer if kind.startswith("qwen3") else _metaspace_tokenizer(gold)
    for response in gold:
        followed, decoded = _follow(tokenizer, "<think>", response.split("<think>", 1)[1])
        assert followed == decoded
    # So a loop in the prose of a SentencePiece model is caught at its third copy, as in Qwen3's
    # (decoding tokens alone, this text had no spaces and no unit ever finished).
    followed, _ = _follow(tokenizer, PROSE_PREFIX, (SENTENCE * 3).strip() + " Then")
    assert repeated_unit(followed) == SENTENCE.strip()
