"""The `wm` command line: one Click group, split into modules by command group.

The group is defined in `group.py`; each command module adds its commands to it, and this
package imports every command module so that `main` (the `wm` entry point) sees them all.
Commands are thin: they parse, call a library function and print. Heavy imports happen inside
the commands so `wm --help` is instant. Library errors become `click.ClickException` at this
boundary only, by one decorator on every command (`errors.library_errors`).

Exit codes: 0 success; 1 a command failed (the message says why and what to change);
2 usage error (bad flags or arguments).
"""

from __future__ import annotations

# Each module adds its commands to `wm` when imported. Imports here are cheap: no torch, no celery.
from worldmodel.cli import (  # noqa: F401
    data,
    evaluate,
    jobs,
    query,
    sandbox,
    stack,
    train,
    worker,
    workflow,
)
from worldmodel.cli.group import wm


def main() -> None:
    wm(prog_name="wm")
