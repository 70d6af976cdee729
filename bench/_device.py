"""Options the benchmarks share: where they run and in what precision (as `wm train` chooses)."""

from __future__ import annotations

import argparse

from worldmodel.model.device import PRECISIONS


def add_device_arguments(parser: argparse.ArgumentParser) -> None:
    """--device (default cpu) and --precision (default auto) on `parser`."""
    parser.add_argument(
        "--device", default="cpu", help="cpu (default), auto, cuda, cuda:N, rocm, rocm:N"
    )
    parser.add_argument(
        "--precision",
        default="auto",
        choices=PRECISIONS,
        help="as in wm train: auto is fp32 on CPU, bf16 (fp16 without bf16) on a GPU",
    )
