"""The docs stand alone: every relative link in README.md and docs/*.md reaches a file of the
repository (and a heading of it, when the link names one), and no tracked file points at the
folder beside the repository that a clone elsewhere does not have."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
PAGES = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")
FENCE = re.compile(r"^```.*?^```", re.S | re.M)
OUTSIDE = "../" + "shared"  # spelt in two parts so this file does not name it
CONTRACT_PAGE = "pathway" + ".md"  # the contract's page, outside: docs/rules.md stands for it


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def anchors(page: Path) -> set[str]:
    text = FENCE.sub("", page.read_text(encoding="utf-8"))
    return {slug(m) for m in re.findall(r"^#{1,6} (.+)$", text, re.M)}


def relative_links(page: Path) -> list[str]:
    text = FENCE.sub("", page.read_text(encoding="utf-8"))
    return [t for t in LINK.findall(text) if not re.match(r"[a-z]+:", t)]


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.relative_to(REPO).as_posix())
def test_every_relative_link_resolves(page: Path) -> None:
    links = relative_links(page)
    for link in links:
        path, _, anchor = link.partition("#")
        target = (page.parent / path).resolve() if path else page
        assert target.is_file(), f"{page.name}: {link} names no file"
        assert REPO in target.parents, f"{page.name}: {link} leaves the repository"
        if anchor:
            assert anchor in anchors(target), f"{page.name}: {link} names no heading"


def test_the_readme_points_to_every_page_of_the_docs() -> None:
    linked = {link.partition("#")[0] for link in relative_links(REPO / "README.md")}
    pages = {f"docs/{page.name}" for page in PAGES[1:]}
    assert pages <= linked


def test_no_tracked_file_points_outside_the_repository() -> None:
    listed = subprocess.run(["git", "ls-files", "-z"], cwd=REPO, capture_output=True, check=True)
    files = [REPO / name for name in listed.stdout.decode().split("\0") if name]
    outside = (OUTSIDE.encode(), CONTRACT_PAGE.encode())
    naming = [f for f in files if f.is_file() and any(o in f.read_bytes() for o in outside)]
    assert naming == []
