"""Fixtures shared by every test.

Every test gets its own WorldModel home, so no test reads or writes the user's real state.
"""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def wm_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point WM_HOME at a fresh temp dir for this test and return it."""
    home = tmp_path / "wm-home"
    monkeypatch.setenv("WM_HOME", str(home))
    return home
