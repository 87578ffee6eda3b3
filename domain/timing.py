"""When a time someone records counts as "in the future": one rule and one tolerance for
every check (intake, the API, the workflow's start, each event), the policy's
`clock_skew_minutes`, so that a device clock a little ahead of the server's is not refused.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from domain.policy import Policy, PolicyBook

IN_THE_FUTURE = "is in the future"


def is_in_the_future(moment: datetime, now: datetime, policy: Policy) -> bool:
    return moment > now + timedelta(minutes=policy.clock_skew_minutes)


def received_in_the_future(received_at: datetime, book: PolicyBook, now: datetime) -> bool:
    """A referral is judged by the policy its case would open under (in force on the day
    it was received)."""
    return is_in_the_future(received_at, now, book.in_force_on(received_at))
