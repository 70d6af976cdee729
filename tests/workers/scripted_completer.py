"""A scripted completer for the job-system tests: the one seam that is faked.

A random-weight test model cannot write the response format, so generation workers in these
tests load this completer (worker setting `completer = scripted_completer:factory`). It answers
"What is A <op> B?" with a well-formed response whose code computes the value; everything
around it (Redis, Celery workers, the process sandbox, parsing, verification) is real.

Side channel: when `WM_TEST_LOG` names a file, every call appends one JSON line when it starts
and one when it finishes (pid, batch size, questions), so tests can count generations and see
batch sizes. `WM_TEST_DELAY_S` makes each call take that long (a slow "GPU").

Voting: a greedy call (no temperature) answers a question that contains "(greedy is wrong)"
with code that prints one too many; a sampled call always computes the right value.

A call whose questions include one that contains "(rejected)" raises for the whole call, as a
tokenizer that rejects one prompt of a batch does.
"""

from __future__ import annotations

import json
import os
import re
import time
from typing import Any

_QUESTION = re.compile(r"What is (-?\d+) ([-+*]) (-?\d+)(?:, slowly)?\?")


def factory(settings: Any) -> ScriptedCompleter:
    _log("factory", [])
    return ScriptedCompleter()


def response_for(question: str, *, sampled: bool = False) -> tuple[str, str]:
    """(code, value) for a question of the form "What is A op B?"."""
    match = _QUESTION.search(question)
    if not match:
        return "print('no idea')", "no idea"
    a, op, b = int(match.group(1)), match.group(2), int(match.group(3))
    value = {"+": a + b, "-": a - b, "*": a * b}[op]
    if "(greedy is wrong)" in question and not sampled:
        return f"print({a} {op} {b} + 1)", str(value + 1)
    # "slowly" makes the sandbox step take a while, so a test can kill a sandbox worker mid-job.
    pause = "import time; time.sleep(1.5)\n" if "slowly" in question else ""
    return f"{pause}print({a} {op} {b})", str(value)


class ScriptedCompleter:
    def complete(
        self,
        questions: list[str],
        prefixes: list[str] | None = None,
        *,
        stop_at: str = "end",
        temperature: float | None = None,
    ) -> list[str]:
        _log("start", questions, temperature)
        rejected = [q for q in questions if "(rejected)" in q]
        if rejected:
            raise ValueError(f"the tokenizer rejects the prompt of {rejected[0]!r}")
        delay = float(os.environ.get("WM_TEST_DELAY_S", "0"))
        if delay:
            time.sleep(delay)
        texts = []
        for index, question in enumerate(questions):
            code, value = response_for(question, sampled=bool(temperature))
            prefix = prefixes[index] if prefixes else ""
            head = (
                f"<think>Compute it.</think>\n<model>\n{code}\n</model>\n"
                "<requires>python:builtins</requires>"
            )
            if prefix:
                seen = re.search(r"<output>\n(.*?)\n</output>", prefix, re.S)
                texts.append(f"The answer is {seen.group(1) if seen else '?'}.")
            elif stop_at == "requires":
                texts.append(head)
            else:
                texts.append(f"{head}\n\nThe answer is {value}.")
        _log("done", questions, temperature)
        return texts


def _log(event: str, questions: list[str], temperature: float | None = None) -> None:
    path = os.environ.get("WM_TEST_LOG")
    if not path:
        return
    line = json.dumps(
        {
            "event": event,
            "pid": os.getpid(),
            "batch": len(questions),
            "questions": questions,
            "temperature": temperature,
            "t": time.time(),
        }
    )
    with open(path, "a", encoding="utf-8") as handle:
        handle.write(line + "\n")
