"""The response format: parse a model's completion into a typed `Response`, and render one back.

A well-formed completion reads, in this order::

    <think>reasoning</think>
    <model>
    python code that computes the answer
    </model>
    <requires>python:math, python:numpy</requires>
    <output>
    what the sandbox printed (only in answer-after-execution mode, inserted by the system)
    </output>

    A one-sentence answer.

What the parser accepts, and how it repairs real model output (each repair adds a warning that
names line and column; `structure_score` counts a block as well-formed only without repairs):

- Tags are matched case-insensitively and with up to three spaces or tabs inside the angle
  brackets (`<Model>`, `< /model >`); a non-canonical spelling is a repair.
- `<model>` ends at the first tag that is outside a Python string literal (a small lexer that
  follows the stdlib tokenizer's string rules decides; tags inside comments count as real).
  If that tag is not `</model>`, or there is none, the block was never closed: it ends at that
  tag, or at the end of the text (a completion cut off by the token limit).
- `<think>`, `<requires>`, `<output>` end at their closing tag; tags between are their text.
  Without a closing tag (before the next tag of the same name) they end at the next opening tag.
- Code is dedented (whitespace-only lines are left alone); a markdown fence (```python ... ```)
  around it is removed; an empty `<model>` gives no code. Several `<model>` blocks are all
  kept, in order.
- Repeated `<think>` or `<output>` blocks are joined; repeated `<requires>` are merged.
- Blocks may come in any order. The answer is the prose after the last block; if that is empty,
  the last prose before it. Other prose outside the blocks is dropped with a warning.
- `<requires>` items are separated by commas, semicolons or whitespace. A bare `math` is read
  as `python:math`; duplicates are dropped. An item that is not `language:module` at all
  (`python:`, `:math`, `a:b:c`, `numpy>=1`) is a FormatError. A well-formed item the sandbox
  cannot provide (`rust:serde`, `python:pandas`) is kept; `check_requirements` reports it.
- CRLF and lone CR line endings are read as LF; line and column refer to the text's lines.
- A text without tags is a usable Response with only `answer` (structure score 0).

`render` writes the canonical text: empty parts are omitted (no `<think>` when reasoning is
empty, no `<requires>` without requirements, no `<output>` when output is None), and
`parse(render(r)) == r` for every Response without warnings that render accepts; render raises
FormatError rather than write text that would read back differently.

The code section. In the after-execution mode (one of the two answer `MODES`) the model's
response is cut where its code section ends, the code runs, and the sandbox's output is put
there as an `<output>` block before the model writes its prose answer. Training, generation and
the pipeline all take that point from `code_section_end`, one rule for all three:

- the section ends right after the first `</requires>` (the format puts `<requires>` last), or
  right after the first `</model>` that a blank line or the end of the text follows (a response
  that declares no requirements: the blank line is where its prose answer begins), whichever
  comes first. The rule reads only what is already written, so generation can stop on it
  (`CODE_SECTION_STOPS` are its stop strings), and a text cut there has the same end.
- it is plain text search, like the stop strings: tags are matched as written (`</model>`, not
  `< /model >`), and a tag inside a string literal in the code counts.

`insert_output` puts the `<output>` block there, for training (a record's output, with no loss
on the block) and the pipeline (the text the model continues from is the same text up to the
end of the block). `output_block` shows at most `MAX_OUTPUT_CHARS` of the output; the middle of
a longer one is replaced by a line saying how many characters were cut.

This module is a pure function of the text. It never executes code, never looks at the prompt
(only the completion must be passed in), and knows nothing about the sandbox beyond the list of
modules the guest provides.
"""

from __future__ import annotations

import bisect
import dataclasses
import os
import re
from collections.abc import Collection, Iterator
from dataclasses import dataclass, field
from typing import Literal, NamedTuple, TypeGuard, get_args

from worldmodel.errors import DataError, FormatError, QuestionError

__all__ = [
    "BUILTINS_REQUIREMENT",
    "CODE_SECTION_STOPS",
    "DEFAULT_ALLOWED_MODULES",
    "MAX_OUTPUT_CHARS",
    "MAX_QUESTION_CHARS",
    "MODEL_END",
    "MODES",
    "REQUIRES_END",
    "Mode",
    "Requirement",
    "Response",
    "StructureScore",
    "check_question",
    "check_requirements",
    "code_section_end",
    "insert_output",
    "is_mode",
    "output_block",
    "parse",
    "render",
    "structure_score",
]

# Python modules the sandbox guest provides. The VM image's manifest is built to match this.
DEFAULT_ALLOWED_MODULES: frozenset[str] = frozenset(
    {
        # "python:builtins" is what code that imports nothing declares, so that every
        # response carries a <requires> block (see BUILTINS_REQUIREMENT)
        "builtins",
        # stdlib
        "math", "statistics", "json", "csv", "datetime", "re", "fractions", "decimal",
        "random", "itertools", "collections", "functools", "string", "os", "pathlib", "time",
        "calendar", "platform", "sys", "tempfile", "shutil", "textwrap", "unicodedata",
        "hashlib", "cmath", "operator", "heapq", "bisect", "typing", "dataclasses", "enum",
        "copy", "array", "numbers", "io", "struct", "base64", "pprint", "difflib",
        # third-party, installed in the guest image
        "numpy", "sympy", "mpmath",
    }
)  # fmt: skip

Mode = Literal["plain", "after-execution"]
MODES: tuple[Mode, ...] = get_args(Mode)
"""How a response is answered: `plain` (the model writes all of it before any code runs) or
`after-execution` (the sandbox's output is inserted after the code section; see the module)."""


def is_mode(value: object) -> TypeGuard[Mode]:
    """True when `value` is one of MODES (so a checked string can be passed on as a `Mode`)."""
    return value in MODES


REQUIRES_END = "</requires>"
MODEL_END = "</model>"
CODE_SECTION_STOPS = (REQUIRES_END, MODEL_END + "\n\n")
"""Generation stops on these in the after-execution mode: the first one written ends the code
section (`code_section_end`). Its third ending, a `</model>` at the end of the text, needs no
stop string: there generation has already stopped."""

MAX_OUTPUT_CHARS = 2000
"""Most characters of program output an `<output>` block shows (the sandbox keeps up to 1 MB).

The block becomes part of the prompt the model continues from, so its size must be bounded.
At worst one token per character (digits are single tokens for Qwen3 and SmolLM2), 2,000
characters stay under 4,096 tokens together with a training-sized prompt (rows are at most
1,024 tokens) and the 384 new tokens, well inside SmolLM2's 8,192-token context; and it is 40
times the longest training output (51 characters), so a list or a small table is shown whole.
A longer output keeps its first and last 1,000 characters: a program's value is its last
printed line (`verify.executed_value`), and the pipeline writes a failure's error last."""

MAX_QUESTION_CHARS = 4000
"""Most characters a question may have, on every path (`wm query`, `wm submit-query`, the
workers). The question is the prompt: at worst a token per character, 4,000 characters, the
chat template, a capped `<output>` block (`MAX_OUTPUT_CHARS`) and the new tokens stay inside
SmolLM2's 8,192-token context. The longest question in the data is 667 characters."""


def check_question(question: str) -> str:
    """The question as it will be asked (surrounding white space removed); `QuestionError`
    naming the limit when it is empty or longer than `MAX_QUESTION_CHARS`."""
    if not isinstance(question, str):
        raise QuestionError(f"a question is text, not {type(question).__name__}")
    text = question.strip()
    if not text:
        raise QuestionError("the question is empty: ask something")
    if len(text) > MAX_QUESTION_CHARS:
        raise QuestionError(
            f"the question has {len(text):,} characters; at most {MAX_QUESTION_CHARS:,} can be "
            "asked (shorten it, or put the data in a file the question names)"
        )
    return text


_MAX_WARNINGS = 50  # an adversarial text can need thousands of repairs; keep results small
_TAG_NAMES = ("think", "model", "requires", "output")
_ORDER = {name: rank for rank, name in enumerate(_TAG_NAMES)}
# Bounded whitespace keeps the tag regex linear: no nested or adjacent unbounded quantifiers.
_TAG_RE = re.compile(r"<[ \t]{0,3}(/?)[ \t]{0,3}(think|model|requires|output)[ \t]{0,3}>", re.I)
_FENCE_RE = re.compile(r"[ \t]*```[\w+.-]*[ \t]*")
_ITEM_RE = re.compile(r"(?:[^\s,;:]+[ \t]*)?:[ \t]*[^\s,;]*|[^\s,;]+")
_LANG_RE = re.compile(r"[A-Za-z][A-Za-z0-9_+-]*")
_MODULE_RE = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]*")
_IDENT_PATH_RE = re.compile(r"[A-Za-z_]\w*(\.[A-Za-z_]\w*)*")
_CODE_STOP_RE = re.compile(r"[\"'#]")
_STRING_END_RE = {
    '"': re.compile(r'\\[\s\S]|"|\n'),
    "'": re.compile(r"\\[\s\S]|'|\n"),
    '"""': re.compile(r'\\[\s\S]|"""'),
    "'''": re.compile(r"\\[\s\S]|'''"),
}


@dataclass(frozen=True)
class Requirement:
    """One entry of `<requires>`: a language and a module, written `language:module`."""

    language: str
    module: str

    def __str__(self) -> str:
        return f"{self.language}:{self.module}"


BUILTINS_REQUIREMENT = Requirement("python", "builtins")
"""What code that imports nothing declares: `<requires>python:builtins</requires>`.

Every response carries a `<requires>` block, so its presence is a reliable structure signal
(and a model never has to learn when to leave it out)."""


@dataclass(frozen=True)
class Response:
    """A parsed completion. Every field is plain data, so it travels as JSON unchanged."""

    reasoning: str = ""
    code: tuple[str, ...] = ()
    requirements: tuple[Requirement, ...] = ()
    answer: str = ""
    output: str | None = None
    warnings: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        # Lists would make two equal responses compare unequal and break hashing.
        for name in ("code", "requirements", "warnings"):
            value = getattr(self, name)
            if isinstance(value, str):  # tuple("print(1)") would silently split it into chars
                raise TypeError(f"Response.{name} must be a tuple of items, not one string")
            object.__setattr__(self, name, tuple(value))

    def to_dict(self) -> dict:
        return {
            "reasoning": self.reasoning,
            "code": list(self.code),
            "requirements": [str(r) for r in self.requirements],
            "answer": self.answer,
            "output": self.output,
            "warnings": list(self.warnings),
        }

    @classmethod
    def from_dict(cls, d: dict) -> Response:
        """Rebuild a Response from `to_dict` output; raises DataError naming a bad field."""
        if not isinstance(d, dict):
            raise DataError(f"a Response must be a JSON object, got {type(d).__name__}")
        unknown = set(d) - {f.name for f in dataclasses.fields(cls)}
        if unknown:
            raise DataError(f"unknown Response fields: {', '.join(sorted(unknown))}")
        for key in ("reasoning", "answer"):
            if not isinstance(d.get(key, ""), str):
                raise DataError(f"Response field {key!r} must be a string")
        if d.get("output") is not None and not isinstance(d["output"], str):
            raise DataError("Response field 'output' must be a string or null")
        for key in ("code", "requirements", "warnings"):
            value = d.get(key, [])
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise DataError(f"Response field {key!r} must be a list of strings")
        requirements = []
        for item in d.get("requirements", []):
            lang, sep, module = item.partition(":")
            if not (sep and _LANG_RE.fullmatch(lang) and _MODULE_RE.fullmatch(module)):
                raise DataError(f"requirement {item!r} is not written language:module")
            requirements.append(Requirement(lang, module))
        return cls(
            reasoning=d.get("reasoning", ""),
            code=tuple(d.get("code", [])),
            requirements=tuple(requirements),
            answer=d.get("answer", ""),
            output=d.get("output"),
            warnings=tuple(d.get("warnings", [])),
        )


@dataclass(frozen=True)
class StructureScore:
    """Which of the three core blocks are present and well-formed (parsed without repair)."""

    think: bool
    model: bool
    requires: bool
    score: int
    total: int = 3

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


# --- scanning -------------------------------------------------------------------------------


class _Tag(NamedTuple):  # a tuple: adversarial text can hold hundreds of thousands of tags
    name: str
    closing: bool
    start: int
    end: int
    raw: str


@dataclass
class _Block:
    tag: _Tag
    content_start: int
    content_end: int


@dataclass
class _Scan:
    """What one pass over the text found; building it never raises."""

    text: str
    blocks: list[_Block] = field(default_factory=list)
    prose: list[tuple[int, int]] = field(default_factory=list)  # (start, end) outside blocks
    trailing_from: int = 0  # index into `prose` where the text after the last block begins
    notes: list[tuple[str | None, int, str]] = field(default_factory=list)  # kind, offset, msg
    _line_starts: list[int] | None = None

    def where(self, offset: int) -> tuple[int, int]:
        if self._line_starts is None:
            self._line_starts = [0] + [m.end() for m in re.finditer("\n", self.text)]
        line = bisect.bisect_right(self._line_starts, offset)
        return line, offset - self._line_starts[line - 1] + 1

    def note(self, kind: str | None, offset: int, message: str) -> None:
        self.notes.append((kind, offset, message))

    def warnings(self) -> tuple[str, ...]:
        shown = [
            f"line {line}, column {col}: {msg}"
            for (_, off, msg) in sorted(self.notes, key=lambda n: n[1])[:_MAX_WARNINGS]
            for line, col in [self.where(off)]
        ]
        if len(self.notes) > _MAX_WARNINGS:
            shown.append(f"and {len(self.notes) - _MAX_WARNINGS} more repairs not listed")
        return tuple(shown)


class _StringSpans:
    """Finds Python string literals in code, left to right, so tags inside them can be skipped.

    Follows the stdlib tokenizer's rules for where a string ends: a backslash escapes the next
    character (also in raw strings, for the purpose of termination), a one-quote string that
    meets a newline is no string (tokenize yields an error token for the quote and goes on), a
    triple-quoted one runs to its end or the end of the text; `#` starts a comment. Written by
    hand rather than with `tokenize` so it is linear on one huge line, never fails on partial
    or fenced code, and behaves the same on every Python version the project supports.
    """

    def __init__(self, text: str, start: int) -> None:
        self.text = text
        self.pos = start  # everything before pos is lexed
        self.span = (start, start)  # the last string literal found, [start, end)
        self.in_comment = False

    def inside(self, offset: int) -> bool:
        """Whether `offset` (never decreasing between calls) lies inside a string literal."""
        text = self.text
        while self.span[1] <= offset:
            if self.in_comment:  # searches stay bounded by `offset` to keep many blocks linear
                newline = text.find("\n", self.pos, offset)
                self.in_comment = newline < 0
                self.pos = offset if newline < 0 else newline
            if self.pos >= offset:
                return False
            m = _CODE_STOP_RE.search(text, self.pos, offset)
            if m is None:
                self.pos = offset
                return False
            if m.group() == "#":
                self.in_comment, self.pos = True, m.end()
                continue
            quote = text[m.start()] * 3 if text.startswith(m.group() * 3, m.start()) else m.group()
            end = self._string_end(quote, m.start() + len(quote))
            if end is None:  # an unterminated one-quote string: skip the quote, like tokenize
                self.pos = m.end()
                continue
            self.span = (m.start(), end)
            self.pos = end
        return self.span[0] < offset

    def _string_end(self, quote: str, pos: int) -> int | None:
        for m in _STRING_END_RE[quote].finditer(self.text, pos):
            if m.group() == quote:
                return m.end()
            if m.group() == "\n":
                return None
        return len(self.text) if len(quote) == 3 else None


def _scan(text: str) -> _Scan:
    scan = _Scan(text)
    tags = [
        _Tag(m.group(2).lower(), m.group(1) == "/", m.start(), m.end(), m.group())
        for m in _TAG_RE.finditer(text)
    ]
    # For each tag: index of the next closing / opening tag of the same name, and of the next
    # opening tag of any name. One backward pass keeps the whole scan linear.
    n = len(tags)
    next_close: list[int | None] = [None] * n
    next_same_open: list[int | None] = [None] * n
    next_open: list[int | None] = [None] * n
    seen_close: dict[str, int] = {}
    seen_open: dict[str, int] = {}
    any_open: int | None = None
    for i in range(n - 1, -1, -1):
        tag = tags[i]
        next_close[i] = seen_close.get(tag.name)
        next_same_open[i] = seen_open.get(tag.name)
        next_open[i] = any_open
        if tag.closing:
            seen_close[tag.name] = i
        else:
            seen_open[tag.name] = any_open = i

    def check_spelling(tag: _Tag) -> None:
        canonical = f"<{'/' if tag.closing else ''}{tag.name}>"
        if tag.raw != canonical:
            scan.note(tag.name, tag.start, f"tag written as {tag.raw!r}; read it as {canonical}")

    pos, i = 0, 0
    while i < n:
        tag = tags[i]
        check_spelling(tag)
        if tag.closing:
            scan.prose.append((pos, tag.start))
            scan.note(tag.name, tag.start, f"</{tag.name}> without an opening tag; ignored it")
            pos, i = tag.end, i + 1
            continue
        scan.prose.append((pos, tag.start))
        scan.trailing_from = len(scan.prose)
        end_index: int | None
        if tag.name == "model":
            strings = _StringSpans(text, tag.end)
            end_index = next(
                (j for j in range(i + 1, n) if not strings.inside(tags[j].start)), None
            )
            closed = end_index is not None and tags[end_index][:2] == ("model", True)
        else:
            close, same = next_close[i], next_same_open[i]
            closed = close is not None and (same is None or close < same)
            end_index = close if closed else next_open[i]
        if closed and end_index is not None:
            check_spelling(tags[end_index])
            scan.blocks.append(_Block(tag, tag.end, tags[end_index].start))
            pos, i = tags[end_index].end, end_index + 1
        elif end_index is not None:
            stop = tags[end_index]
            scan.note(tag.name, tag.start, f"<{tag.name}> never closed; ended it at {stop.raw}")
            scan.blocks.append(_Block(tag, tag.end, stop.start))
            pos, i = stop.start, end_index
        else:
            took = (
                "took the code to the end of the text"
                if tag.name == "model"
                else "took the rest of the text as its content"
            )
            scan.note(tag.name, tag.start, f"<{tag.name}> never closed; {took}")
            scan.blocks.append(_Block(tag, tag.end, len(text)))
            pos, i = len(text), n
    scan.prose.append((pos, len(text)))
    return scan


# --- block contents -------------------------------------------------------------------------


def _clean_code(scan: _Scan, block: _Block) -> str:
    content = scan.text[block.content_start : block.content_end]
    if not content.strip():
        return ""
    lines = content.split("\n")
    filled = [k for k, line in enumerate(lines) if line.strip()]
    # Opening and closing fence are checked apart: a cut-off or half-fenced block has only one.
    fences = {k for k in filled[:1] + filled[-1:] if _FENCE_RE.fullmatch(lines[k])}
    if fences:
        scan.note("model", block.tag.start, "code was wrapped in a markdown fence; removed it")
    for k in fences:
        lines[k] = ""
    return _dedent("\n".join(lines))


def _dedent(code: str) -> str:
    """Remove the common indentation, trim blank lines at the ends and trailing whitespace.

    Unlike textwrap.dedent, whitespace-only lines keep their spaces where the margin allows:
    they may sit inside a triple-quoted string, where they are data.
    """
    lines = code.split("\n")
    margins = [line[: len(line) - len(line.lstrip())] for line in lines if line.strip()]
    # Character-wise on purpose: the margin is a run of spaces and tabs, not a path.
    margin = os.path.commonprefix(margins) if margins else ""  # noqa: RUF071
    lines = [line[len(margin) :] if line.startswith(margin) else line for line in lines]
    while lines and not lines[0].strip():
        lines.pop(0)
    return "\n".join(lines).rstrip()


def _clean_output(content: str) -> str:
    content = content[1:] if content.startswith("\n") else content
    return content[:-1] if content.endswith("\n") else content


def _read_requirements(
    scan: _Scan, block: _Block, errors: list[FormatError]
) -> Iterator[tuple[int, Requirement]]:
    """Yield (offset, requirement) per item; malformed items go to `errors`, not raised."""
    start = block.content_start
    for m in _ITEM_RE.finditer(scan.text, start, block.content_end):
        item, offset = m.group(), m.start()
        lang, sep, module = (part.strip() for part in item.partition(":"))
        if not sep:
            lang, module = "python", item
            scan.note("requires", offset, f"bare {item!r} read as python:{item}")
        elif item != f"{lang}:{module}":
            scan.note("requires", offset, f"{item!r} read as {lang}:{module}")
        if not (_LANG_RE.fullmatch(lang) and _MODULE_RE.fullmatch(module)):
            line, col = scan.where(offset)
            errors.append(
                FormatError(
                    f"requirement {item!r} is not written language:module; "
                    "write e.g. python:math, separated by commas",
                    line=line,
                    column=col,
                )
            )
            continue
        if lang != lang.lower():
            scan.note("requires", offset, f"language {lang!r} read as {lang.lower()!r}")
        yield offset, Requirement(lang.lower(), module)


def _assemble(scan: _Scan) -> tuple[Response, list[FormatError]]:
    text = scan.text
    reasoning: list[str] = []
    code: list[str] = []
    requirements: dict[Requirement, None] = {}
    outputs: list[str] = []
    errors: list[FormatError] = []
    counts = dict.fromkeys(_TAG_NAMES, 0)
    latest = -1
    for block in scan.blocks:
        name, at = block.tag.name, block.tag.start
        counts[name] += 1
        if _ORDER[name] < latest:
            later = _TAG_NAMES[latest]
            scan.note(None, at, f"<{name}> came after <{later}>; read it in place")
        latest = max(latest, _ORDER[name])
        content = text[block.content_start : block.content_end]
        if counts[name] == 2 and name in ("think", "requires", "output"):
            how = "merged them" if name == "requires" else "joined them"
            scan.note(name, at, f"more than one <{name}> block; {how}")
        if name == "think":
            if content.strip():
                reasoning.append(content.strip())
            else:
                scan.note(name, at, "empty <think>; no reasoning")
        elif name == "model":
            cleaned = _clean_code(scan, block)
            if cleaned:
                code.append(cleaned)
            else:
                scan.note(name, at, "empty <model>; no code taken from it")
        elif name == "output":
            outputs.append(_clean_output(content))
        else:
            items = list(_read_requirements(scan, block, errors))
            if not items and not errors:
                scan.note(name, at, "empty <requires>; no requirements")
            for offset, req in items:
                if req in requirements:
                    scan.note(name, offset, f"duplicate requirement {req}; dropped it")
                requirements[req] = None

    segments = [(s, e) for s, e in scan.prose if text[s:e].strip()]
    trailing = "".join(text[s:e] for s, e in scan.prose[scan.trailing_from :]).strip()
    answer = trailing
    if not scan.blocks:
        answer = "".join(text[s:e] for s, e in scan.prose).strip()
        segments = []
    elif trailing:
        segments = [(s, e) for s, e in segments if s < scan.blocks[-1].content_end]
    elif segments:
        s, e = segments.pop()
        answer = text[s:e].strip()
        scan.note(None, s, "no answer after the tags; took the text before them as the answer")
    for s, _ in segments:
        scan.note(None, s, "text outside the tags is not part of the answer; ignored it")

    response = Response(
        reasoning="\n\n".join(reasoning),
        code=tuple(code),
        requirements=tuple(requirements),
        answer=answer,
        output="\n".join(outputs) if counts["output"] else None,
        warnings=scan.warnings(),
    )
    return response, errors


def _normalise_newlines(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n")


# --- public API -----------------------------------------------------------------------------


def parse(text: str) -> Response:
    """Parse a completion (the generated text only, never the prompt) into a Response.

    Repairs are listed in `Response.warnings`. Raises FormatError, with line and column, only
    for a `<requires>` item that is not `language:module`.
    """
    response, errors = _assemble(_scan(_normalise_newlines(text)))
    if errors:
        raise errors[0]
    return response


def render(response: Response) -> str:
    """Write the canonical text for `response`; `parse` reads it back to the same Response.

    Surrounding whitespace of reasoning, answer and code is trimmed and code is dedented.
    Raises FormatError when a field cannot be written faithfully (a tag inside the reasoning or
    answer, a fence around code, an empty code block, a malformed requirement).
    """
    r = dataclasses.replace(
        response,
        reasoning=_normalise_newlines(response.reasoning).strip(),
        code=tuple(_dedent(_normalise_newlines(c)) for c in response.code),
        answer=_normalise_newlines(response.answer).strip(),
        output=None if response.output is None else _normalise_newlines(response.output),
        warnings=(),
    )
    parts = []
    if r.reasoning:
        parts.append(f"<think>{r.reasoning}</think>\n")
    parts.extend(f"<model>\n{c}\n</model>\n" for c in r.code)
    if r.requirements:
        parts.append(f"<requires>{', '.join(str(q) for q in r.requirements)}</requires>\n")
    if r.output is not None:
        parts.append(f"<output>\n{r.output}\n</output>\n")
    text = "".join(parts)
    if r.answer:
        text = f"{text}\n{r.answer}" if parts else r.answer
    back = parse(text)
    # Prose fields first: a tag in them shifts everything after it, so they are the likelier cause.
    for name in ("reasoning", "answer", "output", "requirements", "code", "warnings"):
        if getattr(back, name) != getattr(r, name):
            why = back.warnings[0] if back.warnings else "does it contain a tag?"
            raise FormatError(
                f"cannot render this response faithfully: its {name} would read back as "
                f"{getattr(back, name)!r} ({why})"
            )
    return text


def structure_score(text: str) -> StructureScore:
    """Score which of <think>, <model>, <requires> are present and needed no repair."""
    scan = _scan(_normalise_newlines(text))
    _, errors = _assemble(scan)
    present = {b.tag.name for b in scan.blocks}
    repaired = {kind for kind, _, _ in scan.notes}
    ok = {name: name in present and name not in repaired for name in _TAG_NAMES}
    ok["requires"] = ok["requires"] and not errors
    think, model, requires = ok["think"], ok["model"], ok["requires"]
    return StructureScore(think, model, requires, score=int(think) + int(model) + int(requires))


def check_requirements(
    response: Response, allowed: Collection[str] = DEFAULT_ALLOWED_MODULES
) -> list[str]:
    """Problems with the response's requirements, each naming it and what to do; [] if fine."""
    problems = []
    for req in response.requirements:
        if req.language != "python":
            problems.append(
                f"{req}: the sandbox runs only Python; rewrite the code in Python "
                "or drop this requirement"
            )
        elif not _IDENT_PATH_RE.fullmatch(req.module):
            problems.append(f"{req}: {req.module!r} is not a valid Python module name; fix it")
        elif req.module not in allowed and req.module.split(".")[0] not in allowed:
            problems.append(
                f"{req}: module {req.module!r} is not available in the sandbox; "
                f"use one of {', '.join(sorted(allowed))} or remove the requirement"
            )
    return problems


# --- the code section and the <output> block --------------------------------------------------


def code_section_end(text: str) -> int:
    """Where the code section of `text` ends (just after its closing tag); -1 if it has none.

    After the first `</requires>` or after the first `</model>` that a blank line or the end of
    the text follows, whichever comes first (see the module docstring).
    """
    ends = []
    at = text.find(REQUIRES_END)
    if at >= 0:
        ends.append(at + len(REQUIRES_END))
    at = text.find(MODEL_END + "\n\n")
    if at >= 0:
        ends.append(at + len(MODEL_END))
    else:
        rest = text.rstrip()
        if rest.endswith(MODEL_END):
            ends.append(len(rest))
    return min(ends, default=-1)


def output_block(output: str) -> str:
    """The `<output>` block that shows what a program printed (trailing newlines dropped).

    An output longer than MAX_OUTPUT_CHARS keeps its first and last halves around a line that
    says how many characters were cut.
    """
    text = output.rstrip("\n")
    if len(text) > MAX_OUTPUT_CHARS:
        half = MAX_OUTPUT_CHARS // 2
        cut = len(text) - 2 * half
        text = f"{text[:half]}\n[... {cut} characters of output cut ...]\n{text[-half:]}"
    return f"<output>\n{text}\n</output>\n"


def insert_output(
    response: str, output: str, *, at: int | None = None
) -> tuple[str, tuple[int, int]]:
    """`response` with the `<output>` block of `output` inserted at the end of its code section,
    and the (start, end) span of the inserted text.

    The layout: the response up to `at` (default: `code_section_end`) without trailing
    whitespace, a newline, the block (`output_block`), a blank line, then the rest of the
    response without its leading newlines (the prose answer). Raises FormatError when the
    response has no code section end and no `at` is given.
    """
    if at is None:
        at = code_section_end(response)
        if at < 0:
            raise FormatError(
                f"the response has no end of its code section ({REQUIRES_END}, or {MODEL_END} "
                "and a blank line) to put an <output> block after"
            )
    head = response[:at].rstrip()
    block = "\n" + output_block(output) + "\n"
    tail = response[at:].lstrip("\n")
    return head + block + tail, (len(head), len(head) + len(block))
