"""The user-facing documentation stays honest: links resolve, the README stays short, and the
settings reference lists every worker setting.

Checks README.md, docs/*.md and the bundled adapter's README: every relative link names a file
or folder that exists, and a `#fragment` names a heading of the target (GitHub's anchor rule).
External links (http, mailto) are not fetched. This module does not check prose.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
ADAPTER_README = ROOT / "worldmodel" / "resources" / "smollm2-adapter" / "README.md"
PAGES = sorted([ROOT / "README.md", ADAPTER_README, *(ROOT / "docs").glob("*.md")])
README_MAX_LINES = 200
"""A newcomer reads the README in five minutes; detail belongs in docs/."""

LINK = re.compile(r"(?<!!)\[[^\]]*\]\(([^)\s]+)\)")
FENCE = re.compile(r"^(```|~~~).*?^\1", re.S | re.M)


def _prose(text: str) -> str:
    """The text without fenced code blocks, whose brackets are not links."""
    return FENCE.sub("", text)


def _anchors(path: Path) -> set[str]:
    """GitHub's heading anchors: lowercase, punctuation dropped, spaces to hyphens, -N repeats."""
    seen: dict[str, int] = {}
    anchors = set()
    for line in _prose(path.read_text()).splitlines():
        match = re.match(r"#{1,6}\s+(.*?)\s*#*\s*$", line)
        if not match:
            continue
        slug = re.sub(r"[^\w\- ]", "", match.group(1).lower()).replace(" ", "-")
        count = seen.get(slug, 0)
        seen[slug] = count + 1
        anchors.add(slug if count == 0 else f"{slug}-{count}")
    return anchors


def _links(path: Path) -> list[str]:
    return [m.group(1) for m in LINK.finditer(_prose(path.read_text()))]


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_relative_links_resolve(page: Path) -> None:
    broken = []
    for target in _links(page):
        if re.match(r"[a-z][a-z0-9+.-]*:", target):  # http:, https:, mailto:
            continue
        file_part, _, fragment = target.partition("#")
        resolved = (page.parent / file_part).resolve() if file_part else page
        if not resolved.exists():
            broken.append(f"{target}: {resolved} does not exist")
        elif fragment and resolved.suffix == ".md" and fragment not in _anchors(resolved):
            broken.append(f"{target}: no heading #{fragment} in {resolved.name}")
    assert not broken, f"{page.relative_to(ROOT)}:\n  " + "\n  ".join(broken)


def test_anchor_rule_matches_github() -> None:
    page = ROOT / "docs" / "model.md"
    assert "rocm-amd-mi50" in _anchors(page)  # "### ROCm (AMD MI50)"
    assert "voting" in _anchors(page)


def test_readme_stays_short() -> None:
    lines = (ROOT / "README.md").read_text().count("\n")
    assert lines <= README_MAX_LINES, (
        f"README.md has {lines} lines (at most {README_MAX_LINES}): move detail to docs/"
    )


def test_settings_reference_lists_every_worker_setting() -> None:
    settings = pytest.importorskip("workers.settings")
    text = (ROOT / "docs" / "settings.md").read_text()
    listed = set(re.findall(r"^\| `(WM_[A-Z_]+)` \(`([a-z_]+)`\)", text, re.M))
    fields = {(var, name) for name, var in settings.ENV.items()}
    assert sorted(fields - listed) == [], "settings missing from docs/settings.md"
    assert sorted(listed - fields) == [], "docs/settings.md lists settings that do not exist"
