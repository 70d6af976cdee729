"""Where the library's errors become command-line errors: one decorator, on every command.

The library, the sandbox and the job system raise their own exceptions (`WorldModelError` and
its subclasses, among them the job system's `JobError`, `BrokerUnavailable` and
`ArtifactError`; `SandboxError`); their messages already name what to change. `library_errors`
turns them into `click.ClickException`, which Click prints as `Error: <message>` on stderr with
exit code 1. Any other exception is a bug and keeps its traceback.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import ParamSpec, TypeVar

import click

from sandbox.executor import SandboxError
from worldmodel.errors import WorldModelError

P = ParamSpec("P")
R = TypeVar("R")

LIBRARY_ERRORS = (WorldModelError, SandboxError)


def library_errors(command: Callable[P, R]) -> Callable[P, R]:
    """Decorate a command's function (below `@wm.command`): library errors exit 1 with their
    message."""

    @functools.wraps(command)
    def run(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return command(*args, **kwargs)
        except LIBRARY_ERRORS as exc:
            raise click.ClickException(str(exc)) from exc

    # Marks the command for the test that every command has this decorator (a function's type
    # declares no such attribute).
    run.library_errors = True  # type: ignore[attr-defined]
    return run
