"""Reading a user's text files (response files, YAML configs): UTF-8, or an error naming where.

A file that is not UTF-8 text gets a `DataError` naming the file, the line and the byte, instead
of a traceback or silently replaced characters. JSONL datasets are read line by line by
`worldmodel.data.record.read_jsonl`, which reports each bad line the same way.
"""

from __future__ import annotations

from pathlib import Path

from worldmodel.errors import DataError


def read_utf8(path: str | Path) -> str:
    """The text of `path`; `DataError` if it cannot be read or is not UTF-8."""
    source = Path(path)
    try:
        raw = source.read_bytes()
    except OSError as exc:
        raise DataError(f"{source}: cannot be read ({exc.strerror})") from exc
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        column = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
        raise DataError(
            f"{source}:{line}: not UTF-8 text: byte 0x{raw[exc.start]:02x} at column {column} "
            "(save the file as UTF-8)"
        ) from exc
