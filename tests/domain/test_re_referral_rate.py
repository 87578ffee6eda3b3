"""The oversight report's re-referrals (issue 19, item 2; docs/rules.md, One child across
referrals): the rate among the referrals received in the last 12 months and re-referrals per month
in the trend, counts only (no referral id of any case in the report)."""

from __future__ import annotations

from datetime import datetime

from domain.oversight import CaseFacts, oversight
from domain.panel_documents import report_html
from domain.vocabulary import Stage
from tests.domain.builders import london

AS_OF = london(2026, 9, 8, 9)


def referral(referral_id: str, received_at: datetime, re_referral: bool) -> CaseFacts:
    return CaseFacts(
        referral_id=referral_id,
        stage=Stage.assessment,
        risk_score=None,
        team="TEAM-A",
        received_at=received_at,
        next_due=None,
        overdue=False,
        mase_referred=False,
        mase_blocker=None,
        clocks=[],
        missing_episodes=[],
        re_referral=re_referral,
    )


CASES = [
    referral("R-1", london(2026, 9, 1, 10), re_referral=True),
    referral("R-2", london(2026, 9, 2, 10), re_referral=False),
    referral("R-3", london(2026, 6, 2, 10), re_referral=True),
    referral("R-4", london(2026, 1, 5, 10), re_referral=False),
    referral("R-OLD", london(2025, 6, 5, 10), re_referral=True),  # before the 12 months
]


def test_the_rate_is_of_the_referrals_received_in_the_last_12_months() -> None:
    report = oversight(CASES, AS_OF)

    assert report.re_referrals_last_12_months == 2
    assert report.re_referral_rate == 50.0


def test_the_trend_counts_re_referrals_in_the_month_they_were_received() -> None:
    trend = {m.month: m.re_referrals for m in oversight(CASES, AS_OF).trend}

    assert trend["2026-09"] == 1
    assert trend["2026-06"] == 1
    assert trend["2026-01"] == 0
    assert sum(trend.values()) == 2


def test_no_referral_received_gives_no_rate() -> None:
    assert oversight([], AS_OF).re_referral_rate is None


def test_the_report_gives_the_rate_and_its_trend_without_naming_a_case() -> None:
    page = report_html("MASE", oversight(CASES, AS_OF))

    assert "<h2>Re-referrals, last 12 months: 50.0%</h2>" in page
    assert 'id="re-referrals"' in page
    assert "R-1" not in page
    assert "R-3" not in page


def test_facts_read_before_re_referrals_still_load() -> None:
    recorded = referral("R-9", AS_OF, False).model_dump(mode="json")
    del recorded["re_referral"]

    assert CaseFacts.model_validate(recorded).re_referral is False
