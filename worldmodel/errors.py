"""The exception tree of the core library.

One root, `WorldModelError`, and a shallow tree below it: each subclass maps to a different
thing the caller can do. Expected failures (code that times out, a wrong answer) are data in
result objects, not exceptions; these are raised only when the caller cannot go on.
"""

from __future__ import annotations


class WorldModelError(Exception):
    """Root of every error the library raises on purpose."""


class ConfigError(WorldModelError):
    """A setting is missing or invalid; the message names the setting to change."""


class QuestionError(WorldModelError):
    """A question cannot be asked (empty, or too long); the message says what to change."""


class FormatError(WorldModelError):
    """Generated text does not follow the response format.

    `line` and `column` are 1-based positions in the text that was parsed, when known.
    """

    def __init__(self, message: str, *, line: int | None = None, column: int | None = None):
        self.reason = message
        self.line = line
        self.column = column
        where = f" (line {line}, column {column})" if line is not None else ""
        super().__init__(f"{message}{where}")


class DataError(WorldModelError):
    """A dataset file or record is malformed; the message names the file and line."""


class CheckpointError(WorldModelError):
    """A training checkpoint cannot be resumed from (a missing or damaged file, or a format this
    version does not read); the message names the file and what to do."""


class ModelNotFoundError(WorldModelError):
    """A model or adapter directory does not exist or cannot be loaded."""
