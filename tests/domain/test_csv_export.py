"""The one CSV writer (domain/csv_export.py): RFC 4180 text, no cell a spreadsheet would run,
and a case's audit trail with its lists (indicators, CSE models, agencies) in columns."""

from __future__ import annotations

import csv
import io

import pytest

from domain.csv_export import LIST_SEPARATOR, audit_trail_csv, csv_table, inert
from domain.status import HistoryEntry
from domain.vocabulary import Indicator
from tests.domain.builders import (
    T,
    complete_assessment,
    decide,
    open_case,
    record,
    screening,
    strategy_discussion,
)


@pytest.mark.parametrize("start", ["=", "+", "-", "@", "\t", "\r"])
def test_a_cell_that_would_start_a_formula_is_written_as_text(start: str) -> None:
    assert inert(f"{start}HYPERLINK(1)") == f"'{start}HYPERLINK(1)"


def test_other_cells_are_written_as_they_are() -> None:
    assert [inert(c) for c in ("", "A=1", "sw-7", "2026-11-27T10:00:00+00:00")] == [
        "",
        "A=1",
        "sw-7",
        "2026-11-27T10:00:00+00:00",
    ]


def test_a_table_reads_back_with_crlf_line_ends_and_quoted_cells() -> None:
    text = csv_table(["a", "b"], [["=1+1", 'say "no", twice'], ["x", "line\nbreak"]])

    assert text.startswith("a,b\r\n'=1+1,")
    assert list(csv.reader(io.StringIO(text, newline=""))) == [
        ["a", "b"],
        ["'=1+1", 'say "no", twice'],
        ["x", "line\nbreak"],
    ]


# ---- a case's audit trail -----------------------------------------------------------------


def trail_rows(history: list[HistoryEntry]) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(audit_trail_csv(history), newline="")))


def test_the_audit_trail_has_a_column_for_each_list_a_detail_may_hold() -> None:
    case = open_case()
    record(case, decide("assess"), screening(2), complete_assessment(), strategy_discussion())
    text = audit_trail_csv(case.status().history)
    assert text.startswith("event,at,recorded_at,actor,details,indicators,cse_models,agencies\r\n")
    rows = {r["event"]: r for r in trail_rows(case.status().history)}
    assert rows["decide"]["details"] == "decision=assess"
    assert rows["record_screening"]["details"] == "score=2; complex=False"
    assert rows["record_screening"]["indicators"] == "running_away"
    assert rows["record_screening"]["agencies"] == ""
    assert rows["record_strategy_discussion"]["details"] == "outcome=s47; chair_role=team_manager"
    assert rows["record_strategy_discussion"]["agencies"] == "police; health; education"
    assert rows["record_strategy_discussion"]["indicators"] == ""


def test_lists_are_joined_in_the_order_recorded_and_read_back() -> None:
    chosen = [Indicator.use_of_technology, Indicator.running_away, Indicator.sexual_health]
    entry = HistoryEntry(
        event="record_screening",
        at=T.screened,
        recorded_at=T.screened,
        actor="sw-1",
        details={"score": 3, "indicators": [i.value for i in chosen], "cse_models": []},
    )
    [row] = trail_rows([entry])
    assert row["indicators"].split(LIST_SEPARATOR) == [i.value for i in chosen]
    assert row["cse_models"] == ""
    assert row["details"] == "score=3"


def test_an_agency_that_would_start_a_formula_is_written_as_text() -> None:
    entry = HistoryEntry(
        event="record_strategy_discussion",
        at=T.strategy_held,
        recorded_at=T.strategy_held,
        actor="tm-1",
        details={"outcome": "s47", "agencies": ["=HYPERLINK(1)", "police"]},
    )
    [row] = trail_rows([entry])
    assert row["agencies"] == "'=HYPERLINK(1); police"
