"""One question, end to end: generate -> parse -> execute -> verify -> answer.

The pipeline is plain function calls on JSON-serialisable values, so the same values can travel
through the job queues unchanged:

- a `Completer` (the model, or a fixed response for demos and tests) produces text;
- `worldmodel.format.parse` turns the *generated text only* into a `Response` (the prompt is
  never parsed, so tags a user types in a question are never executed);
- an executor from `sandbox` runs each ``<model>`` block;
- `worldmodel.verify.verify_claim` compares the prose answer with the executed output;
- the `Answer` carries all of it. Its final value is always the executed output; the model's
  claim is shown beside it.

Two modes:

- ``plain``: the model writes the whole response, prose answer included, before any code runs.
- ``after-execution``: generation stops after ``</requires>``, the code runs, its output is
  inserted as an ``<output>`` block, and the model writes the prose answer having seen it.

This module does not load models or start sandboxes; callers pass them in.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from sandbox.executor import ExecutionResult, Executor, Limits
from worldmodel.errors import FormatError
from worldmodel.format import DEFAULT_ALLOWED_MODULES, Response, check_requirements, parse
from worldmodel.verify import Verification, executed_value, verify_claim

log = logging.getLogger(__name__)

Mode = Literal["plain", "after-execution"]
MODES: tuple[Mode, ...] = ("plain", "after-execution")


class Completer(Protocol):
    """Anything that turns questions into generated text (see `worldmodel.generate`)."""

    def complete(
        self, questions: list[str], prefixes: list[str] | None = None, *, stop_at: str = "end"
    ) -> list[str]:
        """Return only the newly generated text for each question (never the prompt)."""
        ...


class FixedCompleter:
    """A completer that returns given response texts: for demos, tests and replays.

    It can only serve the plain mode, since it cannot write a prose answer after seeing output.
    """

    def __init__(self, texts: Sequence[str]):
        self._texts = list(texts)

    def complete(
        self, questions: list[str], prefixes: list[str] | None = None, *, stop_at: str = "end"
    ) -> list[str]:
        if stop_at != "end" or prefixes:
            raise ValueError("a fixed response can only be used in plain mode")
        if len(questions) != len(self._texts):
            raise ValueError(f"{len(questions)} questions but {len(self._texts)} fixed responses")
        return list(self._texts)


@dataclass
class Answer:
    """Everything about one answered question. JSON-serialisable via `to_dict`."""

    question: str
    generated: str
    """The text the model generated (prompt excluded), as parsed."""
    response: Response | None
    executions: list[ExecutionResult]
    verification: Verification
    final: str | None
    """The executed value (last printed line of the last block), or None if nothing ran."""
    claim: str
    """The model's own prose answer, shown beside the final value."""
    mode: Mode
    backend: str | None
    problems: list[str] = field(default_factory=list)
    """What went wrong on the way: format errors, unknown requirements, failed executions."""
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.verification.status == "verified"

    def to_dict(self) -> dict[str, Any]:
        return {
            "question": self.question,
            "generated": self.generated,
            "response": self.response.to_dict() if self.response else None,
            "executions": [result.to_dict() for result in self.executions],
            "verification": self.verification.to_dict(),
            "final": self.final,
            "claim": self.claim,
            "mode": self.mode,
            "backend": self.backend,
            "problems": list(self.problems),
            "timings": dict(self.timings),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Answer:
        response = data.get("response")
        return cls(
            question=data["question"],
            generated=data["generated"],
            response=Response.from_dict(response) if response else None,
            executions=[ExecutionResult.from_dict(item) for item in data["executions"]],
            verification=Verification.from_dict(data["verification"]),
            final=data.get("final"),
            claim=data.get("claim", ""),
            mode=data["mode"],
            backend=data.get("backend"),
            problems=list(data.get("problems", [])),
            timings=dict(data.get("timings", {})),
        )


def output_block(executions: Sequence[ExecutionResult]) -> str:
    """The ``<output>`` block inserted in after-execution mode (what the model then reads)."""
    parts = []
    for result in executions:
        text = result.stdout.rstrip("\n")
        if not result.ok:
            reason = "timed out" if result.timed_out else f"exit code {result.exit_code}"
            tail = result.stderr.strip().splitlines()[-1:] if result.stderr.strip() else []
            text = "\n".join([text, f"error: {reason}", *tail]).strip("\n")
        parts.append(text)
    return "<output>\n" + "\n".join(parts) + "\n</output>\n"


class Pipeline:
    """Answers questions with a completer and an executor (both owned by the caller)."""

    def __init__(
        self,
        completer: Completer,
        executor: Executor,
        *,
        mode: Mode = "plain",
        limits: Limits | None = None,
        allowed_modules: frozenset[str] = DEFAULT_ALLOWED_MODULES,
    ):
        if mode not in MODES:
            raise ValueError(f"unknown mode {mode!r}; choose one of {', '.join(MODES)}")
        self.completer = completer
        self.executor = executor
        self.mode = mode
        self.limits = limits
        self.allowed_modules = allowed_modules

    def answer(self, question: str) -> Answer:
        return self.answer_many([question])[0]

    def answer_many(self, questions: Sequence[str]) -> list[Answer]:
        """Answer several questions; generation is batched, execution runs block by block."""
        questions = list(questions)
        started = time.perf_counter()
        stop_at = "requires" if self.mode == "after-execution" else "end"
        first = self.completer.complete(questions, stop_at=stop_at)
        generate_s = time.perf_counter() - started
        answers = [
            self._execute_and_verify(question, text, generate_s / max(len(questions), 1))
            for question, text in zip(questions, first, strict=True)
        ]
        if self.mode == "after-execution":
            answers = self._finish_after_execution(answers)
        for item in answers:
            item.timings["total_s"] = round(
                item.timings.get("generate_s", 0.0) + item.timings.get("execute_s", 0.0), 4
            )
        return answers

    def _execute_and_verify(self, question: str, generated: str, generate_s: float) -> Answer:
        problems: list[str] = []
        response: Response | None
        try:
            response = parse(generated)
        except FormatError as exc:
            response = None
            problems.append(f"the model's response could not be parsed: {exc}")
        executions: list[ExecutionResult] = []
        execute_started = time.perf_counter()
        if response is not None:
            problems.extend(response.warnings)
            problems.extend(check_requirements(response, self.allowed_modules))
            if not response.code:
                problems.append("the response has no <model> code block to run")
            for index, code in enumerate(response.code, start=1):
                result = self.executor.run(code, limits=self.limits)
                executions.append(result)
                if not result.ok:
                    problems.append(f"code block {index} failed: {_describe_failure(result)}")
        execute_s = time.perf_counter() - execute_started
        return self._compose(
            question,
            generated,
            response,
            executions,
            problems,
            {"generate_s": round(generate_s, 4), "execute_s": round(execute_s, 4)},
        )

    def _compose(
        self,
        question: str,
        generated: str,
        response: Response | None,
        executions: list[ExecutionResult],
        problems: list[str],
        timings: dict[str, float],
    ) -> Answer:
        last = executions[-1] if executions else None
        ran_ok = last is not None and last.ok
        final = executed_value(last.stdout) if ran_ok and last is not None else None
        claim = response.answer if response else ""
        verification = verify_claim(claim, last.stdout if last else None, execution_ok=ran_ok)
        backend = last.backend if last else getattr(self.executor, "name", None)
        return Answer(
            question=question,
            generated=generated,
            response=response,
            executions=executions,
            verification=verification,
            final=final,
            claim=claim,
            mode=self.mode,
            backend=backend,
            problems=problems,
            timings=timings,
        )

    def _finish_after_execution(self, answers: list[Answer]) -> list[Answer]:
        """Second pass: insert each output block and let the model write its prose answer."""
        pending = [item for item in answers if item.response is not None and item.executions]
        if not pending:
            return answers
        prefixes = [_prefix_for(item) for item in pending]
        started = time.perf_counter()
        tails = self.completer.complete(
            [item.question for item in pending], prefixes, stop_at="end"
        )
        share = (time.perf_counter() - started) / len(pending)
        finished: dict[int, Answer] = {}
        for item, prefix, tail in zip(pending, prefixes, tails, strict=True):
            generated = prefix + tail
            problems = [p for p in item.problems if not p.startswith("the model's response")]
            try:
                response = parse(generated)
            except FormatError as exc:
                response = item.response
                problems.append(f"the model's prose answer could not be parsed: {exc}")
            timings = dict(item.timings)
            timings["generate_s"] = round(timings.get("generate_s", 0.0) + share, 4)
            finished[id(item)] = self._compose(
                item.question, generated, response, item.executions, problems, timings
            )
        return [finished.get(id(item), item) for item in answers]


def _prefix_for(item: Answer) -> str:
    text = item.generated
    end = text.find("</requires>")
    if end >= 0:
        text = text[: end + len("</requires>")]
    return text.rstrip() + "\n" + output_block(item.executions) + "\n"


def _describe_failure(result: ExecutionResult) -> str:
    if result.timed_out:
        return "timed out"
    if result.memory_exceeded:
        return "ran out of memory"
    last_line = result.stderr.strip().splitlines()[-1:] if result.stderr.strip() else []
    detail = f" ({last_line[0]})" if last_line else ""
    return f"exit code {result.exit_code}{detail}"
