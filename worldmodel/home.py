"""Paths inside the WorldModel home, the one place that holds user state.

Caches, converted models, VM images, logs and run outputs all live under one folder, so a
user can see, move or delete it in one go. Where that folder is (`WM_HOME`, else
`$XDG_DATA_HOME/worldmodel`) is decided by `sandbox.home.wm_home`, the one copy of the rule:
the sandbox, which imports nothing from `worldmodel`, keeps its VM images there too. Nothing here
creates folders at import time.
"""

from __future__ import annotations

from pathlib import Path

from sandbox.home import wm_home

SUBDIRS = ("cache", "models", "images", "logs", "runs", "stack")


def home_path(*parts: str, create: bool = True) -> Path:
    """A path inside the home, e.g. `home_path("images")`; its folder is created if asked.

    `home_path(create=False)` is the home itself.
    """
    path = wm_home().joinpath(*parts)
    if create:
        path.mkdir(parents=True, exist_ok=True)
    return path
