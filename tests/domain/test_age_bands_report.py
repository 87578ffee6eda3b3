"""The oversight report counts open cases by the child's age band at referral (docs/rules.md,
The MASE panel): aggregates only, never an age or a date of birth."""

from __future__ import annotations

from datetime import date

from domain.oversight import CaseFacts, oversight
from domain.panel_documents import report_html, report_json
from tests.domain.builders import close, london, open_case, record

AS_OF = london(2026, 9, 8, 9)
BORN_AT_11 = date(2014, 8, 1)  # ages on the default referral day, 28 August 2026
BORN_AT_14 = date(2012, 3, 3)
BORN_AT_16 = date(2010, 8, 28)
BORN_AT_17 = date(2009, 1, 15)


def facts(referral_id: str, born: date | None, closed: bool = False) -> CaseFacts:
    case = open_case(referral_id=referral_id, date_of_birth=born)
    if closed:
        record(case, close())
    return CaseFacts.from_status(case.status())


def test_open_cases_are_counted_by_age_band_and_unknown_without_a_date_of_birth() -> None:
    cases = [
        facts("A", BORN_AT_11),
        facts("B", BORN_AT_14),
        facts("C", BORN_AT_16),
        facts("D", BORN_AT_17),
        facts("E", None),
        facts("F", BORN_AT_14, closed=True),
    ]
    report = oversight(cases, AS_OF)
    assert report.open_by_age_band == {"under 13": 1, "13-15": 1, "16-17": 2, "unknown": 1}


def test_the_report_shows_the_bands_and_no_date_of_birth_or_age() -> None:
    report = oversight([facts("A", BORN_AT_16), facts("B", None)], AS_OF)
    html, text = report_html("MASE", report), report_json(report)
    assert "By age at referral" in html
    assert "<td>16-17</td>" in html
    for document in (html, text):
        assert BORN_AT_16.isoformat() not in document
    assert "age_at_referral" not in text
    assert BORN_AT_16.isoformat() not in facts("A", BORN_AT_16).model_dump_json()


def test_facts_read_by_a_panel_before_the_bands_count_as_unknown() -> None:
    old = facts("A", BORN_AT_16).model_dump(exclude={"age_band"})
    assert CaseFacts.model_validate(old).age_band == "unknown"
