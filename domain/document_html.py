"""The HTML the panel's documents are made of: a page that stands alone and prints on A4, its
tables, links to cases, and the two parts the dashboard takes to show a document inside its
own frame (`framed`).

Everything is escaped here: a team name or a recorded reason is data, never markup. A page's
content sits in `<main class="panel-document">`, so what `framed` hands the dashboard is
exactly what this module wrote (earlier documents have no `<main>`: their `<body>` is taken).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from html import escape, unescape
from typing import NamedTuple
from urllib.parse import quote

CASE_PAGE = "/dashboard/cases/"


class CaseLink(NamedTuple):
    """A referral id in a table, linked to its case page for a reader who may open it."""

    referral_id: str
    team: str


Cell = str | int | CaseLink

_STYLE = (
    "body{font-family:sans-serif;margin:2em;color:#1d2530}"
    "table{border-collapse:collapse;margin:1em 0}"
    "th,td{border:1px solid #bbb;padding:4px 8px;text-align:left}"
    "th{background:#e9edf2}td.n{text-align:right}"
    "figure{margin:1em 0}svg{max-width:100%;height:auto}"
    "@media print{@page{size:A4;margin:14mm 12mm}body{margin:0;font-size:10pt}"
    "a{color:#000;text-decoration:none}thead{display:table-header-group}"
    "tr,figure{break-inside:avoid}h2,h3{break-after:avoid}}"
)
_OPEN = '<main class="panel-document">'
_CLOSE = "</main>"


def page(title: str, body: Iterable[str]) -> str:
    return (
        '<!DOCTYPE html>\n<html lang="en-GB"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)}</title><style>{_STYLE}</style></head>"
        f"<body>{_OPEN}<h1>{escape(title)}</h1>{''.join(body)}{_CLOSE}</body></html>\n"
    )


def table(headers: list[str], rows: list[list[Cell]], caption: str | None = None) -> str:
    """A table with a header row; a row saying "None" when there are no rows."""
    head = "".join(f'<th scope="col">{escape(h)}</th>' for h in headers)
    cells = ["".join(map(_cell, row)) for row in rows]
    if not cells:
        cells = [f'<td colspan="{len(headers)}">None</td>']
    told = f"<caption>{escape(caption)}</caption>" if caption else ""
    body = "".join(f"<tr>{c}</tr>" for c in cells)
    return f"<table>{told}<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _cell(value: Cell) -> str:
    if isinstance(value, CaseLink):
        return f"<td>{case_link(value)}</td>"
    if isinstance(value, int):
        return f'<td class="n">{value}</td>'
    return f"<td>{escape(value)}</td>"


def case_link(link: CaseLink) -> str:
    href = CASE_PAGE + quote(link.referral_id, safe="")
    return (
        f'<a class="case-link" href="{escape(href)}" data-team="{escape(link.team)}">'
        f"{escape(link.referral_id)}</a>"
    )


_CASE_LINK = re.compile(r'<a class="case-link" href="[^"]*" data-team="([^"]*)">([^<]*)</a>')


def unlink_cases(content: str, may_open: Callable[[str], bool]) -> str:
    """`content` with the case links of teams `may_open` refuses made plain referral ids."""

    def kept(found: re.Match[str]) -> str:
        return found[0] if may_open(unescape(found[1])) else found[2]

    return _CASE_LINK.sub(kept, content)


class Framed(NamedTuple):
    title: str  # as text: the frame escapes it again
    content: str  # markup this module wrote: the heading and everything after it


_TITLE = re.compile(r"<title>([^<]*)</title>")


def framed(document: str) -> Framed:
    """The title and the content of a document `page` wrote, for the dashboard's frame."""
    title = _TITLE.search(document)
    body = document.partition("<body>")[2].rpartition("</body>")[0]
    if body.startswith(_OPEN) and body.endswith(_CLOSE):
        body = body[len(_OPEN) : -len(_CLOSE)]
    return Framed(title=unescape(title[1]) if title else "", content=body)
