"""The generator: a base model (+ LoRA adapter) loaded once, answering batches of questions.

`Generator.complete` builds each prompt exactly as training did (`model.prompt.prompt_ids`:
the model's chat template with the same thinking switch, then the assistant-side prefix),
left-pads the batch so every prompt ends at the same column, and generates several questions in
one forward pass. It returns ONLY the newly generated text: never the prompt, never the prefix.
That is the security boundary the pipeline relies on: tags a user types into a question (say
`<model>evil</model>`) are in the prompt, so they are never parsed or executed.

Stop conditions: `stop_at="end"` stops at EOS or the template's end-of-turn token;
`stop_at="requires"` (answer-after-execution mode) stops where the response's code section ends,
by the rule training uses to place the `<output>` block (`worldmodel.format.code_section_end`):
right after the first `</requires>`, or, for a response that declares no requirements, right
after the first `</model>` that a blank line follows. It stops on `format.CODE_SECTION_STOPS`
and cuts the text back to the end of the section (`cut_after_code`).
Reasoning budget: a response still inside its `<think>` block after `think_budget` new tokens
is made to close it: the generator forces `</think>` and the opening `<model>` tag, and the
model writes its code from there. A small model sometimes loops in its reasoning (on GSM8K word
problems, say) until the token limit, leaving no code at all; with the budget such a response
still gets to write its code. The training data's longest reasoning is 299 tokens (a GSM8K
solution; 99% are at most 170), so the default, 256, rarely cuts a reasoning the model would
have finished. `GenerationStats.think_cut` counts the cut ones.
Loop guard (`loop_guard`, on by default): once a response repeats a sentence or a line of code
(`worldmodel.loops`: three verbatim copies, or six that differ only in their numbers, in one
section), the generator ends that section: a reasoning gets `</think>` and `<model>` forced, a
code block `</model>`, prose the end of the turn. Without it a looping code block runs to the
token limit unclosed, and looping prose costs the whole budget. `GenerationStats.looped`
counts them. Both steer by forcing tokens in one logits processor, `ResponseGuard`.
Greedy by default (temperature 0); sampling with temperature/top_p is seeded, so it repeats.
A call may set its own temperature (the pipeline's voting candidates are sampled that way).

Adapters per call: `complete(..., adapter=DIR)` generates with another LoRA adapter on the same
base, loaded into the one model beside the others (peft's named adapters) on first use and kept
warm, so a server that answers for many trained adapters holds the base weights once. At most
`warm_adapters` such adapters stay loaded; the least recently used one is unloaded first. The
adapter given to the constructor (or none: the base model alone) is what `adapter=None` uses.

This module does not parse, execute or verify (see `worldmodel.pipeline`).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from worldmodel.errors import ConfigError
from worldmodel.format import CODE_SECTION_STOPS, MODEL_END, code_section_end
from worldmodel.loops import repeated_unit, section, unit_finished

log = logging.getLogger(__name__)

STOP_MODES = ("end", "requires")
DEFAULT_ADAPTER = "default"
"""peft's name for the adapter `load_model` attaches (the constructor's `adapter_dir`)."""


DEFAULT_MAX_NEW_TOKENS = 384
"""Generation budget per answer unless a caller sets one (CLI flags, worker settings)."""
DEFAULT_THINK_BUDGET = 256
"""New tokens a response may spend inside `<think>` before it is made to start its code."""
THINK_CLOSE = "</think>\n<model>\n"
"""What the generator forces when a reasoning runs past its budget or loops."""
CODE_CLOSE = MODEL_END + "\n"
"""What the generator forces when a code block loops."""
KV_CACHES = ("dynamic", "static", "auto")
"""How the decode loop keeps its attention cache (`GenerationConfig.kv_cache`)."""


@dataclass
class GenerationConfig:
    """How to generate. Greedy unless temperature > 0."""

    max_new_tokens: int = DEFAULT_MAX_NEW_TOKENS
    """Upper bound on generated tokens per question."""
    think_budget: int = DEFAULT_THINK_BUDGET
    """New tokens after which an unclosed `<think>` is closed and the code begun (0: never)."""
    loop_guard: bool = True
    """End a section once it repeats itself (`worldmodel.loops`): reasoning goes on to the
    code, code is closed, prose ends the turn. False lets a loop run to `max_new_tokens`."""
    temperature: float = 0.0
    """0 = greedy (deterministic); > 0 samples with this temperature."""
    top_p: float = 1.0
    """Nucleus sampling mass (used only when sampling)."""
    batch_size: int = 8
    """Questions per forward pass."""
    seed: int = 0
    """Seed for sampling, set at each `complete` call so results repeat."""
    device: str = "auto"
    """auto|cpu|cuda|cuda:N|rocm|rocm:N."""
    threads: int | None = None
    """CPU threads for torch; None keeps torch's default."""
    precision: str = "auto"
    """auto|fp32|bf16|fp16 (auto: fp32 on CPU, bf16 or fp16 on GPU)."""
    rocm_env: dict[str, str] = field(default_factory=dict)
    """ROCm variables applied before the GPU initialises (see `worldmodel.model.device`)."""
    warm_adapters: int = 4
    """Most per-call adapters (`complete(adapter=...)`) kept loaded beside the base model."""
    kv_cache: str = "dynamic"
    """dynamic: the cache grows by a token per step (works everywhere); static: allocated once
    per batch at its full length, which lets transformers compile the decode step on a GPU
    (torch.compile; each new batch shape compiles once, seconds to a minute); auto: static on
    a GPU, dynamic on the CPU. Dynamic is the default until static has been measured faster
    on the users' GPUs (`bench/bench_generate.py --kv-cache`). Where static fails, the
    generator falls back to dynamic for good and logs why (`Generator.kv_cache`)."""

    def problems(self) -> list[str]:
        found = []
        if self.max_new_tokens < 1:
            found.append("max_new_tokens: must be >= 1")
        if self.think_budget < 0:
            found.append("think_budget: must be >= 0 (0 turns the budget off)")
        if self.temperature < 0:
            found.append("temperature: must be >= 0")
        if not 0 < self.top_p <= 1:
            found.append("top_p: must be in (0, 1]")
        if self.batch_size < 1:
            found.append("batch_size: must be >= 1")
        if self.warm_adapters < 1:
            found.append("warm_adapters: must be >= 1")
        if self.kv_cache not in KV_CACHES:
            found.append(f"kv_cache: {self.kv_cache!r} is not one of {', '.join(KV_CACHES)}")
        return found


@dataclass
class GenerationStats:
    """Counts from the last `complete` call (for timings and benchmarks)."""

    questions: int = 0
    new_tokens: int = 0
    seconds: float = 0.0
    forward_passes: list[int] = field(default_factory=list)
    """Batch size of each `generate` call."""
    think_cut: int = 0
    """Responses whose reasoning ran past `think_budget` and was closed by the generator."""
    looped: int = 0
    """Responses that repeated themselves and had that section ended by the generator."""


class Generator:
    """Base model + optional adapter, loaded once; `complete` answers batches of questions."""

    def __init__(
        self,
        model_dir: str | Path,
        adapter_dir: str | Path | None = None,
        *,
        config: GenerationConfig | None = None,
    ):
        from worldmodel.model.device import (
            apply_rocm_env,
            resolve_device,
            resolve_dtype,
            set_threads,
        )
        from worldmodel.model.loading import load_model, resolve_model_dir
        from worldmodel.model.prompt import end_of_turn

        self.config = config or GenerationConfig()
        problems = self.config.problems()
        if problems:
            raise ConfigError("invalid generation config:\n  " + "\n  ".join(problems))
        apply_rocm_env(self.config.rocm_env)
        self.device = resolve_device(self.config.device)
        if self.device.type == "cpu":
            set_threads(self.config.threads)
        dtype = resolve_dtype(self.config.precision, self.device)
        self.model_dir = resolve_model_dir(model_dir)
        self.adapter_dir = Path(adapter_dir) if adapter_dir is not None else None
        self.model, self.tokenizer = load_model(
            self.model_dir, adapter_dir, device=self.device, dtype=dtype
        )
        self.tokenizer.padding_side = "left"
        stop_ids = {int(self.tokenizer.eos_token_id)}
        eot = self.tokenizer(end_of_turn(self.tokenizer), add_special_tokens=False)["input_ids"]
        if len(eot) == 1:
            stop_ids.add(int(eot[0]))
        self.stop_ids = sorted(stop_ids)
        self.think_close_ids = self.tokenizer(THINK_CLOSE, add_special_tokens=False)["input_ids"]
        """The tokens `ResponseGuard` forces to end a reasoning (budget spent, or a loop)."""
        self.code_close_ids = self.tokenizer(CODE_CLOSE, add_special_tokens=False)["input_ids"]
        """The tokens `ResponseGuard` forces to end a looping code block."""
        self.steered = {"think_cut": 0, "looped": 0}
        """Responses steered by `ResponseGuard` since this generator was built (all calls)."""
        self._pieces = TokenPieces(self.tokenizer)
        """Token id -> its text, decoded once (`ResponseGuard` follows each row's text)."""
        self.stats = GenerationStats()
        static = self.config.kv_cache == "static" or (
            self.config.kv_cache == "auto" and self.device.type != "cpu"
        )
        self.kv_cache = "static" if static else "dynamic"
        """The cache the decode loop uses now; "dynamic" after a static one failed here."""
        self.kv_cache_fallback: str | None = None
        """Why the static cache was given up (None: it was not, or never tried)."""
        self._default_adapter = DEFAULT_ADAPTER if adapter_dir is not None else None
        self._warm: dict[str, str] = {}
        """Resolved adapter directory -> peft adapter name, least recently used first."""
        self.adapter_loads: list[str] = []
        """Every per-call adapter directory loaded so far, in order (a reload shows twice)."""

    @property
    def warm_adapters(self) -> list[str]:
        """The per-call adapters loaded now, least recently used first."""
        return list(self._warm)

    def complete(
        self,
        questions: list[str],
        prefixes: list[str] | None = None,
        *,
        stop_at: str = "end",
        adapter: str | Path | None = None,
        temperature: float | None = None,
    ) -> list[str]:
        """For each question, build the chat prompt (model's chat template, user turn = question),
        append the assistant-side prefix (prefixes[i], may be "") and generate.

        Returns only the newly generated text (not the prompt, not the prefix). stop_at="end":
        stop at EOS/end of turn; stop_at="requires": stop where the code section ends (right
        after the first `</requires>`, or after a `</model>` that a blank line follows; see the
        module docstring). `adapter`: a local adapter directory to generate with instead of the
        constructor's (loaded once, then kept warm); None uses the constructor's.
        `temperature`: this call's sampling temperature (0 = greedy) instead of the config's;
        the pipeline samples its voting candidates this way.
        """
        import contextlib

        import torch

        from worldmodel.model.prompt import prompt_ids

        if stop_at not in STOP_MODES:
            raise ConfigError(f"stop_at: {stop_at!r} is not one of {', '.join(STOP_MODES)}")
        if temperature is None:
            temperature = self.config.temperature
        if temperature < 0:
            raise ConfigError(f"temperature: must be >= 0, not {temperature}")
        if prefixes is None:
            prefixes = [""] * len(questions)
        if len(prefixes) != len(questions):
            raise ValueError(f"{len(questions)} questions but {len(prefixes)} prefixes")
        started = time.perf_counter()
        self.stats = GenerationStats(questions=len(questions))
        encoded = [
            prompt_ids(self.tokenizer, q, p) for q, p in zip(questions, prefixes, strict=True)
        ]
        # Similar lengths share a batch so little padding is computed; results go back in order.
        order = sorted(range(len(encoded)), key=lambda i: len(encoded[i]))
        results: list[str] = [""] * len(encoded)
        name = self._activate(adapter)
        # The base alone, while other adapters are loaded into the model: switch them off.
        plain = name is None and self._is_peft()
        torch.manual_seed(self.config.seed)
        size = self.config.batch_size
        with self.model.disable_adapter() if plain else contextlib.nullcontext():
            for start in range(0, len(order), size):
                chunk = order[start : start + size]
                texts = self._generate(
                    [encoded[i] for i in chunk], [prefixes[i] for i in chunk], stop_at, temperature
                )
                for index, text in zip(chunk, texts, strict=True):
                    results[index] = text
        self.stats.seconds = time.perf_counter() - started
        return results

    def _is_peft(self) -> bool:
        """Whether the model is a peft model yet (an adapter was attached at load or since)."""
        return self._default_adapter is not None or bool(self.adapter_loads)

    def _activate(self, adapter: str | Path | None) -> str | None:
        """Make `adapter` the active one; return its peft name (None: the base model alone).

        A new adapter is loaded into the model under a fresh name and activated; then, past
        `warm_adapters`, the least recently used ones are deleted (never the constructor's,
        never the one just activated). Loading before evicting means peft always has an active
        adapter to fall back on.
        """
        from worldmodel.model.loading import check_adapter_dir

        if adapter is None:
            name = self._default_adapter
        else:
            folder = check_adapter_dir(adapter)
            if self.adapter_dir is not None and folder == self.adapter_dir.resolve():
                name = DEFAULT_ADAPTER
            elif str(folder) in self._warm:
                name = self._warm.pop(str(folder))
                self._warm[str(folder)] = name  # most recently used now
            else:
                name = self._load_adapter(folder)
        if name is not None:
            self.model.set_adapter(name)
        while len(self._warm) > self.config.warm_adapters:
            old_key = next(iter(self._warm))
            self.model.delete_adapter(self._warm.pop(old_key))
            log.info("unloaded adapter %s (least recently used)", old_key)
        return name

    def _load_adapter(self, folder: Path) -> str:
        name = f"warm{len(self.adapter_loads)}"
        started = time.perf_counter()
        if self._is_peft():
            self.model.load_adapter(folder, adapter_name=name)
        else:
            from peft import PeftModel

            self.model = PeftModel.from_pretrained(self.model, folder, adapter_name=name)
        self.model.to(self.device)
        self.model.eval()
        self._warm[str(folder)] = name
        self.adapter_loads.append(str(folder))
        log.info("loaded adapter %s in %.2f s", folder, time.perf_counter() - started)
        return name

    def _generate(
        self, prompts: list[list[int]], prefixes: list[str], stop_at: str, temperature: float
    ) -> list[str]:
        import torch

        width = max(len(p) for p in prompts)
        pad = int(self.tokenizer.pad_token_id)
        input_ids = torch.tensor([[pad] * (width - len(p)) + p for p in prompts])
        mask = torch.tensor([[0] * (width - len(p)) + [1] * len(p) for p in prompts])
        options: dict[str, Any] = {
            "max_new_tokens": self.config.max_new_tokens,
            "eos_token_id": self.stop_ids,
            "pad_token_id": pad,
        }
        if temperature > 0:
            options |= {
                "do_sample": True,
                "temperature": temperature,
                "top_p": self.config.top_p,
                "top_k": 0,
            }
        else:
            options |= {"do_sample": False, "temperature": None, "top_p": None, "top_k": None}
        if stop_at == "requires":
            options |= {
                "stop_strings": list(CODE_SECTION_STOPS),
                "tokenizer": self.tokenizer,
            }
        budget = self.config.think_budget
        if not 0 < budget < self.config.max_new_tokens:
            budget = 0
        guard = None
        if budget or self.config.loop_guard:
            from transformers import LogitsProcessorList

            guard = ResponseGuard(
                width,
                prefixes,
                budget=budget,
                loops=self.config.loop_guard,
                think_close=self.think_close_ids,
                code_close=self.code_close_ids,
                stop=self.stop_ids,
                pieces=self._pieces,
            )
            options["logits_processor"] = LogitsProcessorList([guard])
        if self.kv_cache == "static":
            options["cache_implementation"] = "static"
        try:
            with torch.no_grad():
                output = self.model.generate(
                    input_ids=input_ids.to(self.device),
                    attention_mask=mask.to(self.device),
                    **options,
                )
        except Exception as exc:
            if self.kv_cache != "static":
                raise
            # Said, not hidden: the reason stays on the generator and in the log.
            self.kv_cache, self.kv_cache_fallback = "dynamic", f"{type(exc).__name__}: {exc}"
            log.warning("static KV cache failed here, using the dynamic one: %s", exc)
            return self._generate(prompts, prefixes, stop_at, temperature)
        self.stats.forward_passes.append(len(prompts))
        if guard is not None and guard.cut:
            self.stats.think_cut += len(guard.cut)
            self.steered["think_cut"] += len(guard.cut)
            log.warning(
                "%d response(s) still reasoning after %d tokens: closed <think> and began the code",
                len(guard.cut),
                budget,
            )
        if guard is not None and guard.looped:
            self.stats.looped += len(guard.looped)
            self.steered["looped"] += len(guard.looped)
            log.warning(
                "%d response(s) began repeating themselves: ended the section they were in",
                len(guard.looped),
            )
        texts = []
        for row in output[:, width:].tolist():
            new = _until_stop(row, self.stop_ids)
            self.stats.new_tokens += len(new)
            text = str(self.tokenizer.decode(new, skip_special_tokens=True))
            if stop_at == "requires":
                text = cut_after_code(text)
            texts.append(text)
        return texts


REPLACEMENT = "\ufffd"
"""What a decoder writes for bytes that are not (yet) a whole UTF-8 character."""


class TokenPieces:
    """The text each token adds where it stands inside a text, decoded once per token id.

    `tokenizer.decode([token])` is not that text for every tokenizer. SentencePiece-style ones
    (Llama 2, Mistral, T5: a `▁` marks a word start) drop the space of a word-start token
    decoded alone, so "▁sat" decodes to "sat", and text rebuilt one token at a time would have
    no spaces at all. A token is therefore decoded after a fixed anchor token, and what follows
    the anchor's own text is the piece. For byte-level BPE (Qwen3, SmolLM2, GPT-2), where a
    token decodes the same anywhere, this equals decoding it alone.
    """

    def __init__(self, tokenizer: Any):
        self.tokenizer = tokenizer
        self.cache: dict[int, str] = {}
        ids = tokenizer("a", add_special_tokens=False)["input_ids"]
        self.anchor = [int(ids[-1])] if ids else []
        self.anchor_text = self._decode(self.anchor)

    def _decode(self, ids: list[int]) -> str:
        return str(self.tokenizer.decode(ids, skip_special_tokens=False))

    def __call__(self, token: int) -> str:
        piece = self.cache.get(token)
        if piece is None:
            piece = self.cache[token] = self.join([token])
        return piece

    def join(self, ids: list[int]) -> str:
        """The text of several tokens together, where one alone is part of a character."""
        joined = self._decode([*self.anchor, *ids])
        if self.anchor and joined.startswith(self.anchor_text):
            return joined[len(self.anchor_text) :]
        return self._decode(ids)


class ResponseGuard:
    """A logits processor that steers a response out of two dead ends by forcing tokens.

    - Reasoning budget: a response still inside `<think>` after `budget` new tokens (0: no
      budget) is made to close it: `think_close`, one token per step.
    - Loops (`loops`): once a sentence or code line repeats (`worldmodel.loops.repeated_unit`),
      the section it is in is ended: an open `<think>` with `think_close`, an open `<model>`
      with `code_close`, prose with the end of the turn (`stop`).

    Each row's text is its assistant-side prefix plus what it generated, kept up to date one
    token at a time (a token's text is decoded once and cached), and a row is only checked
    for a loop when its newest token can finish a unit. A row whose newest token is a stop
    token is left alone. `cut` and `looped` list the rows steered by the budget and by a loop.
    """

    def __init__(
        self,
        width: int,
        prefixes: list[str],
        *,
        budget: int,
        loops: bool,
        think_close: list[int],
        code_close: list[int],
        stop: list[int],
        pieces: TokenPieces,
    ):
        self.width = width
        self.budget = budget
        self.loops = loops
        self.think_close = think_close
        self.code_close = code_close
        self.stop = stop
        self.pieces = pieces
        """Token id -> its text, shared between calls (the generator's `TokenPieces`)."""
        self.texts = list(prefixes)
        self.partial: dict[int, list[int]] = {}
        """Row -> tokens held back: the start of a character not yet complete."""
        self.done: set[int] = set()
        self.forcing: dict[int, tuple[list[int], int]] = {}
        """Row -> (tokens to force, index of the next one)."""
        self.cut: list[int] = []
        self.looped: list[int] = []

    def __call__(self, input_ids: Any, scores: Any) -> Any:
        step = input_ids.shape[1] - self.width
        if step > 0:
            for row, token in enumerate(input_ids[:, -1].tolist()):
                if row in self.done:
                    continue
                if token in self.stop:
                    self.done.add(row)
                    self.forcing.pop(row, None)
                    continue
                before = self.texts[row]
                piece = self.pieces(token)
                held = self.partial.pop(row, [])
                if held or REPLACEMENT in piece:
                    # A byte-level token can be part of a character (√ is three): hold it
                    # until the character is whole, as the full decode would show it.
                    piece = self.pieces.join([*held, token])
                    if piece.endswith(REPLACEMENT) and len(held) < 3:
                        self.partial[row] = [*held, token]
                        continue
                self.texts[row] = before + piece
                if not self.loops or row in self.forcing or not unit_finished(before, piece):
                    continue
                if repeated_unit(self.texts[row]) is not None:
                    kind = section(self.texts[row])[0]
                    close = {"think": self.think_close, "code": self.code_close}.get(
                        kind, self.stop[:1]
                    )
                    self.forcing[row] = (close, 0)
                    self.looped.append(row)
        if step == self.budget > 0:
            for row, text in enumerate(self.texts):
                if row in self.done or row in self.forcing:
                    continue
                if section(text)[0] == "think":
                    self.forcing[row] = (self.think_close, 0)
                    self.cut.append(row)
        for row, (close, position) in list(self.forcing.items()):
            if position >= len(close):
                del self.forcing[row]
                continue
            token = close[position]
            kept = scores[row, token].clone()
            scores[row, :] = float("-inf")
            scores[row, token] = kept if kept.isfinite() else 0.0
            self.forcing[row] = (close, position + 1)
        return scores


def cut_after_code(text: str) -> str:
    """`text` up to the end of its code section (`worldmodel.format.code_section_end`), for
    stop_at="requires"; unchanged if it has none (the model ended its turn first)."""
    end = code_section_end(text)
    return text[:end] if end >= 0 else text


def _until_stop(tokens: list[int], stop_ids: list[int]) -> list[int]:
    """The generated tokens before the first stop token (padding follows a stop)."""
    for position, token in enumerate(tokens):
        if token in stop_ids:
            return tokens[:position]
    return tokens
