"""Tests for the England working-day calendar (domain/calendar.py)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import holidays
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.calendar import LONDON, WorkingDayCalendar, end_of_day

CAL = WorkingDayCalendar()
BST = timezone(timedelta(hours=1))
EOD = time(23, 59, 59)

# Built directly from the holidays package, independently of domain.calendar.
# Inputs run 2020-2035 and up to 60 working days (or 12 months) beyond, so the
# set reaches well past 2036.
TEST_HOLIDAYS: frozenset[date] = frozenset(
    holidays.country_holidays("GB", subdiv="ENG", years=range(2019, 2039)).keys()
)


def independent_is_working(day: date) -> bool:
    return day.weekday() < 5 and day not in TEST_HOLIDAYS


def independent_add(start: date, n: int) -> date:
    day = start
    while n:
        day += timedelta(days=1)
        if independent_is_working(day):
            n -= 1
    return day


def independent_subtract(start: date, n: int) -> date:
    day = start
    while n:
        day -= timedelta(days=1)
        if independent_is_working(day):
            n -= 1
    return day


def longest_non_working_run(first: date, last: date) -> int:
    longest = run = 0
    day = first
    while day <= last:
        run = 0 if independent_is_working(day) else run + 1
        longest = max(longest, run)
        day += timedelta(days=1)
    return longest


def london(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0, us: int = 0
) -> datetime:
    return datetime(year, month, day, hour, minute, second, us, tzinfo=LONDON)


def assert_end_of(result: datetime, day: date) -> None:
    assert result.tzinfo is LONDON
    assert result.date() == day
    assert result.time() == EOD


# --------------------------------------------------------------------------- worked examples


@pytest.mark.parametrize("hour", [0, 9, 17, 23])
def test_christmas_2026_plus_one(hour: int) -> None:
    # Fri 25 Dec Christmas, Sat/Sun, Mon 28 Dec substitute Boxing Day.
    assert_end_of(CAL.add_working_days(london(2026, 12, 24, hour), 1), date(2026, 12, 29))


def test_christmas_2026_plus_three() -> None:
    assert_end_of(CAL.add_working_days(london(2026, 12, 24, 10), 3), date(2026, 12, 31))


def test_good_friday_2027_plus_one_is_end_of_tuesday_in_bst() -> None:
    result = CAL.add_working_days(london(2027, 3, 26, 11), 1)
    assert_end_of(result, date(2027, 3, 30))  # Easter Monday 29 Mar skipped
    assert result.utcoffset() == timedelta(hours=1)
    assert result.astimezone(UTC) == datetime(2027, 3, 30, 22, 59, 59, tzinfo=UTC)


@pytest.mark.parametrize(("days", "expected"), [(1, date(2026, 9, 1)), (3, date(2026, 9, 3))])
def test_late_summer_bank_holiday_2026(days: int, expected: date) -> None:
    moment = datetime(2026, 8, 28, 16, 30, tzinfo=BST)  # Friday; Mon 31 Aug is a bank holiday
    assert_end_of(CAL.add_working_days(moment, days), expected)


def test_utc_evening_counts_from_london_date() -> None:
    moment = datetime(2026, 7, 1, 23, 30, tzinfo=UTC)  # Thu 2 Jul 00:30 BST
    assert_end_of(CAL.add_working_days(moment, 1), date(2026, 7, 3))
    same_instant_in_london = london(2026, 7, 2, 0, 30)
    assert CAL.add_working_days(same_instant_in_london, 1) == CAL.add_working_days(moment, 1)


def test_winter_utc_evening_is_still_same_london_date() -> None:
    moment = datetime(2026, 1, 14, 23, 30, tzinfo=UTC)  # Wed 14 Jan 23:30 GMT
    assert_end_of(CAL.add_working_days(moment, 1), date(2026, 1, 15))


def test_negative_offset_input_counts_from_london_date() -> None:
    moment = datetime(2026, 7, 2, 20, 0, tzinfo=ZoneInfo("America/New_York"))  # Fri 3 Jul 01:00 BST
    assert_end_of(CAL.add_working_days(moment, 1), date(2026, 7, 6))


def test_weekend_start_counts_from_next_working_day() -> None:
    assert_end_of(CAL.add_working_days(london(2026, 6, 13, 12), 1), date(2026, 6, 15))


# --------------------------------------------------------------------------- is_working_day


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (date(2026, 6, 15), True),  # Monday
        (date(2026, 6, 13), False),  # Saturday
        (date(2026, 6, 14), False),  # Sunday
        (date(2026, 4, 3), False),  # Good Friday
        (date(2026, 4, 6), False),  # Easter Monday (England only: needs subdiv="ENG")
        (date(2026, 8, 31), False),  # Late summer bank holiday (England only)
        (date(2026, 12, 28), False),  # Boxing Day substitute
        (date(2027, 12, 28), False),  # Boxing Day substitute (Christmas on Saturday)
        (date(2027, 1, 4), True),  # Scotland's 2 Jan substitute is not an England holiday
        (date(2022, 9, 19), False),  # one-off: State Funeral of Queen Elizabeth II
    ],
)
def test_is_working_day(day: date, expected: bool) -> None:
    assert CAL.is_working_day(day) is expected


def test_extra_closures_are_not_working_days() -> None:
    closure = date(2026, 12, 29)
    cal = WorkingDayCalendar(extra_closures=[closure])
    assert not cal.is_working_day(closure)
    assert CAL.is_working_day(closure)
    assert_end_of(cal.add_working_days(london(2026, 12, 24, 10), 1), date(2026, 12, 30))


def test_extra_closures_accept_any_iterable() -> None:
    cal = WorkingDayCalendar(extra_closures=(d for d in [date(2026, 6, 15)]))
    assert not cal.is_working_day(date(2026, 6, 15))


def test_is_working_day_rejects_datetime() -> None:
    # datetime subclasses date but never equals one, so it would miss the holiday set.
    with pytest.raises(TypeError, match="day"):
        CAL.is_working_day(london(2026, 12, 25, 12))


def test_extra_closures_reject_datetime() -> None:
    with pytest.raises(TypeError, match="extra_closures"):
        WorkingDayCalendar(extra_closures=[london(2026, 12, 29)])


# --------------------------------------------------------------------------- validation


def test_naive_moment_rejected_naming_argument() -> None:
    naive = datetime(2026, 6, 15, 9)
    with pytest.raises(ValueError, match="moment"):
        CAL.add_working_days(naive, 1)
    with pytest.raises(ValueError, match="moment"):
        CAL.shift_working_days(naive, 1)
    with pytest.raises(ValueError, match="moment"):
        CAL.shift_working_days(naive, 0)
    with pytest.raises(ValueError, match="moment"):
        CAL.add_calendar_months(naive, 1)
    with pytest.raises(ValueError, match="moment"):
        CAL.add_hours(naive, 1)


def test_working_days_between_names_naive_argument() -> None:
    aware = london(2026, 6, 15, 9)
    naive = datetime(2026, 6, 15, 9)
    with pytest.raises(ValueError, match="start"):
        CAL.working_days_between(naive, aware)
    with pytest.raises(ValueError, match="end"):
        CAL.working_days_between(aware, naive)


@pytest.mark.parametrize("days", [0, -1])
def test_add_working_days_requires_positive(days: int) -> None:
    with pytest.raises(ValueError, match="days"):
        CAL.add_working_days(london(2026, 6, 15, 9), days)


@pytest.mark.parametrize("months", [0, -1])
def test_add_calendar_months_requires_positive(months: int) -> None:
    with pytest.raises(ValueError, match="months"):
        CAL.add_calendar_months(london(2026, 6, 15, 9), months)


# --------------------------------------------------------------------------- end_of_day / DST


def test_end_of_day_offsets() -> None:
    winter = end_of_day(date(2026, 1, 15))
    summer = end_of_day(date(2026, 7, 15))
    assert winter.utcoffset() == timedelta(0)
    assert summer.utcoffset() == timedelta(hours=1)
    assert winter.time() == EOD
    assert summer.astimezone(UTC).time() == time(22, 59, 59)


@pytest.mark.parametrize(
    ("start", "days", "expected_day", "offset_hours"),
    [
        (london(2026, 3, 27, 10), 1, date(2026, 3, 30), 1),  # Fri GMT -> Mon after spring forward
        (london(2026, 10, 23, 10), 1, date(2026, 10, 26), 0),  # Fri BST -> Mon after fall back
        # Fri 20 Mar + 10: 23-27, 30, 31, 1, 2, (Good Fri 3, Easter Mon 6), 7.
        (london(2026, 3, 20, 10), 10, date(2026, 4, 7), 1),
        (london(2026, 10, 16, 10), 5, date(2026, 10, 23), 1),  # still BST on Fri 23 Oct
    ],
)
def test_add_working_days_across_dst(
    start: datetime, days: int, expected_day: date, offset_hours: int
) -> None:
    result = CAL.add_working_days(start, days)
    assert_end_of(result, expected_day)
    assert result.utcoffset() == timedelta(hours=offset_hours)


def test_add_hours_across_spring_forward() -> None:
    result = CAL.add_hours(london(2026, 3, 28, 12), 24)  # Sat 12:00 GMT
    assert result == datetime(2026, 3, 29, 13, 0, tzinfo=BST)
    assert result.tzinfo is LONDON
    assert (result.hour, result.utcoffset()) == (13, timedelta(hours=1))


def test_add_hours_across_fall_back() -> None:
    result = CAL.add_hours(london(2026, 10, 24, 12), 24)  # Sat 12:00 BST
    assert result == datetime(2026, 10, 25, 11, 0, tzinfo=UTC)
    assert (result.hour, result.utcoffset()) == (11, timedelta(0))


def test_add_hours_through_the_repeated_hour() -> None:
    start = datetime(2026, 10, 24, 23, 30, tzinfo=UTC)  # 00:30 BST on Sun 25 Oct
    first = CAL.add_hours(start, 1)  # 01:30 BST
    second = CAL.add_hours(start, 2)  # 01:30 GMT: same wall time, one hour later
    assert first.time() == second.time() == time(1, 30)
    assert (first.fold, second.fold) == (0, 1)
    assert second.astimezone(UTC) - first.astimezone(UTC) == timedelta(hours=1)


def test_add_hours_72_over_weekend_ignores_working_days() -> None:
    result = CAL.add_hours(datetime(2026, 12, 24, 15, 0, tzinfo=UTC), 72)
    assert result == london(2026, 12, 27, 15)


# --------------------------------------------------------------------------- calendar months


@pytest.mark.parametrize(
    ("start", "months", "expected"),
    [
        (london(2027, 1, 31, 9), 1, date(2027, 2, 26)),  # 28 Feb 2027 is a Sunday
        (london(2026, 6, 15, 9), 3, date(2026, 9, 15)),  # Tue, working day
        (london(2026, 7, 31, 9), 1, date(2026, 8, 28)),  # 31 Aug 2026 bank holiday (Mon)
        (london(2026, 11, 25, 9), 1, date(2026, 12, 24)),  # 25 Dec 2026 Christmas (Fri)
        (london(2027, 2, 28, 9), 1, date(2027, 3, 25)),  # Sun 28 Mar, Sat, Good Friday 26
        (london(2027, 11, 28, 9), 1, date(2027, 12, 24)),  # Tue 28 Dec 2027: 4 days back
        (london(2028, 1, 31, 9), 1, date(2028, 2, 29)),  # leap year, Tuesday
        (london(2026, 11, 15, 9), 3, date(2027, 2, 15)),  # across the year end
        (london(2026, 3, 31, 9), 12, date(2027, 3, 31)),  # a whole year
    ],
)
def test_add_calendar_months(start: datetime, months: int, expected: date) -> None:
    assert_end_of(CAL.add_calendar_months(start, months), expected)


def test_add_calendar_months_counts_from_london_date() -> None:
    moment = datetime(2026, 6, 30, 23, 30, tzinfo=UTC)  # Wed 1 Jul 00:30 BST
    # 1 Aug 2026 is a Saturday -> Fri 31 Jul (30 Jul would be the UTC-date answer).
    assert_end_of(CAL.add_calendar_months(moment, 1), date(2026, 7, 31))


def test_add_calendar_months_respects_extra_closures() -> None:
    cal = WorkingDayCalendar(extra_closures=[date(2026, 9, 15)])
    assert_end_of(cal.add_calendar_months(london(2026, 6, 15, 9), 3), date(2026, 9, 14))


# --------------------------------------------------------------------------- shift_working_days


def test_shift_one_working_day_before_due() -> None:
    due = CAL.add_working_days(london(2026, 12, 24, 10), 1)  # end of Tue 29 Dec
    assert CAL.shift_working_days(due, -1) == london(2026, 12, 24, 23, 59, 59)


def test_shift_two_working_days_after() -> None:
    result = CAL.shift_working_days(london(2026, 12, 24, 10), 2)
    assert result == london(2026, 12, 30, 10)


def test_shift_keeps_wall_time_across_dst() -> None:
    result = CAL.shift_working_days(london(2026, 3, 27, 9, 15, 30, 123), 1)
    assert result == london(2026, 3, 30, 9, 15, 30, 123)
    assert result.utcoffset() == timedelta(hours=1)
    # Wall time kept, so the elapsed time is 71 h, not 72 h.
    assert result - london(2026, 3, 27, 9, 15, 30, 123) == timedelta(days=3)
    assert result.astimezone(UTC) - datetime(2026, 3, 27, 9, 15, 30, 123, tzinfo=UTC) == timedelta(
        hours=71
    )


def test_shift_from_weekend_backwards() -> None:
    assert CAL.shift_working_days(london(2026, 6, 13, 8), -1) == london(2026, 6, 12, 8)


def test_shift_zero_returns_moment_in_london() -> None:
    moment = datetime(2026, 7, 1, 23, 30, tzinfo=UTC)
    result = CAL.shift_working_days(moment, 0)
    assert result == moment
    assert result.tzinfo is LONDON
    assert (result.date(), result.time()) == (date(2026, 7, 2), time(0, 30))


def test_shift_uses_london_wall_time_of_utc_input() -> None:
    result = CAL.shift_working_days(datetime(2026, 7, 1, 23, 30, tzinfo=UTC), 1)
    assert result == london(2026, 7, 3, 0, 30)


# --------------------------------------------------------------------------- working_days_between


def test_working_days_between_examples() -> None:
    start = london(2026, 12, 24, 10)
    assert CAL.working_days_between(start, london(2026, 12, 24, 23)) == 0
    assert CAL.working_days_between(start, london(2026, 12, 28, 12)) == 0
    assert CAL.working_days_between(start, london(2026, 12, 29, 0)) == 1
    assert CAL.working_days_between(start, london(2027, 1, 4, 0)) == 4  # 29, 30, 31, 4
    assert CAL.working_days_between(start, london(2026, 12, 1, 0)) == 0


# --------------------------------------------------------------------------- the test's own oracle


def test_oracle_holiday_set_uses_england_rules() -> None:
    assert date(2026, 4, 6) in TEST_HOLIDAYS
    assert date(2026, 8, 31) in TEST_HOLIDAYS


def test_longest_non_working_run_is_four_days() -> None:
    # Easter (Fri-Mon) and Christmas on a Fri/Sat/Sun give four-day runs; nothing longer
    # occurs 2019-2038 (incl. the 2022 Jubilee Thu-Sun). Checked rather than assumed.
    assert longest_non_working_run(date(2019, 1, 1), date(2038, 12, 31)) == 4


# --------------------------------------------------------------------------- properties

ZONES = [LONDON, UTC, ZoneInfo("America/New_York"), ZoneInfo("Asia/Tokyo"), BST]
moments = st.datetimes(
    min_value=datetime(2020, 1, 1),
    max_value=datetime(2035, 12, 31, 23, 59, 59),
    timezones=st.sampled_from(ZONES),
)
working_day_counts = st.integers(min_value=1, max_value=60)
PROPERTY = settings(max_examples=200, deadline=None)
MAX_RUN = longest_non_working_run(date(2019, 1, 1), date(2038, 12, 31))


@PROPERTY
@given(moment=moments, days=working_day_counts)
def test_add_working_days_matches_independent_count(moment: datetime, days: int) -> None:
    expected = independent_add(moment.astimezone(LONDON).date(), days)
    assert CAL.add_working_days(moment, days) == datetime.combine(expected, EOD, tzinfo=LONDON)


@PROPERTY
@given(moment=moments, days=working_day_counts)
def test_add_working_days_result_shape(moment: datetime, days: int) -> None:
    result = CAL.add_working_days(moment, days)
    assert result.tzinfo is LONDON
    assert result.time() == EOD
    assert CAL.is_working_day(result.date())
    assert independent_is_working(result.date())
    assert result > moment


@PROPERTY
@given(moment=moments, days=st.integers(min_value=-60, max_value=60).filter(bool))
def test_shift_round_trip(moment: datetime, days: int) -> None:
    back = CAL.shift_working_days(CAL.shift_working_days(moment, days), -days)
    local = moment.astimezone(LONDON)
    assert back.tzinfo is LONDON
    assert back.time() == local.time()
    assert CAL.is_working_day(back.date())
    if CAL.is_working_day(local.date()):
        assert back == moment


@PROPERTY
@given(moment=moments, days=st.integers(min_value=-60, max_value=60).filter(bool))
def test_shift_lands_on_matching_working_day(moment: datetime, days: int) -> None:
    result = CAL.shift_working_days(moment, days)
    local_date = moment.astimezone(LONDON).date()
    if days > 0:
        assert result.date() == independent_add(local_date, days)
        assert result > moment
    else:
        assert result.date() == independent_subtract(local_date, -days)
        assert result < moment
    assert result.time() == moment.astimezone(LONDON).time()


@PROPERTY
@given(moment=moments, months=st.integers(min_value=1, max_value=24))
def test_add_calendar_months_properties(moment: datetime, months: int) -> None:
    start = moment.astimezone(LONDON).date()
    index = start.month - 1 + months
    year, month = start.year + index // 12, index % 12 + 1
    day = start.day
    while True:  # clamp without reusing the module's helper
        try:
            target = date(year, month, day)
            break
        except ValueError:
            day -= 1
    result = CAL.add_calendar_months(moment, months)
    assert result.tzinfo is LONDON
    assert result.time() == EOD
    assert independent_is_working(result.date())
    assert result.date() <= target
    assert (target - result.date()).days <= MAX_RUN
    assert all(
        not independent_is_working(target - timedelta(days=k))
        for k in range((target - result.date()).days)
    )


@PROPERTY
@given(moment=moments, days=working_day_counts)
def test_working_days_between_inverts_add(moment: datetime, days: int) -> None:
    assert CAL.working_days_between(moment, CAL.add_working_days(moment, days)) == days


def test_module_stays_pure() -> None:
    # Workflow code imports this module, so it must not pull in Temporal or do I/O.
    import ast
    import inspect

    import domain.calendar as module

    tree = ast.parse(inspect.getsource(module))
    imported: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            imported.add((node.module or "").split(".")[0])
    assert imported <= {"__future__", "calendar", "collections", "datetime", "zoneinfo", "holidays"}
