"""`wm query`: answer a question end to end, in this process (no Redis needed).

The command is thin: it builds a completer (the model, or a given response file), an executor
(the sandbox backend the user chose, fail-closed) and a `Pipeline`, then prints the `Answer` as
a readable panel or as JSON.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from worldmodel.cli.errors import library_errors
from worldmodel.cli.group import wm
from worldmodel.cli.options import sandbox_option, voting_options
from worldmodel.cli.render import print_answer
from worldmodel.format import MODES
from worldmodel.generate import DEFAULT_MAX_NEW_TOKENS

if TYPE_CHECKING:
    from worldmodel.format import Mode
    from worldmodel.generate import Generator
    from worldmodel.model.defaults import ModelChoice
    from worldmodel.pipeline import Answer, Completer, Pipeline


@wm.command()
@click.argument("question", required=False)
@click.option(
    "--response-file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Use this file's text as the model's response instead of generating one.",
)
@click.option("--model", "model_dir", help="Base model directory (default: the bundled model).")
@click.option("--adapter", "adapter_dir", help="LoRA adapter directory (default: bundled).")
@sandbox_option()
@click.option(
    "--no-sandbox",
    is_flag=True,
    help="Run the model's code directly on this host. Dangerous; only for trusted use.",
)
@click.option(
    "--mode",
    type=click.Choice(MODES),
    default=None,
    help="plain: the model answers before its code runs; after-execution: it answers "
    "after seeing the output. Default: the better one measured by `wm eval`.",
)
@click.option("--max-new-tokens", type=int, default=DEFAULT_MAX_NEW_TOKENS, show_default=True)
@voting_options
@click.option("--timeout", type=float, default=10.0, show_default=True, help="Seconds per block.")
@click.option(
    "-i", "--interactive", is_flag=True, help="Ask questions in a loop (model stays loaded)."
)
@click.option("--json", "as_json", is_flag=True, help="Print the answer as JSON.")
@library_errors
def query(
    question: str | None,
    response_file: Path | None,
    model_dir: str | None,
    adapter_dir: str | None,
    sandbox: str,
    no_sandbox: bool,
    mode: str | None,
    max_new_tokens: int,
    samples: int,
    vote_temperature: float,
    timeout: float,
    interactive: bool,
    as_json: bool,
) -> None:
    """Answer QUESTION with verified, executed code.

    Example: wm query "What is 15% of 200?"
    """
    from sandbox.executor import Limits
    from sandbox.registry import get_executor, provided_modules
    from worldmodel.files import read_utf8
    from worldmodel.format import DEFAULT_ALLOWED_MODULES
    from worldmodel.pipeline import FixedCompleter, Pipeline

    if interactive and response_file is not None:
        raise click.UsageError("--interactive generates answers; it cannot use --response-file")
    if not interactive:
        question = _read_question(question)
    if no_sandbox:
        click.secho(
            "warning: --no-sandbox runs model-written code directly on this host.",
            fg="yellow",
            err=True,
        )
    if response_file is not None:
        if mode == "after-execution":
            raise click.UsageError("--response-file works only with --mode plain")
        if samples > 1:
            raise click.UsageError("--samples needs a model to sample; not --response-file")
        completer: Completer = FixedCompleter([read_utf8(response_file)])
        chosen_mode: Mode = "plain"
        answered_by: dict[str, str | None] = {"model": None, "adapter": None}
    else:
        completer, choice = _model_completer(model_dir, adapter_dir, mode, max_new_tokens)
        chosen_mode, answered_by = choice.mode, choice.describe()
    executor = get_executor("host" if no_sandbox else sandbox)
    try:
        pipeline = Pipeline(
            completer,
            executor,
            mode=chosen_mode,
            limits=Limits(wall_time_s=timeout, cpu_time_s=timeout),
            allowed_modules=provided_modules(executor) or DEFAULT_ALLOWED_MODULES,
            samples=samples,
            temperature=vote_temperature,
        )
        if interactive:
            _repl(pipeline, as_json, answered_by)
            return
        assert question is not None
        _show(pipeline.answer(question), as_json, answered_by)
    finally:
        executor.close()


def _read_question(question: str | None) -> str:
    if question is None:
        if sys.stdin.isatty():
            raise click.UsageError("give a QUESTION (or pipe one on stdin)")
        question = sys.stdin.read()
    from worldmodel.format import check_question

    return check_question(question)  # the limits `wm submit-query` applies, before any loading


def _show(answer: Answer, as_json: bool, answered_by: dict[str, Any]) -> None:
    if as_json:
        # The same fields a job's result has: the answer, and the model and adapter that gave it.
        payload = answer.to_dict() | answered_by
        click.echo(json.dumps(payload, indent=2, ensure_ascii=False))
    else:
        print_answer(answer)


def _repl(pipeline: Pipeline, as_json: bool, answered_by: dict[str, Any]) -> None:
    click.echo("Ask a question (empty line or Ctrl-D to quit).", err=True)
    while True:
        click.echo("? ", nl=False, err=True)  # the prompt goes to stderr: stdout stays data
        try:
            line = sys.stdin.readline()
        except KeyboardInterrupt:
            line = ""
        if not line.strip():
            click.echo("", err=True)
            return
        from worldmodel.errors import QuestionError

        try:
            answer = pipeline.answer(line)
        except QuestionError as exc:  # one bad line does not end the session
            click.secho(f"Error: {exc}", fg="red", err=True)
            continue
        _show(answer, as_json, answered_by)


def _model_completer(
    model_dir: str | None, adapter_dir: str | None, mode: str | None, max_new_tokens: int
) -> tuple[Generator, ModelChoice]:
    from worldmodel.generate import GenerationConfig, Generator
    from worldmodel.model.defaults import resolve_model

    choice = resolve_model(model_dir, adapter_dir, mode)
    if choice.note:
        click.secho(f"note: {choice.note}", fg="yellow", err=True)
    config = GenerationConfig(max_new_tokens=max_new_tokens)
    return Generator(choice.model_dir, choice.adapter_dir, config=config), choice
