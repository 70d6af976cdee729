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

Voting (``samples`` > 1, self-consistency over executed results): besides the greedy response,
the model samples ``samples - 1`` more at ``temperature``; each candidate's code runs, and the
answer is the candidate whose executed value most candidates share (ties go to the earliest,
so the greedy one first). A candidate whose code failed has no vote; if none ran, the greedy
candidate is the answer. `Answer.vote` says how many agreed. In after-execution mode only the
chosen candidate goes on to write its prose answer.

Two modes:

- ``plain``: the model writes the whole response, prose answer included, before any code runs.
- ``after-execution``: generation stops where the code section ends (after ``</requires>``; the
  one rule is `worldmodel.format.code_section_end`, which training follows too), the code runs,
  its output is inserted there as an ``<output>`` block, and the model writes the prose answer
  having seen it.

This module does not load models or start sandboxes; callers pass them in.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from sandbox.executor import ExecutionResult, Executor, Limits
from worldmodel.errors import FormatError
from worldmodel.format import (
    DEFAULT_ALLOWED_MODULES,
    MODES,
    Mode,
    Response,
    check_question,
    check_requirements,
    code_section_end,
    insert_output,
    parse,
)
from worldmodel.verify import Verification, executed_value, verify_claim

log = logging.getLogger(__name__)

DEFAULT_VOTE_TEMPERATURE = 0.7
"""Sampling temperature of the extra candidates when voting (``samples`` > 1)."""
MAX_SAMPLES = 16
"""Most candidates one question may ask for (each one's code runs in the sandbox)."""


def voting_problem(samples: int, temperature: float) -> str | None:
    """Why these voting settings cannot be used, or None."""
    if not 1 <= samples <= MAX_SAMPLES:
        return f"samples must be 1 to {MAX_SAMPLES} (1 = the greedy answer alone), not {samples}"
    if samples > 1 and not temperature > 0:
        return f"voting samples its candidates at a temperature > 0, not {temperature}"
    return None


class Completer(Protocol):
    """Anything that turns questions into generated text (see `worldmodel.generate`)."""

    def complete(
        self,
        questions: list[str],
        prefixes: list[str] | None = None,
        *,
        stop_at: str = "end",
        temperature: float | None = None,
    ) -> list[str]:
        """Return only the newly generated text for each question (never the prompt).

        For voting the pipeline also passes ``temperature=T`` (T > 0: sample); None keeps the
        completer's own setting. A completer that cannot sample raises on T > 0 (it is only
        ever called without it outside voting).
        """
        ...


class FixedCompleter:
    """A completer that returns given response texts: for demos, tests and replays.

    It can only serve the plain mode, since it cannot write a prose answer after seeing output.
    """

    def __init__(self, texts: Sequence[str]):
        self._texts = list(texts)

    def complete(
        self,
        questions: list[str],
        prefixes: list[str] | None = None,
        *,
        stop_at: str = "end",
        temperature: float | None = None,
    ) -> list[str]:
        if stop_at != "end" or prefixes:
            raise ValueError("a fixed response can only be used in plain mode")
        if temperature:
            raise ValueError("a fixed response cannot be sampled (voting needs a model)")
        if len(questions) != len(self._texts):
            raise ValueError(f"{len(questions)} questions but {len(self._texts)} fixed responses")
        return list(self._texts)


@dataclass
class Vote:
    """How the candidates of a voted answer agreed (see the module docstring)."""

    samples: int
    """Candidates generated: the greedy one plus the sampled ones."""
    ran: int
    """Candidates whose code ran and printed a value (each is one vote)."""
    agreeing: int
    """Votes for the chosen value (0 when no candidate ran)."""
    chosen: int
    """Index of the chosen candidate; 0 is the greedy one."""
    tally: list[tuple[str, int]]
    """Each executed value with its votes, most votes first."""

    def to_dict(self) -> dict[str, Any]:
        return {
            "samples": self.samples,
            "ran": self.ran,
            "agreeing": self.agreeing,
            "chosen": self.chosen,
            "tally": [[value, count] for value, count in self.tally],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Vote:
        return cls(
            samples=int(data["samples"]),
            ran=int(data["ran"]),
            agreeing=int(data["agreeing"]),
            chosen=int(data["chosen"]),
            tally=[(str(value), int(count)) for value, count in data["tally"]],
        )


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
    vote: Vote | None = None
    """How the candidates agreed, when the answer was voted on (``samples`` > 1)."""

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
            "vote": self.vote.to_dict() if self.vote else None,
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
            vote=Vote.from_dict(data["vote"]) if data.get("vote") else None,
        )


def execution_output(executions: Sequence[ExecutionResult]) -> str:
    """What the blocks printed, in order, for the ``<output>`` block of after-execution mode
    (what the model then reads): each block's stdout, and for a failed one a line saying why,
    then the last line of its error."""
    parts = []
    for result in executions:
        text = result.stdout.rstrip("\n")
        if not result.ok:
            tail = [result.last_error_line] if result.last_error_line else []
            text = "\n".join([text, f"error: {result.reason}", *tail]).strip("\n")
        parts.append(text)
    return "\n".join(parts)


def parse_generated(
    generated: str, allowed_modules: frozenset[str] = DEFAULT_ALLOWED_MODULES
) -> tuple[Response | None, list[str]]:
    """Parse generated text (never the prompt); return the response and the problems found."""
    try:
        response = parse(generated)
    except FormatError as exc:
        return None, [f"the model's response could not be parsed: {exc}"]
    problems = list(response.warnings)
    problems.extend(check_requirements(response, allowed_modules))
    if not response.code:
        problems.append("the response has no <model> code block to run")
    return response, problems


def run_blocks(
    response: Response | None, executor: Executor, limits: Limits | None = None
) -> tuple[list[ExecutionResult], list[str]]:
    """Run each code block of `response` in its own execution; return results and problems."""
    executions: list[ExecutionResult] = []
    problems: list[str] = []
    for index, code in enumerate(response.code if response else (), start=1):
        result = executor.run(code, limits=limits)
        executions.append(result)
        if not result.ok:
            problems.append(f"code block {index} failed: {result.describe_failure()}")
    return executions, problems


def compose_answer(
    question: str,
    generated: str,
    response: Response | None,
    executions: list[ExecutionResult],
    *,
    mode: Mode,
    problems: list[str],
    timings: dict[str, float],
    backend: str | None = None,
    vote: Vote | None = None,
) -> Answer:
    """Verify the claim against the last execution and build the `Answer`."""
    last = executions[-1] if executions else None
    ran_ok = last is not None and last.ok
    final = executed_value(last.stdout) if ran_ok and last is not None else None
    claim = response.answer if response else ""
    verification = verify_claim(claim, last.stdout if last else None, execution_ok=ran_ok)
    timings = dict(timings)
    timings["total_s"] = round(timings.get("generate_s", 0.0) + timings.get("execute_s", 0.0), 4)
    return Answer(
        question=question,
        generated=generated,
        response=response,
        executions=executions,
        verification=verification,
        final=final,
        claim=claim,
        mode=mode,
        backend=last.backend if last else backend,
        problems=problems,
        timings=timings,
        vote=vote,
    )


def after_execution_prefix(generated: str, executions: Sequence[ExecutionResult]) -> str:
    """The assistant-side text the model continues from in after-execution mode.

    It is the generated text with the ``<output>`` block inserted at the end of its code
    section, up to the end of the block: the text training shows the model
    (`format.insert_output`), generated text and sandbox output only, never the prompt. A text
    without a code section end was stopped before it (by the token limit), so the block goes
    after all of it.
    """
    end = code_section_end(generated)
    text, (_, block_end) = insert_output(
        generated, execution_output(executions), at=end if end >= 0 else len(generated)
    )
    return text[:block_end]


def vote_key(value: str) -> str:
    """What two executed values share when they are the same answer: the number, for a value
    that is one number (so 30 and 30.0 agree), else the text with its spacing collapsed."""
    text = " ".join(value.split())
    try:
        number = float(text)
    except ValueError:
        return text
    return format(number, ".9g") if math.isfinite(number) else text


def choose(candidates: Sequence[Answer]) -> tuple[int, Vote]:
    """The candidate whose executed value most candidates share, and the vote.

    Only candidates whose code ran and printed a value vote. Ties go to the value printed by
    the earliest candidate (the greedy one is first). With no votes at all, candidate 0.
    """
    counts: dict[str, int] = {}
    first: dict[str, int] = {}
    for index, candidate in enumerate(candidates):
        if candidate.final is None:
            continue
        key = vote_key(candidate.final)
        counts[key] = counts.get(key, 0) + 1
        first.setdefault(key, index)
    ranked = sorted(counts, key=lambda key: (-counts[key], first[key]))
    chosen = first[ranked[0]] if ranked else 0
    return chosen, Vote(
        samples=len(candidates),
        ran=sum(counts.values()),
        agreeing=counts[ranked[0]] if ranked else 0,
        chosen=chosen,
        tally=[(str(candidates[first[key]].final), counts[key]) for key in ranked],
    )


def vote_on(candidates: Sequence[Answer]) -> Answer:
    """The chosen candidate (see `choose`) carrying its `vote`; a lone candidate as it is."""
    if len(candidates) == 1:
        return candidates[0]
    index, vote = choose(candidates)
    chosen = candidates[index]
    chosen.vote = vote
    return chosen


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
        samples: int = 1,
        temperature: float = DEFAULT_VOTE_TEMPERATURE,
    ):
        if mode not in MODES:
            raise ValueError(f"unknown mode {mode!r}; choose one of {', '.join(MODES)}")
        problem = voting_problem(samples, temperature)
        if problem:
            raise ValueError(problem)
        self.completer = completer
        self.executor = executor
        self.mode = mode
        self.limits = limits
        self.allowed_modules = allowed_modules
        self.samples = samples
        self.temperature = temperature

    def answer(self, question: str) -> Answer:
        return self.answer_many([question])[0]

    def answer_many(self, questions: Sequence[str]) -> list[Answer]:
        """Answer several questions; generation is batched, execution runs block by block.
        Every question is checked first (`format.check_question`): one that cannot be asked
        raises `QuestionError` before anything is generated."""
        answers = [vote_on(attempts) for attempts in self._attempts(questions)]
        if self.mode == "after-execution":
            answers = self._finish_after_execution(answers)
        return answers

    def attempt_many(self, questions: Sequence[str]) -> list[list[Answer]]:
        """Every candidate of each question (the greedy one first), executed and composed, with
        no vote: what self-training chooses from (`worldmodel.data.self_train`). Only a plain
        pipeline can: an after-execution first pass has no prose answer yet."""
        if self.mode != "plain":
            raise ValueError("attempt_many composes whole answers: use a plain-mode pipeline")
        return self._attempts(questions)

    def _attempts(self, questions: Sequence[str]) -> list[list[Answer]]:
        """Per question, its candidates' answers; each candidate's timings are its question's."""
        questions = [check_question(question) for question in questions]
        started = time.perf_counter()
        stop_at = "requires" if self.mode == "after-execution" else "end"
        candidates = self._candidates(questions, stop_at)
        share = round((time.perf_counter() - started) / max(len(questions), 1), 4)
        found = []
        for question, texts in zip(questions, candidates, strict=True):
            executed = time.perf_counter()
            attempts = [self._attempt(question, text) for text in texts]
            execute_s = round(time.perf_counter() - executed, 4)
            for attempt in attempts:
                attempt.timings = {
                    "generate_s": share,
                    "execute_s": execute_s,
                    "total_s": round(share + execute_s, 4),
                }
            found.append(attempts)
        return found

    def _candidates(self, questions: list[str], stop_at: str) -> list[list[str]]:
        """Per question: the greedy text, then `samples - 1` sampled ones (one batched call)."""
        greedy = self.completer.complete(questions, stop_at=stop_at)
        extra = self.samples - 1
        if not extra:
            return [[text] for text in greedy]
        repeated = [question for question in questions for _ in range(extra)]
        sampled = self.completer.complete(repeated, stop_at=stop_at, temperature=self.temperature)
        if len(sampled) != len(repeated):
            raise RuntimeError(f"completer returned {len(sampled)} texts for {len(repeated)}")
        return [
            [text, *sampled[index * extra : (index + 1) * extra]]
            for index, text in enumerate(greedy)
        ]

    def _attempt(self, question: str, generated: str) -> Answer:
        """Parse one candidate, run its blocks and compose (timings are set by the caller)."""
        response, problems = parse_generated(generated, self.allowed_modules)
        executions, failures = run_blocks(response, self.executor, self.limits)
        return compose_answer(
            question,
            generated,
            response,
            executions,
            mode=self.mode,
            problems=problems + failures,
            timings={},
            backend=getattr(self.executor, "name", None),
        )

    def _finish_after_execution(self, answers: list[Answer]) -> list[Answer]:
        """Second pass: insert each output block and let the model write its prose answer."""
        pending = [item for item in answers if item.response is not None and item.executions]
        if not pending:
            return answers
        prefixes = [after_execution_prefix(item.generated, item.executions) for item in pending]
        started = time.perf_counter()
        tails = self.completer.complete(
            [item.question for item in pending], prefixes, stop_at="end"
        )
        share = (time.perf_counter() - started) / len(pending)
        finished: dict[int, Answer] = {}
        for item, prefix, tail in zip(pending, prefixes, tails, strict=True):
            finished[id(item)] = finish_after_execution(
                item, prefix + tail, share, self.allowed_modules
            )
        return [finished.get(id(item), item) for item in answers]


def finish_after_execution(
    first: Answer,
    generated: str,
    generate_s: float,
    allowed_modules: frozenset[str] = DEFAULT_ALLOWED_MODULES,
) -> Answer:
    """Compose the final answer from the first pass and the text generated after the output."""
    problems = [p for p in first.problems if not p.startswith("the response has no <model>")]
    response, parse_problems = parse_generated(generated, allowed_modules)
    if response is None:
        response = first.response
        problems.extend(parse_problems)
    timings = dict(first.timings)
    timings["generate_s"] = round(timings.get("generate_s", 0.0) + generate_s, 4)
    timings.pop("total_s", None)
    return compose_answer(
        first.question,
        generated,
        response,
        first.executions,
        mode=first.mode,
        problems=problems,
        timings=timings,
        backend=first.backend,
        vote=first.vote,
    )
