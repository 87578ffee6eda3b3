"""The caseload's visibility queries and page tokens, and the CSV audit trail, without a server."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

import pytest

from domain.csv_export import audit_trail_csv
from domain.status import HistoryEntry
from domain.vocabulary import Stage
from edge.caseload import (
    CaseFilter,
    CaseloadError,
    CaseSummary,
    Cursor,
    RecentListings,
    case_query,
    sort_key,
)

AT = datetime(2026, 11, 27, 10, 0, tzinfo=UTC)
NO_CLIENT: Any = None  # the stand-in reads need no Temporal client


def summary(referral_id: str, next_due: datetime | None) -> CaseSummary:
    return CaseSummary(
        referral_id=referral_id,
        stage=Stage.assessment,
        risk_score=None,
        team="T",
        overdue=False,
        next_due=next_due,
        complex=False,
        mase_referred=False,
    )


def test_every_filter_becomes_a_clause_on_a_search_attribute() -> None:
    wanted = CaseFilter(stage=Stage.review, risk_score=2, team="RAI-2", overdue=True, due_before=AT)

    assert case_query("cse-referrals", wanted) == (
        "WorkflowType = 'ReferralWorkflow' AND TaskQueue = 'cse-referrals' "
        "AND ExecutionStatus != 'Failed' "
        "AND CseStage = 'review' AND CseRiskScore = 2 AND CseTeam = 'RAI-2' "
        "AND CseOverdue = true AND CseNextDue < '2026-11-27T10:00:00Z'"
    )


def test_a_team_name_cannot_break_out_of_its_string() -> None:
    query = case_query("q", CaseFilter(team="St John's' OR CseTeam != '\\"))

    assert query.endswith("CseTeam = 'St John\\'s\\' OR CseTeam != \\'\\\\'")


def test_cases_sort_by_next_due_then_referral_id_with_no_due_last() -> None:
    later = datetime(2026, 12, 1, tzinfo=UTC)
    cases = [summary("C", None), summary("B", later), summary("A", later), summary("D", AT)]

    assert [c.referral_id for c in sorted(cases, key=sort_key)] == ["D", "A", "B", "C"]


def test_a_page_token_round_trips_and_narrows_the_next_query() -> None:
    query = case_query("q", CaseFilter(overdue=True))
    token = Cursor.after(summary("A", AT), query).encode()

    cursor = Cursor.decode(token, query)

    assert cursor.key() == sort_key(summary("A", AT))
    assert cursor.narrowing() == (
        " AND ((CseNextDue >= '2026-11-27T09:59:59.999500Z' "
        "AND CseNextDue < '2026-11-27T10:00:00.000500Z' AND WorkflowId > 'referral-A') "
        "OR CseNextDue >= '2026-11-27T10:00:00.000500Z' OR CseNextDue IS NULL)"
    )
    assert Cursor.after(summary("Z", None), query).narrowing() == (
        " AND (CseNextDue IS NULL AND WorkflowId > 'referral-Z')"
    )


@pytest.mark.parametrize("token", ["", "not base64!", "eyJmb28iOiAxfQ", "e30"])
def test_a_token_that_is_not_ours_is_refused_naming_the_field(token: str) -> None:
    with pytest.raises(CaseloadError, match="next_page_token"):
        Cursor.decode(token or "x", "query")


def test_a_token_from_another_listing_is_refused() -> None:
    token = Cursor.after(summary("A", AT), "one query").encode()

    with pytest.raises(CaseloadError, match="other filters"):
        Cursor.decode(token, "another query")


def test_the_csv_audit_trail_cannot_smuggle_a_formula() -> None:
    entry = HistoryEntry(
        event="allocate",
        at=AT,
        recorded_at=AT,
        actor="=HYPERLINK(1)",
        details={"social_worker": "+sw", "team": "T"},
    )

    lines = audit_trail_csv([entry]).splitlines()

    assert lines[0] == "event,at,recorded_at,actor,details,indicators,cse_models,agencies"
    assert lines[1] == (
        "allocate,2026-11-27T10:00:00+00:00,2026-11-27T10:00:00+00:00,'=HYPERLINK(1),"
        "social_worker=+sw; team=T,,,"
    )


class Reads:
    """A stand-in for visibility: counts the reads, answers after a moment, or fails."""

    def __init__(self) -> None:
        self.count = 0
        self.fail = False

    async def __call__(self, client: Any, query: str) -> list[CaseSummary]:
        self.count += 1
        await asyncio.sleep(0.01)
        if self.fail:
            raise RuntimeError("visibility is down")
        return [summary(f"{query}-{self.count}", AT)]


async def test_recent_listings_share_one_read_per_query_within_their_age() -> None:
    now = [100.0]
    reads = Reads()
    recent = RecentListings(2.0, clock=lambda: now[0], read=reads)

    together = await asyncio.gather(*(recent.find(NO_CLIENT, "q") for _ in range(5)))
    again = await recent.find(NO_CLIENT, "q")
    other = await recent.find(NO_CLIENT, "other")
    now[0] += 2.0
    later = await recent.find(NO_CLIENT, "q")

    assert reads.count == 3
    assert {c[0].referral_id for c in together} == {"q-1"}
    assert again[0].referral_id == "q-1"
    assert other[0].referral_id == "other-2"
    assert later[0].referral_id == "q-3"


async def test_a_failed_read_is_not_kept_for_the_next_caller() -> None:
    reads = Reads()
    recent = RecentListings(60.0, read=reads)
    reads.fail = True

    with pytest.raises(RuntimeError):
        await recent.find(NO_CLIENT, "q")
    reads.fail = False
    found = await recent.find(NO_CLIENT, "q")

    assert found[0].referral_id == "q-2"
