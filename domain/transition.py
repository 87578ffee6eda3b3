"""Age and the move to adult services (docs/rules.md, Clocks): when a child reaches the age
at which the `transition_planning` clock opens, and the age bands the oversight report counts.

Exploitation does not stop at 18, so planning starts before it (17 years 6 months by the
policy's default). Only a referral that carries a date of birth has any of this.
"""

from __future__ import annotations

import calendar
from datetime import date, datetime, time, timedelta

from domain.calendar import LONDON
from domain.policy import Policy
from domain.referral import LATEST_REFERRAL, Referral

AGE_BANDS = ("under 13", "13-15", "16-17", "unknown")
"""The oversight report's age bands at referral, in the order it shows them."""


def day_reached(born: date, months: int) -> date:
    """The day a child born on `born` is `months` months old. A day the month lacks counts on
    the 1st of the next month, as `years_between` counts a 29 February birthday on 1 March."""
    index = born.month - 1 + months
    year, month = born.year + index // 12, index % 12 + 1
    last = calendar.monthrange(year, month)[1]
    if born.day > last:
        return date(year, month, last) + timedelta(days=1)
    return date(year, month, born.day)


def transition_opens_at(referral: Referral, policy: Policy) -> datetime | None:
    """The start of the day (London) the child reaches the policy's transition age; None
    without a date of birth, or when that day lies beyond the working-day calendar's years."""
    born = referral.date_of_birth
    if born is None:
        return None
    day = day_reached(born, policy.transition_planning_from_months)
    opens_at = datetime.combine(day, time(0), tzinfo=LONDON)  # midnight exists every day
    return opens_at if opens_at < LATEST_REFERRAL else None


def age_band(age: int | None) -> str:
    """The band of an age at referral (whole years); "unknown" without a date of birth."""
    if age is None:
        return AGE_BANDS[3]
    if age < 13:
        return AGE_BANDS[0]
    return AGE_BANDS[1] if age < 16 else AGE_BANDS[2]
