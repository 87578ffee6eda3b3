"""Earlier referrals of the same child, and whether a referral is a re-referral (docs/rules.md,
One child across referrals): the Children in Need census counts a referral received within the 12
months after an earlier referral of the same child.

The earlier cases are found once, when a case opens (activities/cases.py, through the keyed
child index); what is kept of them is what this module makes of that answer, so a case reads
the same on every replay.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterable
from datetime import datetime

from domain.status import EarlierReferral

RE_REFERRAL_MONTHS = 12


def months_before(moment: datetime, months: int) -> datetime:
    """The same time of day `months` calendar months before (the 31st falls back to the last
    day of a shorter month, and 29 February to the 28th)."""
    month_index = moment.year * 12 + moment.month - 1 - months
    year, month = divmod(month_index, 12)
    day = min(moment.day, _days_in(year, month + 1))
    return moment.replace(year=year, month=month + 1, day=day)


def _days_in(year: int, month: int) -> int:
    return calendar.monthrange(year, month)[1]


def earlier_referrals(
    received_at: datetime, found: Iterable[EarlierReferral]
) -> list[EarlierReferral]:
    """The cases found that were received before this referral (up to the same moment),
    oldest first; a case received after it is a later referral, not an earlier one."""
    before = [other for other in found if other.received_at <= received_at]
    return sorted(before, key=lambda other: (other.received_at, other.referral_id))


def is_re_referral(received_at: datetime, earlier: Iterable[EarlierReferral]) -> bool:
    """Was an earlier referral of the child received within the 12 months before this one?"""
    since = months_before(received_at, RE_REFERRAL_MONTHS)
    return any(since <= other.received_at <= received_at for other in earlier)
