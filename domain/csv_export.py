"""CSV for spreadsheets, the one writer of every CSV the service hands out (a case's audit
trail, the panel's agenda): RFC 4180 text (CRLF line ends), and no cell a spreadsheet would
run as a formula (CSV injection): a cell starting with `=`, `+`, `-`, `@`, a tab or a
carriage return is written with a leading `'`, so it is shown as the text it is.

A list in one cell (a screening's indicators, a strategy discussion's agencies) is written
joined by `LIST_SEPARATOR`, in the order recorded.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence

from domain.status import HistoryEntry

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
LIST_SEPARATOR = "; "
AUDIT_LIST_COLUMNS = ("indicators", "cse_models", "agencies")
"""Details that are lists, each in a column of its own (empty where the event has none)."""
AUDIT_TRAIL_COLUMNS = ("event", "at", "recorded_at", "actor", "details", *AUDIT_LIST_COLUMNS)


def inert(cell: str) -> str:
    """The cell as a spreadsheet will show it, never run it."""
    return "'" + cell if cell.startswith(FORMULA_STARTS) else cell


def csv_table(header: Sequence[str], rows: Iterable[Sequence[str]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([inert(cell) for cell in header])
    for row in rows:
        writer.writerow([inert(cell) for cell in row])
    return out.getvalue()


def detail_text(value: str | int | bool | list[str] | None) -> str:
    """One audit detail as a person reads it: a list joined, nothing for None."""
    if isinstance(value, list):
        return LIST_SEPARATOR.join(value)
    return "" if value is None else str(value)


def audit_trail_csv(history: Iterable[HistoryEntry]) -> str:
    """A case's audit trail: one row per event; its other details as `key=value; ...`."""
    return csv_table(AUDIT_TRAIL_COLUMNS, [_audit_row(entry) for entry in history])


def _audit_row(entry: HistoryEntry) -> list[str]:
    others = {k: v for k, v in entry.details.items() if k not in AUDIT_LIST_COLUMNS}
    details = "; ".join(f"{k}={detail_text(v)}" for k, v in others.items())
    lists = [detail_text(entry.details.get(column)) for column in AUDIT_LIST_COLUMNS]
    return [
        entry.event,
        entry.at.isoformat(),
        entry.recorded_at.isoformat(),
        entry.actor,
        details,
        *lists,
    ]
