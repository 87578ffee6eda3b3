"""CSV for spreadsheets, the one writer of every CSV the service hands out (a case's audit
trail, the panel's agenda): RFC 4180 text (CRLF line ends), and no cell a spreadsheet would
run as a formula (CSV injection): a cell starting with `=`, `+`, `-`, `@`, a tab or a
carriage return is written with a leading `'`, so it is shown as the text it is.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


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
