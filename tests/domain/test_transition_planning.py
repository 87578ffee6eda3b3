"""Age and the move to adult services (docs/rules.md, Clocks): `age_at_referral`, and the
`transition_planning` clock that opens when the child reaches 17 years 6 months (at once for
a child referred older), climbs its ladder and is stopped by `record_transition_plan`."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from pydantic import ValidationError

from domain.errors import RuleBroken
from domain.policy import ClockName, Policy
from domain.status import ClockState, StepStatus
from domain.transition import AGE_BANDS, age_band, day_reached
from tests.domain.builders import (
    MINUTE,
    T,
    assert_refused,
    clocks_named,
    close,
    end_of,
    london,
    only_clock,
    open_case,
    record,
    running_clocks,
    transition_plan,
)

TRANSITION = ClockName.transition_planning
TURNS_17_AND_A_HALF = date(2009, 3, 28)
"""Referred on 28 Aug 2026 aged 17; 17 years 6 months on Mon 28 Sep 2026."""
REACHED = london(2026, 9, 28)


def test_age_at_referral_is_given_in_whole_years_only_with_a_date_of_birth() -> None:
    assert open_case(date_of_birth=TURNS_17_AND_A_HALF).status().age_at_referral == 17
    assert open_case(date_of_birth=date(2014, 8, 29)).status().age_at_referral == 11
    assert open_case().status().age_at_referral is None


def test_the_clock_opens_when_the_child_reaches_17_and_a_half_and_the_case_wakes_for_it() -> None:
    case = open_case(date_of_birth=TURNS_17_AND_A_HALF)
    assert TRANSITION not in running_clocks(case)
    assert case.transition_opens_at == REACHED
    assert case.next_wakeup() == min(REACHED, case.clocks[0].escalations[0].at)

    case.fire_due_steps(REACHED - MINUTE)
    assert TRANSITION not in running_clocks(case)
    assert case.next_wakeup() == REACHED
    case.fire_due_steps(REACHED)

    clock = only_clock(case, TRANSITION)
    assert clock.opened_at == REACHED
    assert clock.due_at == end_of(2026, 12, 24)  # 28 Dec is a bank holiday: back to Thursday
    assert case.transition_opens_at is None, "opened once: the case no longer wakes for it"


def test_without_a_date_of_birth_nothing_opens_and_the_wake_up_is_the_ladder_s() -> None:
    case = open_case()
    steps = [e.at for c in case.clocks for e in c.escalations]
    assert case.transition_opens_at is None
    assert case.next_wakeup() == min(steps)
    case.fire_due_steps(london(2030, 1, 1))
    assert clocks_named(case, TRANSITION) == []


def test_a_child_referred_past_17_and_a_half_has_the_clock_open_at_once() -> None:
    case = open_case(date_of_birth=date(2008, 12, 1))
    clock = only_clock(case, TRANSITION)
    assert clock.opened_at == T.received
    assert clock.due_at == end_of(2026, 11, 27)  # 3 calendar months after the referral


def test_a_referral_recorded_late_counts_from_the_birthday_not_the_recording() -> None:
    case = open_case(date_of_birth=TURNS_17_AND_A_HALF, now=REACHED + timedelta(days=5))
    assert only_clock(case, TRANSITION).opened_at == REACHED


def test_the_clock_climbs_its_ladder() -> None:
    case = open_case(date_of_birth=date(2008, 12, 1))
    clock = only_clock(case, TRANSITION)
    [breach] = [e for e in clock.escalations if e.step == "breach"]
    notices = case.fire_due_steps(breach.at)
    assert [n.step for n in notices if n.clock == TRANSITION] == ["breach"]
    assert clock.state == ClockState.breached
    assert case.overdue
    assert all(str(date(2008, 12, 1)) not in n.model_dump_json() for n in notices)


def test_a_transition_plan_stops_the_clock() -> None:
    case = open_case(date_of_birth=date(2008, 12, 1))
    record(case, transition_plan(T.decided))
    clock = only_clock(case, TRANSITION)
    assert clock.state == ClockState.met
    assert clock.stopped_at == T.decided
    assert {e.status for e in clock.escalations} == {StepStatus.cancelled}
    assert case.history[-1].event == "record_transition_plan"
    case.fire_due_steps(london(2027, 6, 1))
    assert len(clocks_named(case, TRANSITION)) == 1, "a plan agreed is not asked for again"


def test_a_transition_plan_is_refused_when_none_is_due_naming_the_rule() -> None:
    for case in (open_case(date_of_birth=TURNS_17_AND_A_HALF), open_case()):
        assert_refused(
            case,
            transition_plan(T.decided),
            RuleBroken,
            "transition_plan_not_due",
            "no transition plan is due for this case",
        )


def test_a_second_transition_plan_is_refused() -> None:
    case = open_case(date_of_birth=date(2008, 12, 1))
    record(case, transition_plan(T.decided))
    assert_refused(
        case, transition_plan(T.decided + MINUTE), RuleBroken, "transition_plan_not_due", "17"
    )


def test_closing_the_case_cancels_the_clock_and_it_never_opens_after() -> None:
    case = open_case(date_of_birth=date(2008, 12, 1))
    record(case, close(at=T.decided))
    assert only_clock(case, TRANSITION).state == ClockState.cancelled
    younger = open_case(date_of_birth=TURNS_17_AND_A_HALF)
    record(younger, close(at=T.decided))
    assert younger.next_wakeup() is None
    younger.fire_due_steps(REACHED)
    assert clocks_named(younger, TRANSITION) == []


def test_a_leap_day_birthday() -> None:
    """29 February: 17 years 6 months on 29 August; a whole number of years on 1 March in a
    year without one, as `years_between` counts it (a day a month lacks moves to the 1st)."""
    assert day_reached(date(2008, 2, 29), 210) == date(2025, 8, 29)
    assert day_reached(date(2008, 2, 29), 204) == date(2025, 3, 1)
    assert day_reached(date(2008, 2, 29), 192) == date(2024, 2, 29)
    assert day_reached(date(2009, 8, 31), 210) == date(2027, 3, 1)
    case = open_case(date_of_birth=date(2012, 2, 29), received_at=london(2029, 6, 1, 9))
    assert case.status().age_at_referral == 17
    assert case.transition_opens_at == london(2029, 8, 29)
    case.fire_due_steps(london(2029, 8, 29))
    assert only_clock(case, TRANSITION).opened_at == london(2029, 8, 29)


def test_a_leap_day_birthday_opens_on_1_march_when_the_policy_says_17() -> None:
    policy = Policy(transition_planning_from_months=204)
    case = open_case(
        policy=policy, date_of_birth=date(2012, 2, 29), received_at=london(2028, 1, 10, 9)
    )
    assert case.transition_opens_at == london(2029, 3, 1)


@pytest.mark.parametrize(
    ("age", "band"),
    [
        (None, "unknown"),
        (0, "under 13"),
        (12, "under 13"),
        (13, "13-15"),
        (15, "13-15"),
        (16, "16-17"),
        (17, "16-17"),
    ],
)
def test_age_bands(age: int | None, band: str) -> None:
    assert age_band(age) == band
    assert band in AGE_BANDS


@pytest.mark.parametrize(
    ("born", "words"),
    [
        (date(2008, 8, 28), "the child was 18 or over when referred"),
        (date(2026, 8, 29), "after the referral was received"),
    ],
)
def test_a_date_of_birth_that_is_no_child_s_is_refused_naming_the_field(
    born: date, words: str
) -> None:
    with pytest.raises(ValidationError) as refused:
        open_case(date_of_birth=born)
    [problem] = refused.value.errors()
    assert problem["loc"] == ("date_of_birth",)
    assert words in problem["msg"]
