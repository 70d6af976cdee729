"""Where the WorldModel home is, and the one rule for who may read what is kept there.

The home is the one folder that holds user state (caches, converted models, VM images with the
guest's SSH keys, saved VM states, logs, the stack's passwords), so a user can see, move or
delete it in one go. `WM_HOME` chooses it; by default it is `$XDG_DATA_HOME/worldmodel`
(usually `~/.local/share/worldmodel`). Tests point `WM_HOME` at a temporary directory.

Owner-only, always: the guest image's initramfs holds the guest's SSH host private key and a
saved VM state holds a guest's whole memory, so every folder made here is 0700 and every file
0600, whatever the umask. A folder found with a looser mode (a home made before this rule, or
by hand) is tightened to 0700 and a warning logged; one that cannot be tightened (another
user's) raises `PermissionError` naming the `chmod` to run. Files are written through a fresh
`mkstemp` name (exclusive create, mode 0600) and renamed into place, never by opening a
predictable name with plain `open()`.

The rule lives here, in the lowest layer, because the sandbox keeps its VM images in the home
and imports nothing from `worldmodel`; `worldmodel.home` builds the library's paths on it.
Nothing here creates folders at import time.
"""

from __future__ import annotations

import contextlib
import logging
import os
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

log = logging.getLogger(__name__)

PRIVATE_DIR = 0o700
PRIVATE_FILE = 0o600
_OTHERS = 0o077
"""Group and other permission bits: none may be set on anything kept in the home."""


def wm_home() -> Path:
    """Return the WorldModel home folder (not created)."""
    explicit = os.environ.get("WM_HOME")
    if explicit:
        return Path(explicit).expanduser().resolve()
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return (Path(base).expanduser() / "worldmodel").resolve()


def private_dir(path: Path, *, top: Path | None = None) -> Path:
    """Make `path` and every folder from `top` down to it owner-only (0700); return `path`.

    `top` (default: `path` itself) is the first folder that belongs to us, e.g. the home:
    folders above it are created with the default mode, as they are not ours to lock
    (`~/.local/share`). Existing folders from `top` down are tightened (see the module).
    """
    top = path if top is None else top
    parts = path.relative_to(top).parts  # a ValueError if `path` is not under `top`
    top.parent.mkdir(parents=True, exist_ok=True)
    for depth in range(len(parts) + 1):
        folder = top.joinpath(*parts[:depth])
        try:
            folder.mkdir(mode=PRIVATE_DIR)
        except FileExistsError:
            if not folder.is_dir():
                raise NotADirectoryError(f"{folder} exists and is not a folder") from None
            tighten(folder)
        else:
            os.chmod(folder, PRIVATE_DIR)  # mkdir's mode is masked by the umask
    return path


def tighten(path: Path) -> None:
    """Take group and other permissions off `path` (a folder: 0700, a file: 0600), logging it.

    Does nothing when `path` is already owner-only. `PermissionError` naming the chmod to run
    when it cannot be changed (it belongs to another user).
    """
    mode = stat.S_IMODE(os.stat(path).st_mode)
    if not mode & _OTHERS:
        return
    wanted = PRIVATE_DIR if path.is_dir() else PRIVATE_FILE
    try:
        os.chmod(path, wanted)
    except PermissionError as exc:
        raise PermissionError(
            f"{path} is readable by other users (mode {mode:04o}) and this user cannot change "
            f"it ({exc.strerror}); as its owner run `chmod {wanted:o} {path}`, or point WM_HOME "
            "at a folder of your own"
        ) from exc
    log.warning("tightened %s from mode %04o to %04o (owner only)", path, mode, wanted)


@contextlib.contextmanager
def private_file(path: Path) -> Iterator[BinaryIO]:
    """Write `path` as a new owner-only (0600) file, atomically: yields a binary handle.

    The data goes to a fresh `mkstemp` file beside `path` (exclusive create, 0600), which
    replaces `path` only when the block ends without an error; on an error it is deleted.
    """
    fd, partial = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".partial")
    try:
        os.fchmod(fd, PRIVATE_FILE)
        with os.fdopen(fd, "wb") as handle:
            yield handle
        os.replace(partial, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(partial)
        raise


def write_private(path: Path, data: str | bytes) -> None:
    """Write `data` (text is UTF-8) to `path` as an owner-only file (`private_file`)."""
    with private_file(path) as handle:
        handle.write(data.encode() if isinstance(data, str) else data)


def private_partial(dest: Path) -> Path:
    """A new, empty, owner-only (0600) file beside `dest`, for a writer outside this process
    (QEMU's `cat > FILE`) to fill; the caller renames it to `dest` or deletes it."""
    fd, partial = tempfile.mkstemp(dir=dest.parent, prefix=f".{dest.name}.", suffix=".partial")
    os.fchmod(fd, PRIVATE_FILE)
    os.close(fd)
    return Path(partial)
