"""The documentation's relative links and anchors resolve (README.md and docs/*.md)."""

from __future__ import annotations

import importlib.util
import re
from functools import cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
LINK = re.compile(r"\]\(([^)\s]+)\)")


def _anchor(heading: str) -> str:
    """GitHub's anchor of a Markdown heading: lower case, punctuation dropped, spaces to hyphens."""
    text = heading.lstrip("#").strip().lower()
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def _anchors(page: Path) -> set[str]:
    return {_anchor(line) for line in page.read_text().splitlines() if line.startswith("#")}


@cache
def _generated() -> dict[Path, str]:
    """Pages the site build generates (scripts/docs_reference.py), by their path under docs/."""
    spec = importlib.util.spec_from_file_location("docs_reference", ROOT / "scripts" / "docs_reference.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return {(ROOT / "docs" / uri).resolve(): make() for uri, make in module.PAGES.items()}


def _relative_links(page: Path) -> list[str]:
    return [t for t in LINK.findall(page.read_text()) if not re.match(r"[a-z]+:", t)]


def test_anchor_rule_matches_github():
    assert _anchor("## nc_b recall") == "nc_b-recall"
    assert _anchor("## How the default preset was chosen (development data, previous solver)") == (
        "how-the-default-preset-was-chosen-development-data-previous-solver"
    )


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_relative_links_resolve(page):
    links = _relative_links(page)
    broken = []
    for target in links:
        path, _, anchor = target.partition("#")
        dest = (page.parent / path).resolve() if path else page
        generated = _generated().get(dest) if "docs" in dest.parts else None
        if generated is not None:
            if anchor and anchor not in {
                _anchor(line) for line in generated.splitlines() if line.startswith("#")
            }:
                broken.append(target)
        elif not dest.exists():
            broken.append(target)
        elif anchor and dest.suffix == ".md" and anchor not in _anchors(dest):
            broken.append(target)
    assert not broken, f"{page.name}: broken links {broken}"


def test_readme_links_the_detail_pages():
    links = _relative_links(ROOT / "README.md")
    for page in ("docs/solver.md", "docs/emulator.md"):
        assert any(t.partition("#")[0] == page for t in links), page
