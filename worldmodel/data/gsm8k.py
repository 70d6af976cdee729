"""The GSM8K importer: turn a solution's calculator annotations into a short Python program.

A GSM8K solution marks each calculation as `<<48/2=24>>`. For every annotation this module
parses the expression (numbers and + - * / // % ** only, via `ast`), evaluates it exactly with
`Fraction`, checks it against the stated result, and emits one assignment with a name taken
from the words around it (`clips_in_may = 48 / 2`). A number equal to an earlier result is
replaced by that result's variable, so the program reads as a chain. The program prints the
last result equal to the gold answer after `####` (integers without ".0").

The expected answer is the gold answer itself, so verification compares the program's output
with GSM8K's own answer. Lines that cannot be converted are rejected with a reason. The
importer reads `data/sources/gsm8k/train.jsonl` (MIT, see LICENSE.txt there); it does not run
code.
"""

from __future__ import annotations

import ast
import builtins
import json
import keyword
import re
from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

from worldmodel.data.record import Example
from worldmodel.data.splits import gsm8k_split
from worldmodel.loops import guard_cut

SOURCE = Path("data/sources/gsm8k/train.jsonl")
_ANNOTATION = re.compile(r"<<([^<>=]*)=([^<>]*)>>")
_WORD = re.compile(r"[A-Za-z]+")
_STOP = {
    "a",
    "an",
    "the",
    "and",
    "of",
    "to",
    "so",
    "is",
    "for",
    "in",
    "on",
    "at",
    "by",
    "it",
    "he",
    "she",
    "they",
    "his",
    "her",
    "their",
    "this",
    "that",
    "which",
    "then",
    "there",
    "was",
    "are",
    "were",
    "be",
    "will",
    "has",
    "have",
    "had",
    "with",
    "each",
    "we",
    "you",
    "i",
    "if",
    "as",
    "or",
    "than",
    "from",
    "x",
    "per",
}
_VISIBLE_CALC = re.compile(r"\$?[\d.,]+\s*%?(?:\s*[-+*/x×]\s*\$?\(?[\d.,]+\)?\s*%?)+\s*=\s*")


class ConversionError(Exception):
    """A GSM8K line that cannot become a program; the message is the rejection reason."""


@dataclass(frozen=True)
class Step:
    name: str
    source: str
    """The expression as Python, with earlier results replaced by their names."""
    value: Fraction
    is_float: bool


def _number(text: str) -> Fraction:
    cleaned = text.replace(",", "").replace("$", "").strip()
    try:
        return Fraction(cleaned)
    except (ValueError, ZeroDivisionError) as exc:
        raise ConversionError(f"not a number: {text!r}") from exc


def _evaluate(node: ast.AST) -> tuple[Fraction, bool]:
    """Exact value of an arithmetic expression and whether Python would make it a float."""
    if isinstance(node, ast.Expression):
        return _evaluate(node.body)
    if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)):
        return Fraction(str(node.value)), isinstance(node.value, float)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        value, is_float = _evaluate(node.operand)
        return (-value if isinstance(node.op, ast.USub) else value), is_float
    if isinstance(node, ast.BinOp):
        left, lf = _evaluate(node.left)
        right, rf = _evaluate(node.right)
        try:
            if isinstance(node.op, ast.Add):
                return left + right, lf or rf
            if isinstance(node.op, ast.Sub):
                return left - right, lf or rf
            if isinstance(node.op, ast.Mult):
                return left * right, lf or rf
            if isinstance(node.op, ast.Div):
                return left / right, True
            if isinstance(node.op, ast.FloorDiv):
                return Fraction(left // right), lf or rf
            if isinstance(node.op, ast.Mod):
                return left % right, lf or rf
            if isinstance(node.op, ast.Pow) and right.denominator == 1 and abs(right) <= 64:
                return left ** int(right), lf or rf or right < 0
        except ZeroDivisionError as exc:
            raise ConversionError("division by zero in an annotation") from exc
    raise ConversionError(f"unsupported expression element {type(node).__name__}")


def _name_from(words: list[str]) -> str:
    while words and words[0].lower() in _STOP:
        words = words[1:]
    while words and words[-1].lower() in _STOP:
        words = words[:-1]
    return "_".join(w.lower() for w in words[:3])


def derive_name(line: str, start: int, end: int) -> str:
    """A variable name from the words after the annotation's result, else before it."""
    after = re.sub(r"^\s*\$?[\d,]*\.?\d*\s*%?", "", line[end:])
    after = re.split(r"[.,;:!?=()\d\n]", after, maxsplit=1)[0]
    name = _name_from(_WORD.findall(after)[:4])
    if not name:
        # Drop the visible calculation ("20,000 * .8 = $") and keep the last clause's words.
        before = re.sub(r"[\d\s.,$+\-*/×()%=]*$", "", line[:start])
        clauses = [c for c in re.split(r"[.,;:!?](?:\s|$)|\n", before) if c.strip()]
        words = _WORD.findall(clauses[-1]) if clauses else []
        kept = [w.lower() for w in words if len(w) > 1 and w.lower() not in _STOP]
        name = "_".join(kept[-3:])
    return name[:32].rstrip("_")


def _unique(name: str, used: set[str], index: int) -> str:
    if not name or not name.isidentifier() or keyword.iskeyword(name):
        name = f"step_{index}"
    if hasattr(builtins, name):
        name = f"{name}_value"
    candidate, n = name, 2
    while candidate in used:
        candidate, n = f"{name}_{n}", n + 1
    used.add(candidate)
    return candidate


class _Rename(ast.NodeTransformer):
    def __init__(self, steps: list[Step]) -> None:
        self.steps = steps

    def visit_Constant(self, node: ast.Constant) -> ast.AST:
        if isinstance(node.value, (int, float)) and not isinstance(node.value, bool):
            value = Fraction(str(node.value))
            for step in reversed(self.steps):
                if step.value == value:
                    return ast.copy_location(ast.Name(step.name, ast.Load()), node)
        return node


def convert_steps(solution: str) -> list[Step]:
    """One Step per calculator annotation in `solution` (the part before '####')."""
    steps: list[Step] = []
    used: set[str] = set()
    for line in solution.splitlines():
        for match in _ANNOTATION.finditer(line):
            raw, stated = match.group(1), match.group(2)
            expr = raw.replace(",", "").replace("$", "").replace("x", "*").replace("^", "**")
            try:
                tree = ast.parse(expr.strip(), mode="eval")
            except SyntaxError as exc:
                raise ConversionError(f"annotation {raw!r} is not arithmetic") from exc
            value, is_float = _evaluate(tree)
            if value != _number(stated):
                raise ConversionError(f"annotation {raw}={stated} is wrong (it is {float(value)})")
            is_float = is_float or any(
                s.is_float for s in steps if re.search(rf"\b{s.name}\b", expr)
            )
            renamed = _Rename(steps).visit(tree)
            uses = {n.id for n in ast.walk(renamed) if isinstance(n, ast.Name)}
            is_float = is_float or any(s.is_float for s in steps if s.name in uses)
            name = _unique(derive_name(line, match.start(), match.end()), used, len(steps) + 1)
            steps.append(Step(name, ast.unparse(renamed), value, is_float))
    if not steps:
        raise ConversionError("no calculator annotations")
    return steps


def _answer_sentence(solution: str, gold: str) -> str:
    last = _ANNOTATION.sub("", solution.strip().splitlines()[-1]).strip()
    sentence = _VISIBLE_CALC.sub("", last).strip()
    golds = {gold, f"{int(gold):,}" if re.fullmatch(r"-?\d+", gold) else gold}
    if "=" not in sentence and 10 < len(sentence) < 200 and any(g in sentence for g in golds):
        return sentence if sentence.endswith((".", "!")) else sentence.rstrip(" ,;:") + "."
    return f"The answer is {gold}."


def convert(question: str, solution_text: str, line_number: int) -> Example:
    """The example for one GSM8K line; raises ConversionError with the reason it cannot be."""
    solution, sep, gold_raw = solution_text.partition("####")
    if not sep:
        raise ConversionError("no '####' gold answer")
    gold = gold_raw.strip().replace(",", "")
    gold_value = _number(gold)
    steps = convert_steps(solution)
    final_index = max((i for i, s in enumerate(steps) if s.value == gold_value), default=None)
    if final_index is None:
        raise ConversionError("no annotation computes the gold answer")
    steps = steps[: final_index + 1]
    final = steps[-1]
    if re.fullmatch(r"-?[\d.]+", final.source):
        # e.g. <<36=36>>: the program would print a number it never computed.
        raise ConversionError("the gold answer is only restated, never calculated")
    if gold_value.denominator == 1:
        show = f"round({final.name})" if final.is_float else final.name
    else:
        digits = len(gold.split(".")[1]) if "." in gold else 2
        show = f"round({final.name}, {digits})"
    program = "\n".join(f"{s.name} = {s.source}" for s in steps) + f"\nprint({show})\n"
    reasoning = " ".join(
        _ANNOTATION.sub("", line).strip() for line in solution.splitlines() if line.strip()
    )
    unit = guard_cut(f"<think>{reasoning}</think>")
    if unit is not None:
        raise ConversionError(f"the loop guard would cut the reasoning at {unit!r}")
    example_id = f"gsm8k-train-{line_number:05d}"
    return Example(
        id=example_id,
        family="gsm8k",
        template="gsm8k",
        phrasing=0,
        source="gsm8k",
        question=question.strip(),
        reasoning=reasoning,
        code=program,
        requires=(),
        answer=_answer_sentence(solution, gold),
        expected=gold,
        check="number",
        split=gsm8k_split(example_id),
        meta={"gsm8k_line": line_number, "steps": len(steps)},
    )


def load(path: Path = SOURCE) -> Iterator[tuple[int, Example | None, str | None]]:
    """Yield (line number, example or None, rejection reason or None) for every line."""
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            try:
                row = json.loads(line)
                yield number, convert(row["question"], row["answer"], number), None
            except ConversionError as exc:
                yield number, None, str(exc)
            except (json.JSONDecodeError, KeyError, TypeError) as exc:
                yield number, None, f"malformed source line: {exc}"


def reason_category(reason: str) -> str:
    """A short label grouping similar rejection reasons for the summary."""
    for label in (
        "no calculator annotations",
        "no annotation computes the gold answer",
        "is wrong",
        "not arithmetic",
        "unsupported expression",
        "not a number",
        "division by zero",
        "malformed source",
        "no '####'",
        "loop guard",
    ):
        if label in reason:
            return label
    return reason
