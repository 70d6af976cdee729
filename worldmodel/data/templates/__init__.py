"""The generated question families; importing this package registers every template.

`all_templates()` returns them in a stable order (family, then name) so a seed always yields
the same examples.
"""

from __future__ import annotations

from worldmodel.data.templates import (  # noqa: F401
    advanced_math,
    arithmetic,
    chains,
    data,
    expressions,
    portions,
    rates,
    system,
    text,
    word_problems,
)
from worldmodel.data.templates.base import FAMILIES, REGISTRY, Template


def all_templates() -> list[Template]:
    """Every registered template, ordered by family then name."""
    order = {family: i for i, family in enumerate(FAMILIES)}
    return sorted(REGISTRY.values(), key=lambda t: (order[t.family], t.name))
