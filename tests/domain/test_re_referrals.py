"""Re-referrals (issue 19, item 2; docs/rules.md, One child across referrals): a referral received
within the 12 months after an earlier referral of the same child is a re-referral (the Children in
Need census definition); a case keeps only the cases received before it as its earlier referrals."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from domain.re_referrals import earlier_referrals, is_re_referral, months_before
from domain.status import EarlierReferral
from domain.vocabulary import Stage

RECEIVED = datetime(2026, 6, 15, 10, 0, tzinfo=UTC)


def referred(at: datetime, referral_id: str = "R-1") -> EarlierReferral:
    return EarlierReferral(referral_id=referral_id, received_at=at, stage=Stage.closed)


@pytest.mark.parametrize(
    ("moment", "months", "expected"),
    [
        (datetime(2026, 6, 15, 10, tzinfo=UTC), 12, datetime(2025, 6, 15, 10, tzinfo=UTC)),
        (datetime(2028, 2, 29, 9, tzinfo=UTC), 12, datetime(2027, 2, 28, 9, tzinfo=UTC)),
        (datetime(2026, 5, 31, tzinfo=UTC), 3, datetime(2026, 2, 28, tzinfo=UTC)),
        (datetime(2026, 1, 10, tzinfo=UTC), 1, datetime(2025, 12, 10, tzinfo=UTC)),
    ],
)
def test_months_before_counts_calendar_months(
    moment: datetime, months: int, expected: datetime
) -> None:
    assert months_before(moment, months) == expected


def test_a_referral_three_months_after_another_is_a_re_referral() -> None:
    assert is_re_referral(RECEIVED, [referred(RECEIVED - timedelta(days=91))])


def test_one_received_exactly_twelve_months_before_still_counts() -> None:
    assert is_re_referral(RECEIVED, [referred(datetime(2025, 6, 15, 10, tzinfo=UTC))])


def test_one_received_more_than_twelve_months_before_does_not() -> None:
    a_year_and_a_day = datetime(2025, 6, 14, 10, tzinfo=UTC)

    assert not is_re_referral(RECEIVED, [referred(a_year_and_a_day)])


def test_no_earlier_referral_is_no_re_referral() -> None:
    assert not is_re_referral(RECEIVED, [])


def test_earlier_referrals_are_those_received_before_oldest_first() -> None:
    found = [
        referred(RECEIVED - timedelta(days=10), "R-2"),
        referred(RECEIVED + timedelta(days=1), "R-LATER"),
        referred(RECEIVED - timedelta(days=400), "R-1"),
    ]

    kept = earlier_referrals(RECEIVED, found)

    assert [e.referral_id for e in kept] == ["R-1", "R-2"]


def test_a_later_referral_found_is_not_a_re_referral_of_this_one() -> None:
    later = [referred(RECEIVED + timedelta(days=30))]

    assert not is_re_referral(RECEIVED, earlier_referrals(RECEIVED, later))


def test_times_in_other_offsets_compare_as_instants() -> None:
    london = RECEIVED.astimezone(ZoneInfo("Europe/London"))

    assert is_re_referral(london, [referred(RECEIVED - timedelta(days=364))])
