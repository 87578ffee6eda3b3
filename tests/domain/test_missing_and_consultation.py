"""Consultation, repeated missing episodes, strategy meetings outside their stage, the MASE
blocker and undeliverable notifications (the lead engineer's changes to the domain layer).

- A high professional concern with a latest score of 0-1 opens one `consultation` clock (2
  working days) owned by the team manager and the specialist safeguarding lead, and tells them.
- `record_consultation` stops it; its outcome `strategy_discussion` calls a strategy meeting.
- 3 missing episodes within 30 days call a strategy meeting too.
- A strategy meeting that is due may be recorded in review, s47_enquiry, child_in_need and
  safety_plan, keeping the stage (`continue`) or starting an enquiry (`s47`).
- The status says why an open case is not at MASE yet, and which notifications failed.

The default journey's dates are in tests/domain/builders.py: referral received Fri 28 Aug
2026; Mon 31 Aug 2026 is the late summer bank holiday.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Literal

import pytest

from domain.case import Case
from domain.errors import EventNotAllowed, InvalidEventTime, RuleBroken
from domain.notifications import Notification, NotificationKind
from domain.policy import ClockName, Policy, StepName
from domain.roles import Role
from domain.status import Clock, ClockState, DeliveryFailure, StepStatus
from domain.vocabulary import Concern, Stage
from tests.domain.builders import (
    CHILD_REF,
    CONCERN_NOTE,
    MINUTE,
    REFERRAL_CONCERNS,
    SUMMARY,
    T,
    allocate,
    assert_refused,
    case_at,
    clocks_named,
    close,
    conclude_s47,
    consultation,
    decide,
    end_of,
    last_happened,
    london,
    missing_episode,
    only_clock,
    open_case,
    professional_concern,
    record,
    refer_to_mase,
    review,
    screening,
    strategy_discussion,
)

HOUR = timedelta(hours=1)
DAY = timedelta(days=1)
OPEN_STAGES = [s for s in Stage if s != Stage.closed]
OWNERS = [Role.team_manager, Role.specialist_safeguarding_lead]


def assert_no_child_details(notices: list[Notification]) -> None:
    """docs/rules.md, Who is told: a notification never carries the child, summary or concerns."""
    dumped = json.dumps([n.model_dump(mode="json") for n in notices])
    for secret in [CHILD_REF, SUMMARY, CONCERN_NOTE, *(c.value for c in REFERRAL_CONCERNS)]:
        assert secret not in dumped
    assert all(n.link_path == "/dashboard/cases/CSE-2026-0042" for n in notices)


def case_with_low_score(stage: Stage) -> Case:
    """A case at `stage` whose latest score is 1 (before any screening at intake)."""
    if stage == Stage.referral_received:
        return open_case()
    route: Literal["cin"] | None = "cin" if stage == Stage.child_in_need else None
    return case_at(stage, score=1, route=route)


def consultation_called(stage: Stage) -> tuple[Case, datetime]:
    """A case at `stage` where a high concern with a low score has opened a consultation."""
    case = case_with_low_score(stage)
    raised = last_happened(case) + MINUTE
    record(case, professional_concern(Concern.high, raised))
    assert case.running(ClockName.consultation) is not None
    return case, raised


def only_running(case: Case, name: ClockName) -> Clock:
    (clock,) = [c for c in clocks_named(case, name) if c.running]
    return clock


def missing_three_times(case: Case, start: datetime, gap: timedelta = DAY) -> datetime:
    """Three episodes from `start`, `gap` apart, the child still missing; returns the third."""
    went = [start + n * gap for n in range(3)]
    record(case, *(missing_episode(w) for w in went))
    return went[-1]


def strategy_meeting_called(
    stage: Stage,
    route: Literal["s47", "cin"] | None = None,
    *,
    score: int = 2,
    concern: Concern = Concern.medium,
    complex: bool = False,
) -> tuple[Case, datetime]:
    """A case at `stage` where repeated missing episodes have called a strategy meeting."""
    case = case_at(stage, route=route, score=score, concern=concern, complex=complex)
    third = missing_three_times(case, last_happened(case) + HOUR)
    assert case.running(ClockName.strategy_discussion) is not None
    return case, third


# ======================================================== the consultation clock opens


class TestConsultationOpens:
    @pytest.mark.parametrize("score", [0, 1])
    def test_high_concern_with_a_low_score_opens_a_consultation_due_in_2_working_days(
        self, score: int
    ) -> None:
        case = case_at(Stage.assessment)
        record(case, screening(score, Concern.low))
        raised = london(2026, 9, 2, 10, 1)  # Wed
        (notice,) = record(case, professional_concern(Concern.high, raised))
        clock = only_clock(case, ClockName.consultation)
        assert clock.opened_at == raised
        assert clock.due_at == end_of(2026, 9, 4)  # Fri 4 Sep
        assert clock.state == ClockState.open
        assert notice.kind == NotificationKind.consultation
        assert notice.roles == OWNERS
        assert notice.referral_id == "CSE-2026-0042"
        assert_no_child_details([notice])

    @pytest.mark.parametrize("score", [0, 1])
    def test_a_screening_with_high_concern_and_a_low_score_opens_one_too(self, score: int) -> None:
        case = case_at(Stage.assessment)
        (notice,) = record(case, screening(score, Concern.high))
        clock = only_clock(case, ClockName.consultation)
        assert clock.opened_at == T.screened  # Wed 2 Sep 10:00
        assert clock.due_at == end_of(2026, 9, 4)
        assert notice.kind == NotificationKind.consultation
        assert notice.roles == OWNERS

    @pytest.mark.parametrize("score", [2, 3])
    def test_high_concern_with_a_score_of_2_or_3_needs_no_consultation(self, score: int) -> None:
        case = case_at(Stage.assessment)
        assert record(case, screening(score, Concern.high)) == []
        assert record(case, professional_concern(Concern.high, T.screened + MINUTE)) == []
        assert clocks_named(case, ClockName.consultation) == []

    @pytest.mark.parametrize("level", [Concern.low, Concern.medium])
    @pytest.mark.parametrize("score", [0, 1])
    def test_concern_below_high_needs_no_consultation(self, score: int, level: Concern) -> None:
        case = case_at(Stage.assessment)
        assert record(case, screening(score, level)) == []
        assert record(case, professional_concern(level, T.screened + MINUTE)) == []
        assert clocks_named(case, ClockName.consultation) == []

    def test_a_high_concern_before_any_screening_counts_as_a_low_score(self) -> None:
        # No score yet is treated as a low one (domain/case.py: `(risk_score or 0) <= 1`).
        case = open_case()
        (notice,) = record(case, professional_concern(Concern.high, T.received + HOUR))
        assert notice.kind == NotificationKind.consultation
        assert only_clock(case, ClockName.consultation).opened_at == T.received + HOUR

    def test_a_second_high_concern_while_one_runs_opens_no_second_clock(self) -> None:
        case, raised = consultation_called(Stage.assessment)
        assert record(case, professional_concern(Concern.high, raised + HOUR)) == []
        assert record(case, screening(1, Concern.high, at=raised + 2 * HOUR)) == []
        clock = only_clock(case, ClockName.consultation)
        assert clock.opened_at == raised
        assert len(case.concerns_raised) == 2

    def test_once_the_consultation_is_held_a_new_high_concern_opens_a_new_one(self) -> None:
        case, raised = consultation_called(Stage.assessment)
        record(case, consultation(raised + HOUR))
        again = raised + DAY
        (notice,) = record(case, professional_concern(Concern.high, again))
        assert notice.kind == NotificationKind.consultation
        first, second = clocks_named(case, ClockName.consultation)
        assert first.state == ClockState.met
        assert second.running
        assert second.opened_at == again
        assert first.id != second.id

    def test_the_consultation_counts_from_when_the_concern_was_raised_not_recorded(
        self,
    ) -> None:
        case = case_at(Stage.assessment)
        record(case, screening(1, Concern.low))
        raised = london(2026, 9, 2, 10, 1)  # due Fri 4 Sep; recorded Mon 7 Sep
        notices = record(
            case, professional_concern(Concern.high, raised), now=london(2026, 9, 7, 9)
        )
        assert [(n.kind, n.step) for n in notices] == [
            (NotificationKind.consultation, None),
            (NotificationKind.clock_step, StepName.breach),
        ]
        assert notices[1].roles == OWNERS
        clock = only_clock(case, ClockName.consultation)
        assert clock.opened_at == raised
        assert clock.state == ClockState.breached
        assert case.overdue

    def test_closing_the_case_cancels_the_consultation(self) -> None:
        case, raised = consultation_called(Stage.assessment)
        record(case, close(at=raised + HOUR))
        assert only_clock(case, ClockName.consultation).state == ClockState.cancelled


# ======================================================== the consultation's ladder


class TestConsultationLadder:
    def test_the_reminder_and_breach_go_to_its_owners_then_the_usual_escalations(self) -> None:
        case = case_at(Stage.assessment)
        record(
            case,
            allocate(T.screened - HOUR),
            screening(1, Concern.low),
            professional_concern(Concern.high, london(2026, 9, 2, 10, 1)),
        )
        clock = only_clock(case, ClockName.consultation)  # due Fri 4 Sep
        assert [(e.step, e.at) for e in clock.escalations] == [
            (StepName.reminder, end_of(2026, 9, 3)),
            (StepName.breach, end_of(2026, 9, 4)),
            (StepName.escalation, end_of(2026, 9, 8)),
            (StepName.strategic_escalation, end_of(2026, 9, 11)),
        ]
        sent: list[Notification] = []
        for now in [
            end_of(2026, 9, 3),
            london(2026, 9, 5, 9),
            london(2026, 9, 9, 9),
            london(2026, 9, 12, 9),
        ]:
            sent += case.fire_due_steps(now)
        assert [(n.clock, n.step, n.roles) for n in sent] == [
            (ClockName.consultation, StepName.reminder, OWNERS),
            (ClockName.consultation, StepName.breach, OWNERS),
            (ClockName.consultation, StepName.escalation, [Role.head_of_service]),
            (ClockName.consultation, StepName.strategic_escalation, [Role.strategic_lead]),
        ]
        assert [e.roles for e in clock.escalations] == [n.roles for n in sent]
        assert clock.state == ClockState.breached
        assert_no_child_details(sent)

    def test_a_complex_case_escalation_also_goes_to_the_specialist_lead(self) -> None:
        case = case_at(Stage.assessment)
        record(case, screening(1, Concern.high, complex=True))  # due Fri 4 Sep
        (breach,) = case.fire_due_steps(london(2026, 9, 5, 9))
        (escalation,) = case.fire_due_steps(london(2026, 9, 9, 9))
        assert breach.roles == OWNERS
        assert escalation.roles == [Role.head_of_service, Role.specialist_safeguarding_lead]

    def test_other_clocks_still_remind_the_social_worker(self) -> None:
        case = case_at(Stage.assessment)  # assessment due Mon 2 Nov
        record(case, screening(1, Concern.high))
        record(case, consultation(T.screened + HOUR))
        (reminder,) = case.fire_due_steps(london(2026, 11, 2, 9))
        assert (reminder.clock, reminder.step) == (ClockName.assessment, StepName.reminder)
        assert reminder.roles == [Role.social_worker]

    def test_a_policy_can_give_another_clock_owners(self) -> None:
        policy = Policy(
            clock_owners={
                ClockName.consultation: OWNERS,
                ClockName.return_home_interview: [Role.named_nurse],
            }
        )
        case = case_at(Stage.assessment, policy=policy)
        back = london(2026, 9, 2, 8)
        record(case, missing_episode(london(2026, 9, 1, 20), back))
        clock = only_clock(case, ClockName.return_home_interview)
        assert clock.due_at == london(2026, 9, 5, 8)  # 72 hours
        (reminder,) = case.fire_due_steps(clock.escalations[0].at)
        (breach,) = case.fire_due_steps(clock.escalations[1].at)
        assert (reminder.clock, reminder.roles) == (
            ClockName.return_home_interview,
            [Role.named_nurse],
        )
        assert breach.roles == [Role.named_nurse, Role.team_manager]

    def test_a_policy_with_owners_for_other_clocks_still_consults(self) -> None:
        policy = Policy(clock_owners={ClockName.return_home_interview: [Role.named_nurse]})
        case = case_at(Stage.assessment, policy=policy)
        record(case, screening(1, Concern.low))
        notices = record(case, professional_concern(Concern.high, T.screened + MINUTE))
        assert [n.kind for n in notices] == [NotificationKind.consultation]


# ======================================================== recording the consultation


class TestRecordConsultation:
    @pytest.mark.parametrize("stage", OPEN_STAGES, ids=[s.value for s in OPEN_STAGES])
    def test_refused_when_no_consultation_is_due(self, stage: Stage) -> None:
        case = case_with_low_score(stage)
        assert clocks_named(case, ClockName.consultation) == []
        assert_refused(
            case,
            consultation(last_happened(case) + MINUTE, "strategy_discussion"),
            RuleBroken,
            "no_consultation_due",
            "no consultation is due for this case",
        )

    def test_refused_a_second_time(self) -> None:
        case, raised = consultation_called(Stage.assessment)
        record(case, consultation(raised + HOUR))
        assert_refused(
            case,
            consultation(raised + 2 * HOUR),
            RuleBroken,
            "no_consultation_due",
            "no consultation is due",
        )

    def test_refused_once_the_case_is_closed(self) -> None:
        case, raised = consultation_called(Stage.assessment)
        record(case, close(at=raised + HOUR))
        assert_refused(
            case,
            consultation(raised + 2 * HOUR),
            EventNotAllowed,
            "event_not_allowed_in_stage",
            "record_consultation is refused: the case is closed",
        )

    @pytest.mark.parametrize("stage", OPEN_STAGES, ids=[s.value for s in OPEN_STAGES])
    def test_accepted_in_any_open_stage_while_one_is_running(self, stage: Stage) -> None:
        case, raised = consultation_called(stage)
        strategy_clocks = clocks_named(case, ClockName.strategy_discussion)
        held = raised + HOUR
        assert record(case, consultation(held)) == []
        assert case.stage == stage
        clock = only_clock(case, ClockName.consultation)
        assert clock.state == ClockState.met
        assert clock.stopped_at == held
        assert {e.status for e in clock.escalations} == {StepStatus.cancelled}
        assert clocks_named(case, ClockName.strategy_discussion) == strategy_clocks
        entry = case.history[-1]
        assert (entry.event, entry.at, entry.actor) == ("record_consultation", held, "tm.reyes")
        assert entry.details == {"outcome": "continue"}

    def test_a_late_consultation_breaches_its_clock(self) -> None:
        case, raised = consultation_called(Stage.assessment)
        assert raised == london(2026, 9, 1, 10, 1)  # Tue: due Thu 3 Sep
        held = london(2026, 9, 4, 10)
        record(case, consultation(held))
        clock = only_clock(case, ClockName.consultation)
        assert clock.due_at == end_of(2026, 9, 3)
        assert clock.state == ClockState.breached
        assert clock.breached_by == held - end_of(2026, 9, 3)

    def test_a_consultation_calling_a_strategy_meeting_opens_its_clock_from_the_meeting(
        self,
    ) -> None:
        case = case_at(Stage.child_in_need, score=1, route="cin")
        record(case, professional_concern(Concern.high, london(2026, 9, 4, 10)))  # Fri
        held = london(2026, 9, 7, 11)  # Mon
        (told,) = record(case, consultation(held, "strategy_discussion"))
        assert (told.kind, told.roles) == (
            NotificationKind.strategy_meeting_needed,
            [Role.police_spoc, Role.mash],
        )
        assert only_clock(case, ClockName.consultation).state == ClockState.met
        called = only_clock(case, ClockName.strategy_discussion)
        assert called.opened_at == held
        assert called.due_at == end_of(2026, 9, 10)  # Thu 10 Sep
        assert case.history[-1].details == {"outcome": "strategy_discussion"}
        assert case.stage == Stage.child_in_need

    def test_no_second_strategy_discussion_clock_while_one_is_running(self) -> None:
        case, raised = consultation_called(Stage.strategy_discussion)
        running = only_clock(case, ClockName.strategy_discussion)
        record(case, consultation(raised + HOUR, "strategy_discussion"))
        assert only_clock(case, ClockName.strategy_discussion) is running
        assert running.running
        assert running.opened_at == T.assessed

    def test_no_strategy_discussion_clock_while_a_further_strategy_meeting_is_due(self) -> None:
        case = case_at(Stage.review)
        record(case, review(2))  # further strategy meeting due Thu 3 Dec
        record(case, screening(1, Concern.high, at=T.reviewed + HOUR))
        before = len(clocks_named(case, ClockName.strategy_discussion))
        record(case, consultation(T.reviewed + 2 * HOUR, "strategy_discussion"))
        assert only_clock(case, ClockName.consultation).state == ClockState.met
        assert len(clocks_named(case, ClockName.strategy_discussion)) == before
        assert case.running(ClockName.strategy_discussion) is None
        assert case.running(ClockName.further_strategy_meeting) is not None

    def test_a_consultation_dated_in_the_future_is_refused(self) -> None:
        case, raised = consultation_called(Stage.assessment)
        assert_refused(
            case,
            consultation(raised + DAY),
            InvalidEventTime,
            "event_time_in_future",
            "is in the future",
            now=raised + HOUR,
        )


# ======================================================== repeated missing episodes


class TestRepeatedMissingEpisodes:
    def test_a_third_episode_within_30_days_calls_a_strategy_meeting_from_when_it_began(
        self,
    ) -> None:
        case = case_at(Stage.s47_enquiry)  # the first strategy discussion: Mon 7 Sep
        first = london(2026, 9, 8, 18)  # Tue
        record(case, missing_episode(first), missing_episode(london(2026, 9, 10, 18)))
        assert case.running(ClockName.strategy_discussion) is None
        third = london(2026, 9, 12, 18)  # Sat
        notice, told = record(case, missing_episode(third))
        assert notice.kind == NotificationKind.missing_episode
        assert told.kind == NotificationKind.strategy_meeting_needed
        _, called = clocks_named(case, ClockName.strategy_discussion)
        assert called.opened_at == third
        assert called.due_at == end_of(2026, 9, 16)  # Wed 16 Sep
        assert called.running
        assert case.stage == Stage.s47_enquiry

    def test_episodes_spread_over_more_than_30_days_call_no_meeting(self) -> None:
        case = case_at(Stage.s47_enquiry)
        record(
            case,
            missing_episode(london(2026, 9, 8, 18)),
            missing_episode(london(2026, 9, 20, 18)),
            missing_episode(london(2026, 10, 9, 18)),  # 31 days after the first
        )
        assert case.running(ClockName.strategy_discussion) is None
        record(case, missing_episode(london(2026, 10, 12, 18)))  # 20 Sep, 9 Oct, 12 Oct
        assert only_running(case, ClockName.strategy_discussion).opened_at == london(
            2026, 10, 12, 18
        )

    @pytest.mark.parametrize(
        ("third", "calls"),
        [(london(2026, 10, 8, 18), True), (london(2026, 10, 8, 18, 0, 1), False)],
        ids=["exactly 30 days", "30 days and a second"],
    )
    def test_the_30_days_end_at_the_new_episode(self, third: datetime, calls: bool) -> None:
        case = case_at(Stage.s47_enquiry)
        record(
            case,
            missing_episode(london(2026, 9, 8, 18)),
            missing_episode(london(2026, 9, 20, 18)),
            missing_episode(third),
        )
        assert (case.running(ClockName.strategy_discussion) is not None) == calls

    def test_recording_the_return_updates_the_episode_and_does_not_count_again(self) -> None:
        case = case_at(Stage.s47_enquiry)
        went = london(2026, 9, 8, 18)
        record(case, missing_episode(went), missing_episode(london(2026, 9, 10, 18)))
        record(case, missing_episode(went, returned_at=london(2026, 9, 9, 8)))
        assert case.running(ClockName.strategy_discussion) is None
        assert [(e.went_missing_at, e.returned_at) for e in case.status().missing_episodes] == [
            (went, london(2026, 9, 9, 8)),
            (london(2026, 9, 10, 18), None),
        ]
        assert only_clock(case, ClockName.return_home_interview).opened_at == london(2026, 9, 9, 8)

    def test_the_return_of_the_third_episode_calls_no_second_meeting(self) -> None:
        case, third = strategy_meeting_called(Stage.s47_enquiry)
        record(case, strategy_discussion("continue", at=third + HOUR))
        assert case.running(ClockName.strategy_discussion) is None
        record(case, missing_episode(third, returned_at=third + 2 * HOUR))
        assert case.missing_episodes[-1].returned_at == third + 2 * HOUR
        assert case.running(ClockName.strategy_discussion) is None

    def test_a_fourth_episode_while_the_meeting_is_due_opens_no_second_clock(self) -> None:
        case, third = strategy_meeting_called(Stage.s47_enquiry)
        called = only_running(case, ClockName.strategy_discussion)
        record(case, missing_episode(third + DAY))
        assert only_running(case, ClockName.strategy_discussion) == called
        assert len(case.missing_episodes) == 4

    def test_no_second_clock_when_a_strategy_discussion_is_already_due(self) -> None:
        case = case_at(Stage.strategy_discussion)
        missing_three_times(case, T.assessed + HOUR)
        assert only_clock(case, ClockName.strategy_discussion).opened_at == T.assessed

    def test_no_strategy_discussion_clock_while_a_further_strategy_meeting_is_due(self) -> None:
        case = case_at(Stage.review)
        record(case, review(3))
        before = len(clocks_named(case, ClockName.strategy_discussion))
        missing_three_times(case, T.reviewed + HOUR)
        assert len(clocks_named(case, ClockName.strategy_discussion)) == before
        assert case.running(ClockName.strategy_discussion) is None
        assert case.running(ClockName.further_strategy_meeting) is not None

    def test_the_meeting_counts_from_the_episode_even_when_recorded_late(self) -> None:
        case = case_at(Stage.s47_enquiry)
        third = london(2026, 9, 12, 18)  # due Wed 16 Sep
        record(case, missing_episode(london(2026, 9, 8, 18)), missing_episode(third - DAY))
        notices = record(case, missing_episode(third), now=london(2026, 9, 17, 9))
        assert [(n.kind, n.step) for n in notices] == [
            (NotificationKind.missing_episode, None),
            (NotificationKind.strategy_meeting_needed, None),
            (NotificationKind.clock_step, StepName.breach),
        ]
        called = only_running(case, ClockName.strategy_discussion)
        assert (called.opened_at, called.state) == (third, ClockState.breached)

    def test_the_number_and_window_come_from_the_policy(self) -> None:
        policy = Policy(missing_episodes_for_strategy=2, missing_episodes_window_days=7)
        case = open_case(policy=policy)
        record(case, decide("assess"))
        record(case, missing_episode(london(2026, 9, 1, 18)))
        record(case, missing_episode(london(2026, 9, 8, 18, 0, 1)))  # 7 days and a second
        assert case.running(ClockName.strategy_discussion) is None
        record(case, missing_episode(london(2026, 9, 10, 18)))
        assert only_running(case, ClockName.strategy_discussion).opened_at == london(
            2026, 9, 10, 18
        )


# ======================================================== a strategy meeting outside its stage

ACCEPTED_OUTSIDE_THE_STAGE = [
    (Stage.review, None, "continue", Stage.review),
    (Stage.review, None, "s47", Stage.s47_enquiry),
    (Stage.s47_enquiry, None, "continue", Stage.s47_enquiry),
    (Stage.child_in_need, "cin", "continue", Stage.child_in_need),
    (Stage.child_in_need, "cin", "s47", Stage.s47_enquiry),
    (Stage.safety_plan, "s47", "continue", Stage.safety_plan),
    (Stage.safety_plan, "s47", "s47", Stage.s47_enquiry),
    (Stage.safety_plan, "cin", "continue", Stage.safety_plan),
    (Stage.safety_plan, "cin", "s47", Stage.s47_enquiry),
]


class TestStrategyMeetingOutsideItsStage:
    @pytest.mark.parametrize(
        ("stage", "route", "outcome", "after"),
        ACCEPTED_OUTSIDE_THE_STAGE,
        ids=[f"{s.value}-{r or 's47'}-{o}" for s, r, o, _ in ACCEPTED_OUTSIDE_THE_STAGE],
    )
    def test_a_meeting_called_by_missing_episodes_is_recorded_where_the_case_stands(
        self,
        stage: Stage,
        route: Literal["s47", "cin"] | None,
        outcome: Literal["continue", "s47"],
        after: Stage,
    ) -> None:
        case, third = strategy_meeting_called(stage, route)
        called = only_running(case, ClockName.strategy_discussion)
        held = third + DAY
        assert record(case, strategy_discussion(outcome, at=held)) == []
        assert case.stage == after
        assert called.state == ClockState.met
        assert called.stopped_at == held
        assert case.running(ClockName.strategy_discussion) is None
        assert case.strategy_discussions[-1].held_at == held
        assert case.strategy_discussions[-1].outcome == outcome
        assert case.history[-1].details == {
            "outcome": outcome,
            "chair_role": "team_manager",
            "agencies": ["police", "health", "education"],
        }

    def test_a_meeting_called_by_a_consultation_is_recorded_in_child_in_need(self) -> None:
        case = case_at(Stage.child_in_need, score=1, route="cin")
        record(
            case,
            professional_concern(Concern.high, london(2026, 9, 4, 10)),
            consultation(london(2026, 9, 7, 11), "strategy_discussion"),
            strategy_discussion("s47", at=london(2026, 9, 9, 10)),
        )
        assert case.stage == Stage.s47_enquiry
        assert only_clock(case, ClockName.strategy_discussion).state == ClockState.met

    def test_the_enquiry_it_starts_counts_the_conference_from_this_meeting(self) -> None:
        case, third = strategy_meeting_called(Stage.child_in_need, "cin")
        held = third + DAY  # Sun 6 Sep 11:00
        record(case, strategy_discussion("s47", at=held))
        record(case, conclude_s47("cp_conference", at=held + 3 * DAY))
        conference = only_clock(case, ClockName.initial_cp_conference)
        assert conference.opened_at == held

    def test_leaving_review_for_section_47_ends_the_review_clocks(self) -> None:
        case, third = strategy_meeting_called(Stage.review)
        held = third + DAY
        record(case, strategy_discussion("s47", at=held))
        assert case.running(ClockName.risk_review) is None
        assert clocks_named(case, ClockName.risk_review)[-1].stopped_at == held

    def test_refused_a_second_time_once_the_called_meeting_is_held(self) -> None:
        case, third = strategy_meeting_called(Stage.s47_enquiry)
        record(case, strategy_discussion("continue", at=third + HOUR))
        assert_refused(
            case,
            strategy_discussion("continue", at=third + 2 * HOUR),
            RuleBroken,
            "further_strategy_meeting_not_due",
            "outside the strategy discussion stage a strategy meeting is recorded only when "
            "one is due",
        )

    @pytest.mark.parametrize(
        ("stage", "route", "outcome"),
        [
            (Stage.s47_enquiry, None, "s47"),
            (Stage.s47_enquiry, None, "cin"),
            (Stage.child_in_need, "cin", "cin"),
            (Stage.safety_plan, None, "cin"),
            (Stage.review, None, "cin"),
        ],
    )
    def test_an_outcome_the_stage_has_no_transition_for_is_not_allowed(
        self,
        stage: Stage,
        route: Literal["s47", "cin"] | None,
        outcome: Literal["s47", "cin"],
    ) -> None:
        case, third = strategy_meeting_called(stage, route)
        assert_refused(
            case,
            strategy_discussion(outcome, at=third + HOUR),
            EventNotAllowed,
            "event_not_allowed_in_stage",
            f"record_strategy_discussion with outcome {outcome} is not allowed while the case "
            f"is in stage {stage.value}",
        )

    @pytest.mark.parametrize(
        ("score", "concern"), [(0, Concern.low), (2, Concern.medium)], ids=["score_0", "score_2"]
    )
    def test_no_further_action_in_child_in_need_is_not_allowed_whatever_the_score(
        self, score: int, concern: Concern
    ) -> None:
        case, third = strategy_meeting_called(
            Stage.child_in_need, "cin", score=score, concern=concern
        )
        assert_refused(
            case,
            strategy_discussion("nfa", at=third + HOUR),
            EventNotAllowed,
            "event_not_allowed_in_stage",
            "record_strategy_discussion with outcome nfa is not allowed while the case is in "
            "stage child_in_need",
        )

    def test_a_running_clock_does_not_open_stages_with_no_meeting_to_record(self) -> None:
        case = open_case(significant_harm_suspected=True)
        assert case.running(ClockName.strategy_discussion) is not None
        assert_refused(
            case,
            strategy_discussion("s47", at=T.received + HOUR),
            EventNotAllowed,
            "event_not_allowed_in_stage",
            "while the case is in stage referral_received",
        )

    def test_a_complex_case_meeting_outside_the_stage_needs_the_specialist_lead(self) -> None:
        case, third = strategy_meeting_called(Stage.child_in_need, "cin", complex=True)
        assert_refused(
            case,
            strategy_discussion("continue", chair=Role.team_manager, at=third + HOUR),
            RuleBroken,
            "complex_case_chair",
            "must be chaired by a specialist safeguarding lead",
        )
        chair = Role.specialist_safeguarding_lead
        record(case, strategy_discussion("continue", chair=chair, at=third + HOUR))
        assert case.stage == Stage.child_in_need


# ======================================================== why the case is not at MASE yet


class TestMaseBlocker:
    @pytest.mark.parametrize(
        ("make", "rule"),
        [
            (lambda: open_case(), "mase_needs_strategy_discussion"),
            (lambda: case_at(Stage.assessment, score=3), "mase_needs_strategy_discussion"),
            (lambda: case_at(Stage.s47_enquiry, score=2), "mase_needs_cris_number"),
            (lambda: rescreened_to_zero(), "mase_needs_score"),
        ],
        ids=["no strategy discussion yet", "assessment", "no CRIS number", "score 0"],
    )
    def test_an_open_case_not_referred_shows_the_referral_rule_it_breaks(
        self, make: Callable[[], Case], rule: str
    ) -> None:
        case = make()
        blocker = case.status().mase_blocker
        refusal = assert_refused(
            case,
            refer_to_mase(cris_number="", at=last_happened(case) + MINUTE),
            RuleBroken,
            rule,
            "a case referred to MASE must",
        )
        assert blocker == refusal.message

    def test_the_score_blocker_says_the_score(self) -> None:
        blocker = rescreened_to_zero().status().mase_blocker
        assert blocker is not None
        assert "latest screening score of 1-3 (it is 0)" in blocker

    def test_nothing_blocks_a_case_with_a_meeting_a_cris_number_and_a_score(self) -> None:
        case = case_at(Stage.strategy_discussion, score=3)
        record(case, strategy_discussion("s47", cris_number="CRIS-88"))
        assert case.status().mase_blocker == "not yet referred"

    def test_a_referred_case_has_no_blocker(self) -> None:
        case = case_at(Stage.s47_enquiry, score=2)
        record(case, refer_to_mase("CRIS-77"))
        assert case.status().mase_blocker is None

    def test_a_closed_case_has_no_blocker(self) -> None:
        case = open_case()
        record(case, decide("nfa"))
        assert case.status().mase_blocker is None
        referred = case_at(Stage.s47_enquiry, score=2)
        record(referred, refer_to_mase("CRIS-77"), close(at=T.strategy_held + HOUR))
        assert referred.status().mase_blocker is None

    def test_asking_for_the_status_changes_nothing(self) -> None:
        case = case_at(Stage.s47_enquiry, score=2)
        before = case.model_dump()
        case.status()
        assert case.model_dump() == before


def rescreened_to_zero() -> Case:
    """Met, with a CRIS number, then screened again at 0."""
    case = case_at(Stage.strategy_discussion, score=2)
    record(
        case,
        strategy_discussion("s47", cris_number="CRIS-88"),
        screening(0, Concern.low, at=T.strategy_held + MINUTE),
    )
    return case


# ======================================================== notifications that could not be sent


class TestDeliveryFailures:
    def reminder(self) -> tuple[Case, Notification]:
        case = open_case()
        record(case, allocate(T.received + MINUTE))
        (notice,) = case.fire_due_steps(london(2026, 8, 29, 9))  # referral decision reminder
        return case, notice

    def test_a_failed_notification_is_recorded_and_raised_to_the_team_manager(self) -> None:
        case, failed = self.reminder()
        before = case.model_dump(exclude={"delivery_failures"})
        at = london(2026, 8, 29, 9, 1)
        (notice,) = case.record_delivery_failure(failed, "550 mailbox unavailable", at)
        assert case.status().delivery_failures == [
            DeliveryFailure(
                notification_id=failed.notification_id,
                failed_at=at,
                problem="550 mailbox unavailable",
            )
        ]
        assert notice.kind == NotificationKind.delivery_failed
        assert notice.roles == [Role.team_manager]
        assert (notice.referral_id, notice.team) == ("CSE-2026-0042", "Team North")
        assert failed.notification_id in notice.subject
        assert notice.notification_id != failed.notification_id
        assert_no_child_details([notice])
        assert case.model_dump(exclude={"delivery_failures"}) == before

    def test_each_failure_gets_its_own_notice(self) -> None:
        case, failed = self.reminder()
        consulted = record(case, professional_concern(Concern.high, T.received + HOUR))
        first = case.record_delivery_failure(failed, "bounced", london(2026, 8, 29, 9, 1))
        second = case.record_delivery_failure(consulted[0], "bounced", london(2026, 8, 29, 9, 2))
        assert len(first) == len(second) == 1
        assert first[0].notification_id != second[0].notification_id
        assert [f.notification_id for f in case.status().delivery_failures] == [
            failed.notification_id,
            consulted[0].notification_id,
        ]

    def test_a_failed_failure_notice_is_recorded_but_not_raised_again(self) -> None:
        case, failed = self.reminder()
        (raised,) = case.record_delivery_failure(failed, "bounced", london(2026, 8, 29, 9, 1))
        again = case.record_delivery_failure(raised, "bounced", london(2026, 8, 29, 9, 2))
        assert again == []
        assert [f.notification_id for f in case.status().delivery_failures] == [
            failed.notification_id,
            raised.notification_id,
        ]

    def test_a_new_case_has_no_failures(self) -> None:
        assert open_case().status().delivery_failures == []
