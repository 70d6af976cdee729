"""`wm query` commands (being written)."""

from worldmodel.cli import wm  # noqa: F401
