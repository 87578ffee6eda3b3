"""Working-day calendar for pathway deadlines (England, Europe/London).

Statutory and local timescales in the pathway are expressed as "N working days",
"N calendar months" or "N hours". This module turns those phrases into concrete
Europe/London instants so workflows can schedule timers and escalations.

It is deliberately pure: no Temporal import, no I/O, no clock or environment
reads. Given the same inputs (and the same ``holidays`` package version) it
returns the same instants, which is what Temporal workflow replay requires.
"""

from __future__ import annotations

import calendar as _stdlib_calendar
from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import holidays

LONDON: ZoneInfo = ZoneInfo("Europe/London")
"""Every deadline is reckoned and reported in UK civil time."""

_END_OF_DAY = time(23, 59, 59)
_ONE_DAY = timedelta(days=1)

# year -> bank holidays in England that year, built once per process and kept.
_BANK_HOLIDAYS: dict[int, frozenset[date]] = {}
# Built in one go on first use (about 0.1 s): holidays reads its translation files while
# building, which a Temporal workflow sandbox forbids, so workers call `preload()` first.
PRELOADED_YEARS = range(1995, 2101)


def preload() -> None:
    """Build the bank holiday tables for PRELOADED_YEARS now, outside any sandbox."""
    if not _BANK_HOLIDAYS:
        _load(PRELOADED_YEARS)


def _load(years: Iterable[int]) -> None:
    """``subdiv="ENG"`` matters: plain "GB" omits Easter Monday and the August holiday."""
    wanted = list(years)
    table = holidays.country_holidays("GB", subdiv="ENG", years=wanted)
    by_year: dict[int, set[date]] = {year: set() for year in wanted}
    for day in table:
        by_year[day.year].add(day)
    _BANK_HOLIDAYS.update({year: frozenset(days) for year, days in by_year.items()})


def _bank_holidays(year: int) -> frozenset[date]:
    """Bank holidays in England for ``year``."""
    preload()
    if year not in _BANK_HOLIDAYS:
        _load([year])
    return _BANK_HOLIDAYS[year]


def _require_aware(value: datetime, name: str) -> None:
    """Reject naive datetimes: a naive time has no defined London date."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be a timezone-aware datetime, got naive {value!r}")


def _require_plain_date(value: date, name: str) -> None:
    """Reject datetimes where a date is expected.

    ``datetime`` subclasses ``date`` but never compares equal to one, so a
    datetime would silently miss the holiday set and be called a working day.
    """
    if isinstance(value, datetime):
        raise TypeError(f"{name} must be a date, not a datetime (use .astimezone(LONDON).date())")


def _london_date(moment: datetime, name: str) -> date:
    """The civil date in London at ``moment``: the day all day-counting starts from."""
    _require_aware(moment, name)
    return moment.astimezone(LONDON).date()


def end_of_day(day: date) -> datetime:
    """23:59:59 Europe/London on ``day``: when a day-based deadline expires.

    23:59:59 always exists exactly once in London (clocks change at 01:00-02:00),
    so the result is never ambiguous or imaginary.
    """
    _require_plain_date(day, "day")
    return datetime.combine(day, _END_OF_DAY, tzinfo=LONDON)


def _clamped_month_date(day: date, months: int) -> date:
    """Same day-of-month ``months`` later, clamped to that month's last day."""
    month_index = day.month - 1 + months
    year = day.year + month_index // 12
    month = month_index % 12 + 1
    last_day = _stdlib_calendar.monthrange(year, month)[1]
    return date(year, month, min(day.day, last_day))


class WorkingDayCalendar:
    """Working days in England: Monday to Friday, minus bank holidays and closures.

    ``extra_closures`` lets a local authority add its own non-working dates
    (for example an office closure day between Christmas and New Year).
    """

    def __init__(self, extra_closures: Iterable[date] = ()) -> None:
        closures = tuple(extra_closures)
        for closure in closures:
            _require_plain_date(closure, "extra_closures item")
        self._closures: frozenset[date] = frozenset(closures)

    def is_working_day(self, day: date) -> bool:
        """True for a weekday that is neither a bank holiday nor a local closure."""
        _require_plain_date(day, "day")
        if day.weekday() >= 5 or day in self._closures:
            return False
        return day not in _bank_holidays(day.year)

    def _step_working_days(self, start: date, days: int) -> date:
        """The ``|days|``-th working day after (or before, if negative) ``start``.

        ``start`` itself is never counted, matching "N working days after D".
        """
        step = _ONE_DAY if days > 0 else -_ONE_DAY
        remaining = abs(days)
        day = start
        while remaining:
            day += step
            if self.is_working_day(day):
                remaining -= 1
        return day

    def _previous_or_same_working_day(self, day: date) -> date:
        """``day`` if it is a working day, else the nearest working day before it."""
        while not self.is_working_day(day):
            day -= _ONE_DAY
        return day

    def add_working_days(self, moment: datetime, days: int) -> datetime:
        """End of the ``days``-th working day after ``moment``'s London date.

        The day of ``moment`` is never counted, whatever the time, so a referral
        at 09:00 and one at 23:00 on the same day share a deadline.
        """
        if days < 1:
            raise ValueError(f"days must be >= 1, got {days}")
        start = _london_date(moment, "moment")
        return end_of_day(self._step_working_days(start, days))

    def shift_working_days(self, moment: datetime, days: int) -> datetime:
        """Same London wall-clock time ``|days|`` working days after/before ``moment``.

        Used for escalation ladder steps ("1 working day before due", "2 working
        days after due"). The target is always a weekday and UK clocks change
        only on Sundays, so the wall time always exists exactly once; the
        elapsed duration may therefore differ from a multiple of 24 hours.
        """
        _require_aware(moment, "moment")
        local = moment.astimezone(LONDON)
        if days == 0:
            return local
        target = self._step_working_days(local.date(), days)
        return datetime.combine(target, local.time(), tzinfo=LONDON)

    def add_calendar_months(self, moment: datetime, months: int) -> datetime:
        """End of the same day-of-month ``months`` on, backed off to a working day.

        A short month clamps to its last day (31 Jan + 1 month -> 28/29 Feb).
        If that date is not a working day the deadline moves to the previous
        working day, so it never lands on a day nobody is at work.
        """
        if months < 1:
            raise ValueError(f"months must be >= 1, got {months}")
        start = _london_date(moment, "moment")
        target = _clamped_month_date(start, months)
        return end_of_day(self._previous_or_same_working_day(target))

    def add_hours(self, moment: datetime, hours: int) -> datetime:
        """Exactly ``hours`` elapsed hours after ``moment``, returned in London time.

        The arithmetic is done in UTC: adding a timedelta to a Europe/London
        datetime adds wall-clock time and is an hour out across a DST change.
        """
        _require_aware(moment, "moment")
        elapsed = moment.astimezone(UTC) + timedelta(hours=hours)
        return elapsed.astimezone(LONDON)

    def working_days_between(self, start: datetime, end: datetime) -> int:
        """Working days after ``start``'s London date up to and including ``end``'s.

        The inverse of :meth:`add_working_days`; 0 when ``end`` is not on a later
        London date than ``start``.
        """
        first = _london_date(start, "start")
        last = _london_date(end, "end")
        count = 0
        day = first + _ONE_DAY
        while day <= last:
            if self.is_working_day(day):
                count += 1
            day += _ONE_DAY
        return count
