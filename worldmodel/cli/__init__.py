"""The `wm` command line: one Click group, split into modules by command group.

Commands are thin: they parse, call a library function and print. Heavy imports happen inside
the commands so `wm --help` is instant. Library errors become `click.ClickException` at this
boundary only, by one decorator on every command (`errors.library_errors`).

Exit codes: 0 success; 1 a command failed (the message says why and what to change);
2 usage error (bad flags or arguments).
"""

from __future__ import annotations

import logging
import os

import click

from worldmodel import __version__

CONTEXT_SETTINGS = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


def _configure_logging(verbose: int) -> None:
    level = logging.WARNING - 10 * min(verbose, 2)
    env_level = os.environ.get("WM_LOG_LEVEL")
    logging.basicConfig(
        level=env_level.upper() if env_level else level,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )


@click.group(context_settings=CONTEXT_SETTINGS)
@click.version_option(__version__, "-V", "--version", prog_name="wm")
@click.option("-v", "--verbose", count=True, help="More diagnostics on stderr (-vv for debug).")
def wm(verbose: int) -> None:
    """WorldModel: answers with verified, executable reasoning.

    Example: wm query "What is 15% of 200?"
    """
    _configure_logging(verbose)


def _register() -> None:
    # Each module adds its commands to `wm`. Imports here are cheap: no torch, no celery.
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


_register()


def main() -> None:
    wm(prog_name="wm")
