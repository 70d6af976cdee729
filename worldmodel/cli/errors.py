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
from typing import Any, TypeVar

import click

from sandbox.executor import SandboxError
from worldmodel.errors import WorldModelError

F = TypeVar("F", bound=Callable[..., Any])

LIBRARY_ERRORS = (WorldModelError, SandboxError)


def library_errors(command: F) -> F:
    """Decorate a command's function (below `@wm.command`): library errors exit 1 with their
    message."""

    @functools.wraps(command)
    def run(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except LIBRARY_ERRORS as exc:
            raise click.ClickException(str(exc)) from exc

    run.library_errors = True  # type: ignore[attr-defined]
    return run  # type: ignore[return-value]
