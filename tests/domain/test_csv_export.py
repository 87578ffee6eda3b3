"""The one CSV writer (domain/csv_export.py): RFC 4180 text, no cell a spreadsheet would run."""

from __future__ import annotations

import csv
import io

import pytest

from domain.csv_export import csv_table, inert


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
