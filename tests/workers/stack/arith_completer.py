"""A tiny arithmetic completer for the stack tests: the model seam, and the only fake here.

The bundled model on a shared CPU takes minutes per answer and downloads ~100 MB on first use,
which no bounded test can afford. Generation workers started by `wm stack up` in these tests
load this completer instead (`WM_COMPLETER=arith_completer:factory`, with this folder on
PYTHONPATH). It answers "What is A * B?" with a well-formed response whose code computes the
product; Redis, Flower, the Celery workers, the process sandbox, parsing and verification
around it are all real.
"""

from __future__ import annotations

import re
from typing import Any

_QUESTION = re.compile(r"What is (-?\d+) \* (-?\d+)\?")


def factory(settings: Any) -> ArithCompleter:
    return ArithCompleter()


class ArithCompleter:
    def complete(
        self, questions: list[str], prefixes: list[str] | None = None, *, stop_at: str = "end"
    ) -> list[str]:
        texts = []
        for question in questions:
            match = _QUESTION.search(question)
            a, b = (int(match.group(1)), int(match.group(2))) if match else (0, 0)
            head = (
                f"<think>Multiply.</think>\n<model>\nprint({a} * {b})\n</model>\n"
                "<requires>python:math</requires>"
            )
            texts.append(head if stop_at == "requires" else f"{head}\n\nThe answer is {a * b}.")
        return texts
