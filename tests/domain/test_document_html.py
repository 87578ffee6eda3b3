"""The panel documents' HTML: what the dashboard frames, and which case links it keeps."""

from __future__ import annotations

from domain.charts import summary
from domain.document_html import CaseLink, framed, page, table, unlink_cases


def test_a_page_is_framed_as_its_title_and_content() -> None:
    document = page("MASE <panel> agenda", [table(["Referral"], [[CaseLink("R-1", "T&1")]])])

    shown = framed(document)

    assert shown.title == "MASE <panel> agenda"
    assert shown.content.startswith("<h1>MASE &lt;panel&gt; agenda</h1>")
    assert '<a class="case-link" href="/dashboard/cases/R-1" data-team="T&amp;1">R-1</a>' in (
        shown.content
    )
    assert "<main" not in shown.content  # the dashboard has its own


def test_a_document_built_before_the_frame_is_framed_from_its_body() -> None:
    older = "<!DOCTYPE html>\n<html><head><title>A</title></head><body><h1>A</h1><p>x</p></body>"

    assert framed(older).content == "<h1>A</h1><p>x</p>"


def test_case_links_of_a_team_the_reader_may_not_open_become_plain_ids() -> None:
    content = table(["Referral"], [[CaseLink("R-1", "T&1")], [CaseLink("R-2", "B")]])

    kept = unlink_cases(content, lambda team: team == "T&1")

    assert 'href="/dashboard/cases/R-1"' in kept
    assert "/dashboard/cases/R-2" not in kept
    assert "<td>R-2</td>" in kept


def test_a_chart_in_words() -> None:
    assert summary([("Jan", 1), ("Feb", 4), ("Mar", 0)], "months") == (
        "3 months, Jan to Mar: 5 in all; the most, 4, in Feb."
    )
    assert summary([("Jan", 0), ("Feb", 0)], "months") == "2 months, Jan to Feb: none in any."
