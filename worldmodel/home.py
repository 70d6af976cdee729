"""Paths inside the WorldModel home, the one place that holds user state.

Caches, converted models, VM images, logs and run outputs all live under one folder, so a
user can see, move or delete it in one go. Where that folder is (`WM_HOME`, else
`$XDG_DATA_HOME/worldmodel`) and who may read it (its owner only: folders 0700, a looser
existing home tightened and logged) are decided by `sandbox.home`, the one copy of both rules:
the sandbox, which imports nothing from `worldmodel`, keeps its VM images there too. Nothing here
creates folders at import time.
"""

from __future__ import annotations

from pathlib import Path

from sandbox.home import private_dir, wm_home

SUBDIRS = ("cache", "models", "images", "logs", "runs", "stack")


def home_path(*parts: str, create: bool = True) -> Path:
    """A path inside the home, e.g. `home_path("images")`; its folder is created if asked.

    `home_path(create=False)` is the home itself. The home is always made (owner-only, 0700),
    even with `create=False`, so that no caller that writes below it with a plain
    `mkdir(parents=True)` ever creates it with the default, world-readable mode.
    """
    home = private_dir(wm_home())
    path = home.joinpath(*parts)
    if create:
        private_dir(path, top=home)
    return path
