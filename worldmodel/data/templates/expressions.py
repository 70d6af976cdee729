"""Family "word_problems", continued: bare arithmetic expressions ("What is 12 * 7?").

An expression of one to three operators (+ - * /, with parentheses where the shape needs
them) whose every division is exact, so the value is a whole number. The question writes it
in Python's symbols, with × and ÷, with "x", or in words for one operator ("12 times 7");
the code is the expression in Python, and the expected value comes from evaluating the tree
with `Fraction`, not from the code. An expression with "/" prints a float (Python's
true division), and its expected answer is written as one ("12.0").
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

from worldmodel.data.templates.base import Draft, Values, human, num, template

FAMILY = "word_problems"

PRECEDENCE = {"+": 1, "-": 1, "*": 2, "/": 2}
SYMBOLS = {"*": "×", "/": "÷"}
WORDS = {"+": "plus", "-": "minus", "*": "times", "/": "divided by"}


@dataclass(frozen=True)
class Node:
    """A number (op == "") or `left op right`."""

    op: str
    value: Fraction
    left: Node | None = None
    right: Node | None = None

    def render(self, style: str = "python", spaced: bool = True) -> str:
        if not self.op:
            return str(int(self.value))
        left = self.left.render(style, spaced)  # type: ignore[union-attr]
        right = self.right.render(style, spaced)  # type: ignore[union-attr]
        if self.left.op and PRECEDENCE[self.left.op] < PRECEDENCE[self.op]:  # type: ignore[union-attr]
            left = f"({left})"
        if self.right.op and PRECEDENCE[self.right.op] <= PRECEDENCE[self.op]:  # type: ignore[union-attr]
            right = f"({right})"
        op = self.op
        if style == "symbols":
            op = SYMBOLS.get(op, op)
        elif style == "x" and op == "*":
            op = "x"
        elif style == "words":
            op = WORDS[op]
        return f"{left} {op} {right}" if spaced or style == "words" else f"{left}{op}{right}"

    def operations(self) -> list[Node]:
        """The operator nodes in the order they are evaluated."""
        if not self.op:
            return []
        return [*self.left.operations(), *self.right.operations(), self]  # type: ignore[union-attr]


def leaf(value: int) -> Node:
    return Node("", Fraction(value))


def combine(op: str, left: Node, right: Node) -> Node:
    a, b = left.value, right.value
    value = {"+": a + b, "-": a - b, "*": a * b, "/": a / b if b else None}[op]
    if value is None or value.denominator != 1:
        raise ValueError(f"{op} would not give a whole number")
    return Node(op, value, left, right)


def _binary(v: Values, op: str, key: bool) -> Node:
    """`a op b` with a whole result."""
    if op == "/":
        divisor = v.int(2, 25)
        dividend = v.choice(range(divisor * 2, divisor * 80 + 1, divisor), key=key)
        return combine("/", leaf(dividend), leaf(divisor))
    left = leaf(v.int(2, 999 if op in "+-" else 99, key=key))
    right = leaf(v.int(2, 999 if op in "+-" else 30))
    if op == "-" and right.value > left.value and v.rng.random() < 0.8:
        left, right = right, left
    return combine(op, left, right)


def _extend(v: Values, node: Node, op: str, on_left: bool) -> Node:
    """`node op x` (or `x op node`), choosing x so the result stays whole."""
    if op == "/":
        if on_left:
            divisors = [d for d in range(2, 26) if node.value % d == 0 and node.value]
            if not divisors:
                raise ValueError("no divisor")
            return combine("/", node, leaf(v.choice(divisors)))
        if not 2 <= node.value <= 50:
            raise ValueError("divisor out of range")
        return combine("/", leaf(int(node.value) * v.int(2, 20)), node)
    x = leaf(v.int(2, 30 if op == "*" else 500))
    return combine(op, node, x) if on_left else combine(op, x, node)


def expression(v: Values) -> Node:
    """One to three operators; every division exact."""
    shape = v.rng.random()
    first = v.rng.choice("+-*/")
    node = _binary(v, first, key=True)
    extra = 0 if shape < 0.45 else 1 if shape < 0.85 else 2
    for _ in range(extra):
        for _attempt in range(20):
            op = v.rng.choice("+-*/")
            try:
                node = _extend(v, node, op, on_left=v.rng.random() < 0.6)
                break
            except ValueError:
                continue
    return node


def reasoning(node: Node, style: str) -> str:
    steps = node.operations()
    shown = {"+": "+", "-": "-", "*": "×", "/": "/"}
    parts = [
        f"{int(s.left.value)} {shown[s.op]} {int(s.right.value)} = {int(s.value)}"  # type: ignore[union-attr]
        for s in steps
    ]
    if len(parts) == 1:
        return f"{parts[0]}."
    text = node.render("python")
    lead = "Brackets first" if "(" in text else "Multiplication and division before + and -"
    if "(" not in text and all(PRECEDENCE[s.op] == PRECEDENCE[steps[0].op] for s in steps):
        lead = "Left to right"
    return f"{lead}: {'; then '.join(parts)}."


@template(
    "expression",
    FAMILY,
    (
        "What is {expr}?",
        "Compute {expr}.",
        "{expr} = ?",
        "what's {expr}",
        "Calculate {expr}.",
        "Evaluate {expr}.",
        "How much is {expr}?",
        "Work out {expr}.",
        "{expr}",
        "Quick math: {expr}",
        "What does {expr} equal?",
        "solve {expr}",
        "Simplify {expr} to a single number.",
        "Can you compute {expr} for me?",
        "Tell me the result of {expr}.",
        "{expr} equals what?",
        "I need the answer to {expr}, please.",
    ),
)
def bare_expression(v: Values) -> Draft:
    node = expression(v)
    python = node.render("python")
    pick = v.rng.random()
    ops = len(node.operations())
    if pick < 0.55:
        style, spaced = "python", v.rng.random() < 0.8
    elif pick < 0.75:
        style, spaced = "symbols", True
    elif pick < 0.85 and "*" in python:
        style, spaced = "x", True
    elif ops == 1:
        style, spaced = "words", True
    else:
        style, spaced = "python", True
    shown = node.render(style, spaced)
    code_text = node.render("python", spaced) if style == "python" else python
    divides = "/" in python
    value = float(node.value) if divides else int(node.value)
    return Draft(
        slots={"expr": shown},
        reasoning=reasoning(node, style),
        code=f"result = {code_text}\nprint(result)\n",
        requires=(),
        answer=f"{shown} is {human(value)}.",
        expected=num(value, 1),
        meta={"kind": "expression", "steps": ops, "expression": python},
    )
