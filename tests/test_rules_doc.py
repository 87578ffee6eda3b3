"""docs/rules.md, the service's own statement of its rules, kept in step with the code: the
stages, events (with their fields), clocks and status fields it names exist, and every stage,
event and clock of the code is named there."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from domain.events import EVENT_TYPES
from domain.policy import ClockName
from domain.status import CaseStatus, MaseStatus
from domain.vocabulary import Stage

RULES = Path(__file__).resolve().parents[1] / "docs" / "rules.md"


def section(title: str) -> str:
    text = RULES.read_text(encoding="utf-8")
    match = re.search(rf"^## {re.escape(title)}\n(.*?)(?=^## |\Z)", text, re.S | re.M)
    assert match, f"docs/rules.md has no section {title!r}"
    return match.group(1)


def table_rows(title: str) -> dict[str, list[str]]:
    """Each table row's first backticked name, with the backticked names of its second cell."""
    rows: dict[str, list[str]] = {}
    for line in section(title).splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        first = re.fullmatch(r"`([a-z0-9_]+)`", cells[0]) if cells else None
        if first:
            rows[first.group(1)] = re.findall(r"`([a-z0-9_]+)`", cells[1] if len(cells) > 1 else "")
    return rows


def test_the_stages_are_the_codes() -> None:
    assert set(table_rows("Stages")) == {s.value for s in Stage}


def test_the_events_and_their_fields_are_the_codes() -> None:
    events = table_rows("Events")
    assert set(events) == set(EVENT_TYPES)
    for name, fields in events.items():
        assert set(fields) == set(EVENT_TYPES[name].model_fields) - {"actor"}, name


def test_the_clocks_are_the_codes() -> None:
    assert set(table_rows("Clocks")) == {c.value for c in ClockName}


def test_every_status_field_named_exists() -> None:
    named = re.findall(r"`([a-z0-9_.]+)`", section("What a case answers"))
    assert named
    for name in named:
        if name.startswith("mase."):
            assert name.removeprefix("mase.") in MaseStatus.model_fields, name
        else:
            assert name in CaseStatus.model_fields, name


OUTSIDE = ("../" + "shared", "pathway" + ".md")  # spelt in parts so this file names neither
PAGES = [RULES.parents[1] / "README.md", *sorted(RULES.parent.glob("*.md"))]


@pytest.mark.parametrize("path", PAGES, ids=lambda p: p.name)
def test_the_docs_point_nowhere_outside_the_repository(path: Path) -> None:
    """The rules are docs/rules.md: no page cites the contract's file beside the repository."""
    text = path.read_text(encoding="utf-8")
    assert not [name for name in OUTSIDE if name in text]
