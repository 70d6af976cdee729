"""The `wm` Click group itself: its options, version and logging set-up, and no commands.

Every command module (`worldmodel/cli/query.py`, `cli/jobs.py`, …) adds its commands to `wm`,
and the package's `__init__` imports each of them. Python runs that `__init__` before this
module, so `from worldmodel.cli.group import wm` always gives the full group.
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
