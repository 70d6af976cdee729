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


def voting_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """`--samples K` and `--temperature T`: answer by a vote over K executed candidates."""
    from worldmodel.pipeline import DEFAULT_VOTE_TEMPERATURE, MAX_SAMPLES

    func = click.option(
        "--temperature",
        "vote_temperature",
        type=click.FloatRange(min=0, min_open=True),
        default=DEFAULT_VOTE_TEMPERATURE,
        show_default=True,
        metavar="T",
        help="Sampling temperature of the extra candidates (with --samples > 1).",
    )(func)
    return click.option(
        "--samples",
        type=click.IntRange(min=1, max=MAX_SAMPLES),
        default=1,
        show_default=True,
        metavar="K",
        help="Candidates per question: the greedy one plus K-1 sampled; each one's code runs "
        "and the executed value most of them share is the answer (1: greedy alone).",
    )(func)


def device_options(*, default: str | None = "auto") -> Callable[[Any], Any]:
    """`--device`, `--precision` and `--threads`: where torch runs and in which precision.
    `default=None` leaves unset flags None, for commands whose config file supplies them."""
    from worldmodel.model.device import DEVICES, PRECISIONS

    def decorate(func: Callable[..., Any]) -> Callable[..., Any]:
        func = click.option(
            "--threads",
            type=click.IntRange(min=1),
            help="CPU threads for torch (measure: more can be slower; torch's default if unset).",
        )(func)
        func = click.option(
            "--precision",
            type=click.Choice(PRECISIONS),
            default=default,
            show_default=default is not None,
            help="auto: fp32 on a CPU, bf16 (or fp16) on a GPU.",
        )(func)
        return click.option(
            "--device",
            default=default,
            show_default=default is not None,
            help=f"{', '.join(DEVICES)}, or cuda:N / rocm:N. Asking for a missing GPU is an error.",
        )(func)

    return decorate
