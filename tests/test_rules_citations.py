"""Code that cites the rules cites this repository's own statement of them: `(docs/rules.md,
<heading>)`, and the heading is one docs/rules.md has. A citation of one of the contract's
numbered sections names a document a clone does not hold."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CITATION = re.compile(r"docs/rules\.md, ([A-Z][^):;,.`]*)")
SECTION_NUMBER = re.compile(r"\b[Ss]ection \d+[a-z]\b|§\s?\d|\(\d[a-z]\)")


def headings() -> set[str]:
    text = (ROOT / "docs" / "rules.md").read_text()
    return {line.lstrip("#").strip() for line in text.splitlines() if line.startswith("## ")}


def code_files() -> list[Path]:
    tracked = subprocess.run(
        ["git", "ls-files", "*.py", "*.toml", "*.html"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    return [ROOT / name for name in tracked if name != "tests/test_rules_citations.py"]


def flowing(text: str) -> str:
    """The text with comment and docstring line breaks folded, so a citation may wrap."""
    return re.sub(r"\n\s*(#\s*)?", " ", text)


def names(cited: str, heading: str) -> bool:
    """Does the cited text begin with the heading (the text may run on after a comment)?"""
    rest = cited[len(heading) :]
    return cited.startswith(heading) and not rest[:1].isalnum()


def test_every_citation_of_the_rules_names_one_of_its_headings() -> None:
    known = headings()
    wrong = [
        f"{path.relative_to(ROOT)}: {heading.strip()!r}"
        for path in code_files()
        for heading in CITATION.findall(flowing(path.read_text()))
        if not any(names(heading, h) for h in known)
    ]
    assert not wrong, f"not a heading of docs/rules.md ({sorted(known)}): {wrong}"


def test_no_file_cites_a_section_number_of_a_document_outside_the_repository() -> None:
    cited = [
        f"{path.relative_to(ROOT)}: {match}"
        for path in code_files()
        for match in SECTION_NUMBER.findall(path.read_text())
    ]
    assert not cited, f"cite docs/rules.md and a heading instead: {cited}"


def test_the_check_reads_the_tests_too() -> None:
    read = {path.relative_to(ROOT).parts[0] for path in code_files()}
    assert {"domain", "workflows", "api", "tests"} <= read
