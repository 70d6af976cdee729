"""Command-line options that several `wm` commands share, declared once."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click

SANDBOX_CHOICES = ("vm", "process")


def sandbox_option(
    *,
    default: str = "vm",
    dest: str = "sandbox",
    help: str = "Where code runs: a single-use VM, or a limited host process (weaker isolation).",
) -> Callable[[Any], Any]:
    """`--sandbox vm|process`: the backend model-written code runs in."""
    return click.option(
        "--sandbox",
        dest,
        type=click.Choice(SANDBOX_CHOICES),
        default=default,
        show_default=True,
        help=help,
    )
