"""Where the WorldModel home is: the one rule, for every package.

The home is the one folder that holds user state (caches, converted models, VM images, logs, run
outputs), so a user can see, move or delete it in one go. `WM_HOME` chooses it; by default it is
`$XDG_DATA_HOME/worldmodel` (usually `~/.local/share/worldmodel`). Tests point `WM_HOME` at a
temporary directory.

The rule lives here, in the lowest layer, because the sandbox keeps its VM images in the home
and imports nothing from `worldmodel`; `worldmodel.home` builds the library's paths on it.
Nothing here creates folders.
"""

from __future__ import annotations

import os
from pathlib import Path


def wm_home() -> Path:
    """Return the WorldModel home folder (not created)."""
    explicit = os.environ.get("WM_HOME")
    if explicit:
        return Path(explicit).expanduser().resolve()
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return (Path(base).expanduser() / "worldmodel").resolve()
