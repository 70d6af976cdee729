"""The WorldModel home: the one place that holds user state.

Caches, converted models, VM images, logs and run outputs all live under one folder, so a
user can see, move or delete it in one go. `WM_HOME` chooses it; by default it is
`$XDG_DATA_HOME/worldmodel` (usually `~/.local/share/worldmodel`). Tests point `WM_HOME` at a
temporary directory. Nothing here creates folders at import time.
"""

from __future__ import annotations

import os
from pathlib import Path

SUBDIRS = ("cache", "models", "images", "logs", "runs", "stack")


def wm_home() -> Path:
    """Return the WorldModel home folder (not created)."""
    explicit = os.environ.get("WM_HOME")
    if explicit:
        return Path(explicit).expanduser().resolve()
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return (Path(base).expanduser() / "worldmodel").resolve()


def home_path(*parts: str, create: bool = True) -> Path:
    """A path inside the home, e.g. `home_path("images")`; its folder is created if asked."""
    path = wm_home().joinpath(*parts)
    if create:
        path.mkdir(parents=True, exist_ok=True)
    return path
