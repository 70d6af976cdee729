"""Which GPU workers `wm stack up` starts: one per visible GPU, or one CPU worker.

The *_VISIBLE_DEVICES variables decide first (a user who hides GPUs gets a CPU worker); the
physical indices they name are kept, because `wm worker gpu --gpu N` pins that same index.
"""

from __future__ import annotations

import click
import pytest

from worldmodel.cli.stack import visible_gpus


@pytest.mark.parametrize(
    ("hip", "cuda", "expected"),
    [
        ("2,3", None, [2, 3]),
        ("", "0,1", []),  # HIP set but empty: every GPU hidden, CUDA is not consulted
        (None, "1", [1]),
        (None, "", []),
    ],
)
def test_visible_devices_variables_choose_the_gpus(
    monkeypatch: pytest.MonkeyPatch, hip: str | None, cuda: str | None, expected: list[int]
) -> None:
    for name, value in (("HIP_VISIBLE_DEVICES", hip), ("CUDA_VISIBLE_DEVICES", cuda)):
        if value is None:
            monkeypatch.delenv(name, raising=False)
        else:
            monkeypatch.setenv(name, value)
    assert visible_gpus() == expected


def test_a_device_name_instead_of_an_index_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HIP_VISIBLE_DEVICES", "GPU-6f3a")
    with pytest.raises(click.ClickException, match="expected GPU indices"):
        visible_gpus()
