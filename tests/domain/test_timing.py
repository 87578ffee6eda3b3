"""One rule for "in the future" (domain/timing.py): the policy's clock-skew tolerance."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from domain.policy import Policy, PolicyBook
from domain.timing import is_in_the_future, received_in_the_future

NOW = datetime(2026, 11, 27, 10, 0, tzinfo=UTC)


def test_a_time_within_the_policy_s_clock_skew_is_not_in_the_future() -> None:
    policy = Policy(clock_skew_minutes=5)

    assert not is_in_the_future(NOW + timedelta(minutes=5), NOW, policy)
    assert is_in_the_future(NOW + timedelta(minutes=5, seconds=1), NOW, policy)
    assert is_in_the_future(NOW + timedelta(seconds=1), NOW, Policy(clock_skew_minutes=0))


def test_a_referral_is_judged_by_the_policy_in_force_on_the_day_it_was_received() -> None:
    book = PolicyBook(
        versions=[
            Policy(version="strict", effective_from=date(2018, 2, 1), clock_skew_minutes=0),
            Policy(version="lenient", effective_from=date(2026, 11, 27), clock_skew_minutes=30),
        ]
    )
    ahead = NOW + timedelta(minutes=20)

    assert not received_in_the_future(ahead, book, NOW)
    assert received_in_the_future(
        NOW - timedelta(days=1) + timedelta(minutes=1), book, NOW - timedelta(days=1)
    )
