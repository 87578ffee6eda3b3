"""Clocks and escalation ladders (docs/rules.md, Clocks), worked through on concrete dates.

The default journey (tests/domain/builders.py) starts with a referral received on
Fri 28 Aug 2026 at 16:30 BST; Mon 31 Aug 2026 is the late summer bank holiday, and British
Summer Time ends on Sun 25 Oct 2026.
"""

from __future__ import annotations

import json
from datetime import UTC, timedelta

from domain.case import Case
from domain.notifications import Notification, NotificationKind
from domain.policy import ClockName, Policy, StepName
from domain.roles import Role
from domain.status import Clock, ClockState, StepStatus
from domain.vocabulary import Concern, DisruptionAction, Stage
from tests.domain.builders import (
    CHILD_REF,
    CONCERN_NOTE,
    MINUTE,
    REFERRAL_CONCERNS,
    SUMMARY,
    T,
    allocate,
    case_at,
    clocks_named,
    close,
    complete_assessment,
    conclude_s47,
    cp_conference,
    cp_review,
    decide,
    disruption_activity,
    end_of,
    last_happened,
    london,
    make_referral,
    missing_episode,
    only_clock,
    open_case,
    professional_concern,
    record,
    return_interview,
    review,
    safety_plan,
    screening,
    strategy_discussion,
)

BST = timedelta(hours=1)
GMT = timedelta(0)


def steps(clock: Clock) -> list[tuple[StepName, StepStatus]]:
    return [(e.step, e.status) for e in clock.escalations]


# =========================================================================== due times


class TestWhenEachClockIsDue:
    def test_referral_decision_is_due_end_of_tuesday_after_the_august_bank_holiday(self) -> None:
        case = open_case()
        clock = only_clock(case, ClockName.referral_decision)
        assert clock.opened_at == T.received
        assert clock.due_at == end_of(2026, 9, 1)  # Tue 1 Sep 23:59:59
        assert clock.due_at.utcoffset() == BST
        assert clock.state == ClockState.open

    def test_strategy_discussion_for_suspected_significant_harm_is_due_in_3_working_days(
        self,
    ) -> None:
        case = open_case(significant_harm_suspected=True)
        clock = only_clock(case, ClockName.strategy_discussion)
        assert clock.opened_at == T.received
        assert clock.due_at == end_of(2026, 9, 3)  # Thu 3 Sep

    def test_no_strategy_discussion_clock_at_intake_without_suspected_significant_harm(
        self,
    ) -> None:
        case = open_case(significant_harm_suspected=False)
        assert clocks_named(case, ClockName.strategy_discussion) == []

    def test_strategy_discussion_clock_opens_when_the_assessment_calls_for_one(self) -> None:
        case = case_at(Stage.strategy_discussion)
        clock = only_clock(case, ClockName.strategy_discussion)
        assert clock.opened_at == T.assessed  # Thu 3 Sep 10:00
        assert clock.due_at == end_of(2026, 9, 8)  # Tue 8 Sep

    def test_strategy_discussion_suspected_at_intake_keeps_its_first_due_date(self) -> None:
        case = case_at(Stage.strategy_discussion, significant_harm_suspected=True)
        clock = only_clock(case, ClockName.strategy_discussion)
        assert clock.due_at == end_of(2026, 9, 3)

    def test_assessment_is_due_45_working_days_after_the_referral_was_received(self) -> None:
        assert clocks_named(open_case(), ClockName.assessment) == []
        case = case_at(Stage.assessment)
        clock = only_clock(case, ClockName.assessment)
        assert clock.due_at == end_of(2026, 11, 2)  # Mon 2 Nov, after the clocks go back
        assert clock.due_at.utcoffset() == GMT

    def test_initial_cp_conference_is_due_15_working_days_after_the_strategy_discussion(
        self,
    ) -> None:
        case = case_at(Stage.safety_plan)  # s47 concluded Fri 18 Sep; discussion Mon 7 Sep
        clock = only_clock(case, ClockName.initial_cp_conference)
        assert clock.opened_at == T.strategy_held
        assert clock.due_at == end_of(2026, 9, 28)  # Mon 28 Sep

    def test_safety_plan_is_due_10_working_days_after_entering_the_stage(self) -> None:
        case = case_at(Stage.safety_plan)
        clock = only_clock(case, ClockName.safety_plan)
        assert clock.opened_at == T.s47_concluded  # Fri 18 Sep
        assert clock.due_at == end_of(2026, 10, 2)  # Fri 2 Oct

    def test_safety_plan_after_a_child_in_need_plan_counts_from_the_plan(self) -> None:
        case = case_at(Stage.safety_plan, route="cin")
        clock = only_clock(case, ClockName.safety_plan)
        assert clock.opened_at == T.cin_plan_agreed  # Fri 11 Sep
        assert clock.due_at == end_of(2026, 9, 25)  # Fri 25 Sep

    def test_risk_review_is_due_3_months_after_the_latest_screening(self) -> None:
        case = case_at(Stage.review)  # screened Wed 2 Sep, safety plan agreed Wed 30 Sep
        clock = only_clock(case, ClockName.risk_review)
        assert clock.due_at == end_of(2026, 12, 2)  # Wed 2 Dec
        assert clock.due_at.utcoffset() == GMT

    def test_next_risk_review_is_3_months_after_the_review_clamped_and_moved_to_a_working_day(
        self,
    ) -> None:
        case = case_at(Stage.review)
        record(case, review(2))  # Mon 30 Nov: 30 Feb -> Sun 28 Feb 2027 -> Fri 26 Feb
        first, second = clocks_named(case, ClockName.risk_review)
        assert first.state == ClockState.met
        assert second.state == ClockState.open
        assert second.due_at == end_of(2027, 2, 26)

    def test_further_strategy_meeting_is_due_3_working_days_after_a_review_scoring_2_or_3(
        self,
    ) -> None:
        case = case_at(Stage.review)
        record(case, review(3))
        clock = only_clock(case, ClockName.further_strategy_meeting)
        assert clock.opened_at == T.reviewed
        assert clock.due_at == end_of(2026, 12, 3)  # Thu 3 Dec

    def test_no_further_strategy_meeting_after_a_low_review(self) -> None:
        case = case_at(Stage.review)
        record(case, review(1))
        assert clocks_named(case, ClockName.further_strategy_meeting) == []

    def test_cp_review_conference_3_months_after_the_initial_then_6_after_each_review(
        self,
    ) -> None:
        case = case_at(Stage.review)
        record(case, cp_conference("cp_plan", at=T.cp_conference_held + timedelta(days=7)))
        # initial conference Thu 1 Oct 2026
        (first,) = clocks_named(case, ClockName.cp_review_conference)
        assert first.due_at == end_of(2026, 12, 31)  # Thu 31 Dec
        record(case, cp_review("continue_plan", at=london(2026, 12, 15, 10)))
        first, second = clocks_named(case, ClockName.cp_review_conference)
        assert first.state == ClockState.met
        assert second.due_at == end_of(2027, 6, 15)  # Tue 15 Jun 2027, BST
        assert second.due_at.utcoffset() == BST
        record(case, cp_review("end_plan", at=london(2027, 6, 10, 10)))
        assert [c.state for c in clocks_named(case, ClockName.cp_review_conference)] == [
            ClockState.met,
            ClockState.met,
        ]

    def test_initial_cp_conference_without_a_plan_opens_no_review_conference(self) -> None:
        case = case_at(Stage.safety_plan)
        record(case, cp_conference("no_plan"))
        assert clocks_named(case, ClockName.cp_review_conference) == []
        assert only_clock(case, ClockName.initial_cp_conference).state == ClockState.met

    def test_return_home_interview_is_due_72_hours_after_return_across_the_clock_change(
        self,
    ) -> None:
        case = case_at(Stage.review)
        back = london(2026, 10, 23, 20)  # Fri 23 Oct 20:00 BST
        record(case, missing_episode(london(2026, 10, 23, 14), back))
        clock = only_clock(case, ClockName.return_home_interview)
        assert clock.opened_at == back
        assert clock.due_at == london(2026, 10, 26, 19)  # Mon 26 Oct 19:00 GMT
        assert clock.due_at.astimezone(UTC) - back.astimezone(UTC) == timedelta(hours=72)

    def test_a_child_still_missing_has_no_return_interview_clock_until_they_return(
        self,
    ) -> None:
        case = case_at(Stage.s47_enquiry)
        went = london(2026, 9, 9, 18)
        record(case, missing_episode(went))
        assert clocks_named(case, ClockName.return_home_interview) == []
        record(case, missing_episode(went, returned_at=london(2026, 9, 10, 7)))
        clock = only_clock(case, ClockName.return_home_interview)
        assert clock.due_at == london(2026, 9, 13, 7)
        record(case, missing_episode(went, returned_at=london(2026, 9, 10, 7)))  # told twice
        assert len(clocks_named(case, ClockName.return_home_interview)) == 1
        assert len(case.missing_episodes) == 1
        record(case, return_interview(london(2026, 9, 11, 15)))
        assert clock.state == ClockState.met

    def test_missing_episode_during_review_brings_the_risk_review_forward_to_5_working_days(
        self,
    ) -> None:
        case = case_at(Stage.review)  # risk review due Wed 2 Dec
        back = london(2026, 10, 13, 9)  # Tue 13 Oct
        record(case, missing_episode(london(2026, 10, 12, 18), back))
        old, new = clocks_named(case, ClockName.risk_review)
        assert old.state == ClockState.cancelled
        assert old.stopped_at == back
        assert {e.status for e in old.escalations} == {StepStatus.cancelled}
        assert new.state == ClockState.open
        assert new.opened_at == back
        assert new.due_at == end_of(2026, 10, 20)  # Tue 20 Oct
        assert new.id != old.id
        assert only_clock(case, ClockName.return_home_interview).due_at == london(2026, 10, 16, 9)

    def test_missing_episode_does_not_push_back_a_review_already_sooner(self) -> None:
        case = case_at(Stage.review)  # risk review due Wed 2 Dec
        record(case, missing_episode(london(2026, 11, 26, 18), london(2026, 11, 27, 9)))
        clock = only_clock(case, ClockName.risk_review)  # 5 wd after Fri 27 Nov is Fri 4 Dec
        assert clock.due_at == end_of(2026, 12, 2)
        assert clock.state == ClockState.open

    def test_missing_episode_outside_review_touches_no_review_clock(self) -> None:
        case = case_at(Stage.safety_plan)
        notices = record(case, missing_episode(london(2026, 9, 20, 18), london(2026, 9, 21, 9)))
        assert clocks_named(case, ClockName.risk_review) == []
        (notice,) = notices
        assert notice.kind == NotificationKind.missing_episode
        assert notice.roles == [Role.social_worker]

    def test_clocks_count_from_when_things_happened_not_when_recorded(self) -> None:
        case = case_at(Stage.assessment)
        record(case, screening(2))
        record(case, complete_assessment(), now=london(2026, 9, 4, 16))  # recorded a day late
        assert only_clock(case, ClockName.strategy_discussion).due_at == end_of(2026, 9, 8)

    def test_local_closure_days_from_the_policy_push_deadlines_back(self) -> None:
        policy = Policy(extra_closures=[london(2026, 9, 1).date()])
        case = open_case(policy=policy)
        assert only_clock(case, ClockName.referral_decision).due_at == end_of(2026, 9, 2)


# ================================================================ met, breached, cancelled


class TestMetBreachedCancelled:
    def test_a_decision_in_time_meets_the_clock(self) -> None:
        case = open_case()
        case.fire_due_steps(london(2026, 8, 29, 9))  # reminder sent over the weekend
        record(case, decide("assess"))
        clock = only_clock(case, ClockName.referral_decision)
        assert clock.state == ClockState.met
        assert clock.stopped_at == T.decided
        assert clock.breached_by is None
        assert steps(clock) == [
            (StepName.reminder, StepStatus.sent),
            (StepName.breach, StepStatus.cancelled),
            (StepName.escalation, StepStatus.cancelled),
            (StepName.strategic_escalation, StepStatus.cancelled),
        ]

    def test_a_decision_at_the_last_second_is_still_in_time(self) -> None:
        case = open_case()
        record(case, decide("assess", at=end_of(2026, 9, 1)))
        assert only_clock(case, ClockName.referral_decision).state == ClockState.met

    def test_a_late_decision_breaches_the_clock_and_records_by_how_much(self) -> None:
        case = open_case()
        record(case, decide("assess", at=london(2026, 9, 2, 10)))
        clock = only_clock(case, ClockName.referral_decision)
        assert clock.state == ClockState.breached
        assert clock.breached_by == timedelta(hours=10, seconds=1)
        assert clock.stopped_at == london(2026, 9, 2, 10)
        assert not clock.running

    def test_a_decision_made_in_time_but_recorded_late_meets_the_clock(self) -> None:
        case = open_case()
        record(case, decide("assess", at=T.decided), now=london(2026, 9, 3, 9))
        assert only_clock(case, ClockName.referral_decision).state == ClockState.met

    def test_closing_the_case_cancels_the_running_clocks_and_their_pending_steps(self) -> None:
        case = case_at(Stage.assessment)
        closed_at = london(2026, 9, 3, 12)
        record(case, close("child's family moved abroad", at=closed_at))
        assessment = only_clock(case, ClockName.assessment)
        assert assessment.state == ClockState.cancelled
        assert assessment.stopped_at == closed_at
        assert {e.status for e in assessment.escalations} == {StepStatus.cancelled}
        assert only_clock(case, ClockName.referral_decision).state == ClockState.met
        assert not any(c.running for c in case.clocks)
        assert case.next_due is None
        assert case.next_wakeup() is None

    def test_a_breach_already_recorded_stays_when_the_case_closes(self) -> None:
        case = open_case()
        case.fire_due_steps(london(2026, 9, 2, 9))
        record(case, decide("nfa", at=london(2026, 9, 2, 10)))
        clock = only_clock(case, ClockName.referral_decision)
        assert clock.state == ClockState.breached
        assert not case.overdue

    def test_a_clock_that_opens_again_is_a_new_entry_and_the_old_one_stays(self) -> None:
        case = case_at(Stage.review)
        record(case, review(2), review(3, at=london(2027, 2, 20, 10)))
        entries = clocks_named(case, ClockName.risk_review)
        assert [c.state for c in entries] == [ClockState.met, ClockState.met, ClockState.open]
        assert len({c.id for c in entries}) == 3
        assert entries[-1].due_at == end_of(2027, 5, 20)
        assert [c.stopped_at for c in entries[:2]] == [T.reviewed, london(2027, 2, 20, 10)]

    def test_the_case_shows_as_overdue_while_a_breached_clock_is_running(self) -> None:
        case = open_case()
        assert not case.status().overdue
        assert case.status().next_due == end_of(2026, 9, 1)
        case.fire_due_steps(end_of(2026, 9, 1))
        assert case.status().overdue
        record(case, decide("assess", at=london(2026, 9, 2, 9)))
        assert not case.status().overdue
        assert case.status().next_due == end_of(2026, 11, 2)


# =========================================================================== escalation ladder


class TestEscalationLadder:
    def test_steps_sit_1_before_at_and_2_and_5_working_days_after_due(self) -> None:
        clock = only_clock(open_case(), ClockName.referral_decision)  # due Tue 1 Sep
        assert [(e.step, e.at) for e in clock.escalations] == [
            (StepName.reminder, end_of(2026, 8, 28)),  # Fri: Mon 31 Aug is a bank holiday
            (StepName.breach, end_of(2026, 9, 1)),
            (StepName.escalation, end_of(2026, 9, 3)),
            (StepName.strategic_escalation, end_of(2026, 9, 8)),
        ]
        assert {e.status for e in clock.escalations} == {StepStatus.pending}

    def test_each_step_is_sent_once_to_its_roles_as_its_time_comes(self) -> None:
        case = open_case()
        record(case, allocate(T.received + MINUTE))
        sent: list[Notification] = []
        for now in [
            london(2026, 8, 29, 9),
            london(2026, 8, 30, 9),
            london(2026, 9, 2, 0),
            london(2026, 9, 2, 0),
            london(2026, 9, 4, 9),
            london(2026, 9, 9, 9),
            london(2026, 10, 9, 9),
        ]:
            sent += case.fire_due_steps(now)
        assert [(n.step, n.roles) for n in sent] == [
            (StepName.reminder, [Role.social_worker]),
            (StepName.breach, [Role.social_worker, Role.team_manager]),
            (StepName.escalation, [Role.head_of_service]),
            (StepName.strategic_escalation, [Role.strategic_lead]),
        ]
        assert all(n.clock == ClockName.referral_decision for n in sent)
        assert all(n.social_worker == "sw.okafor" for n in sent)
        assert len({n.notification_id for n in sent}) == 4
        clock = only_clock(case, ClockName.referral_decision)
        assert [e.sent_at for e in clock.escalations] == [
            london(2026, 8, 29, 9),
            london(2026, 9, 2, 0),
            london(2026, 9, 4, 9),
            london(2026, 9, 9, 9),
        ]
        assert clock.state == ClockState.breached
        assert clock.running  # breached, not yet decided

    def test_an_unallocated_case_is_reminded_through_its_team(self) -> None:
        case = open_case()
        (notice,) = case.fire_due_steps(london(2026, 8, 29, 9))
        assert notice.social_worker is None
        assert notice.team == "Team North"
        assert notice.roles == [Role.social_worker]

    def test_a_complex_case_escalation_also_goes_to_the_specialist_safeguarding_lead(
        self,
    ) -> None:
        case = case_at(Stage.strategy_discussion, complex=True)  # discussion due Tue 8 Sep
        (breach,) = case.fire_due_steps(london(2026, 9, 9, 9))
        (escalation,) = case.fire_due_steps(london(2026, 9, 11, 9))
        (strategic,) = case.fire_due_steps(london(2026, 9, 16, 9))
        assert breach.roles == [Role.social_worker, Role.team_manager]
        assert escalation.step == StepName.escalation
        assert escalation.roles == [Role.head_of_service, Role.specialist_safeguarding_lead]
        assert strategic.roles == [Role.strategic_lead]

    def test_a_case_that_is_not_complex_escalates_to_the_head_of_service_only(self) -> None:
        case = case_at(Stage.strategy_discussion, complex=False)
        case.fire_due_steps(london(2026, 9, 9, 9))
        (escalation,) = case.fire_due_steps(london(2026, 9, 11, 9))
        assert escalation.roles == [Role.head_of_service]

    def test_catch_up_sends_only_the_most_severe_past_step_and_breaches_at_once(self) -> None:
        # A referral received Fri 28 Aug recorded only on Mon 7 Sep.
        case, notices = Case.open(make_referral(), Policy(), london(2026, 9, 7, 9))
        (notice,) = notices
        assert (notice.clock, notice.step) == (ClockName.referral_decision, StepName.escalation)
        clock = only_clock(case, ClockName.referral_decision)
        assert steps(clock) == [
            (StepName.reminder, StepStatus.skipped),
            (StepName.breach, StepStatus.skipped),
            (StepName.escalation, StepStatus.sent),
            (StepName.strategic_escalation, StepStatus.pending),
        ]
        assert clock.state == ClockState.breached
        assert case.overdue
        (later,) = case.fire_due_steps(london(2026, 9, 9, 9))
        assert later.step == StepName.strategic_escalation

    def test_catch_up_long_after_every_step_sends_the_strategic_escalation_alone(self) -> None:
        case, notices = Case.open(make_referral(), Policy(), london(2026, 10, 1, 9))
        assert [n.step for n in notices] == [StepName.strategic_escalation]
        assert [s for _, s in steps(only_clock(case, ClockName.referral_decision))] == [
            StepStatus.skipped,
            StepStatus.skipped,
            StepStatus.skipped,
            StepStatus.sent,
        ]
        assert case.fire_due_steps(london(2026, 10, 2, 9)) == []

    def test_catch_up_with_only_the_reminder_past_leaves_the_clock_open(self) -> None:
        case, notices = Case.open(make_referral(), Policy(), london(2026, 8, 29, 9))
        assert [n.step for n in notices] == [StepName.reminder]
        assert only_clock(case, ClockName.referral_decision).state == ClockState.open
        assert not case.overdue

    def test_catch_up_when_a_clock_opens_on_a_late_recorded_event(self) -> None:
        case = case_at(Stage.assessment)
        record(case, screening(2))
        # The assessment was completed on Thu 3 Sep but only recorded on Fri 11 Sep.
        notices = record(case, complete_assessment(), now=london(2026, 9, 11, 9))
        notices = [n for n in notices if n.kind == NotificationKind.clock_step]
        assert [(n.clock, n.step) for n in notices] == [
            (ClockName.strategy_discussion, StepName.escalation)
        ]
        assert only_clock(case, ClockName.strategy_discussion).state == ClockState.breached

    def test_a_stopped_clock_sends_nothing_more(self) -> None:
        case = open_case()
        (breach,) = case.fire_due_steps(london(2026, 9, 2, 9))
        assert breach.step == StepName.breach
        record(case, decide("assess", at=london(2026, 9, 2, 10)))
        clock = only_clock(case, ClockName.referral_decision)
        assert steps(clock) == [
            (StepName.reminder, StepStatus.skipped),
            (StepName.breach, StepStatus.sent),
            (StepName.escalation, StepStatus.cancelled),
            (StepName.strategic_escalation, StepStatus.cancelled),
        ]
        assert clock.breached_by == timedelta(hours=10, seconds=1)
        assert case.fire_due_steps(london(2026, 9, 30, 9)) == []  # assessment not due yet

    def test_the_next_wake_up_is_the_earliest_pending_step(self) -> None:
        case = open_case(significant_harm_suspected=True)
        assert case.next_wakeup() == end_of(2026, 8, 28)  # decision reminder
        case.fire_due_steps(london(2026, 8, 29, 9))
        assert case.next_wakeup() == end_of(2026, 9, 1)  # decision breach
        record(case, decide("assess"))
        assert case.next_wakeup() == end_of(2026, 9, 2)  # strategy discussion reminder


# ================================================================ what notifications carry


# What a case itself sends; the MASE agenda and the oversight report come from the monthly
# panel job, across cases, not from one case.
CASE_NOTIFICATION_KINDS = {
    NotificationKind.clock_step,
    NotificationKind.allocation,
    NotificationKind.missing_episode,
    NotificationKind.consultation,
    NotificationKind.delivery_failed,
    NotificationKind.strategy_meeting_needed,  # harm suspected: the police and MASH are told
}
PARTNER_KINDS_AT_THE_PANEL = {  # tests/domain/test_partners.py
    NotificationKind.mase_referral,
    NotificationKind.mase_case_ended,
    NotificationKind.mase_escalation,
    NotificationKind.authority_informed,  # tests/domain/test_authorities.py
}


def test_notifications_never_carry_the_child_the_summary_or_the_concerns() -> None:
    case, notices = Case.open(
        make_referral(significant_harm_suspected=True), Policy(), london(2026, 9, 1, 9)
    )
    notices += record(
        case,
        allocate(london(2026, 9, 1, 9, 5)),
        decide("assess", at=london(2026, 9, 1, 9, 10)),
        screening(1, Concern.low, complex=True, at=london(2026, 9, 1, 11)),
        professional_concern(Concern.high, london(2026, 9, 1, 12)),
        missing_episode(london(2026, 9, 1, 13), london(2026, 9, 1, 20)),
    )
    for now in [london(2026, 9, 4, 9), london(2026, 9, 8, 9), london(2026, 9, 30, 9)]:
        notices += case.fire_due_steps(now)
    notices += case.record_delivery_failure(
        notices[0], "mailbox unavailable", london(2026, 9, 30, 9, 5)
    )
    kinds = {n.kind for n in notices}
    assert kinds == CASE_NOTIFICATION_KINDS
    assert CASE_NOTIFICATION_KINDS | PARTNER_KINDS_AT_THE_PANEL | {
        NotificationKind.mase_agenda,
        NotificationKind.oversight_report,
    } == set(NotificationKind)
    dumped = json.dumps([n.model_dump(mode="json") for n in notices])
    assert CHILD_REF not in dumped
    assert SUMMARY not in dumped
    assert CONCERN_NOTE not in dumped
    for indicator in REFERRAL_CONCERNS:
        assert indicator.value not in dumped
    assert all(n.referral_id == "CSE-2026-0042" for n in notices)
    assert all(n.link_path == "/dashboard/cases/CSE-2026-0042" for n in notices)


# ====================================================== clocks that end with their stage


def test_going_back_to_section_47_from_review_cancels_the_risk_review() -> None:
    case = case_at(Stage.review)
    held = T.reviewed + timedelta(days=1)
    record(case, review(3), strategy_discussion("s47", at=held))
    assert case.stage == Stage.s47_enquiry
    assert case.running(ClockName.risk_review) is None
    first, second = clocks_named(case, ClockName.risk_review)
    assert first.state == ClockState.met  # stopped by the review
    assert second.state == ClockState.cancelled  # left behind in review
    assert second.stopped_at == held
    assert {e.status for e in second.escalations} == {StepStatus.cancelled}
    assert only_clock(case, ClockName.further_strategy_meeting).state == ClockState.met


def test_a_case_back_in_review_has_one_running_risk_review() -> None:
    case = case_at(Stage.review)
    record(
        case,
        review(3),
        strategy_discussion("s47", at=london(2026, 12, 1, 10)),
        conclude_s47("risk_of_harm", at=london(2026, 12, 8, 10)),
        safety_plan(at=london(2026, 12, 14, 10)),
    )
    assert case.stage == Stage.review
    running = [c for c in clocks_named(case, ClockName.risk_review) if c.running]
    assert len(running) == 1
    assert running[0].opened_at == T.reviewed  # the latest score was the review's


def test_intake_strategy_discussion_clock_is_cancelled_when_assessment_goes_to_child_in_need() -> (
    None
):
    case = open_case(significant_harm_suspected=True)
    record(
        case,
        decide("assess"),
        screening(2),
        complete_assessment("cin", rationale="police investigation already under way"),
    )
    assert case.stage == Stage.child_in_need
    clock = only_clock(case, ClockName.strategy_discussion)
    assert clock.state == ClockState.cancelled
    assert clock.stopped_at == T.assessed
    assert case.fire_due_steps(london(2026, 9, 30, 9)) == []


def test_intake_strategy_discussion_clock_is_kept_when_the_assessment_calls_for_one() -> None:
    case = open_case(significant_harm_suspected=True)
    record(case, decide("assess"), screening(2), complete_assessment("strategy_discussion"))
    clock = only_clock(case, ClockName.strategy_discussion)
    assert clock.running
    assert clock.opened_at == T.received


def test_leaving_the_safety_plan_stage_for_section_47_cancels_the_safety_plan_clock() -> None:
    case = case_at(Stage.safety_plan, route="cin")  # safety plan due Fri 25 Sep
    went = london(2026, 9, 14, 18)
    record(case, *(missing_episode(went + timedelta(days=d)) for d in range(3)))
    held = london(2026, 9, 17, 10)
    record(case, strategy_discussion("s47", at=held))
    assert case.stage == Stage.s47_enquiry
    (clock,) = clocks_named(case, ClockName.safety_plan)
    assert clock.state == ClockState.cancelled
    assert clock.stopped_at == held
    record(case, conclude_s47("risk_of_harm", at=london(2026, 9, 24, 10)))
    first, second = clocks_named(case, ClockName.safety_plan)
    assert first.state == ClockState.cancelled
    assert second.running
    assert second.opened_at == london(2026, 9, 24, 10)


def test_completing_the_assessment_stops_its_clock_rather_than_cancelling_it() -> None:
    case = case_at(Stage.assessment)
    record(case, screening(2), complete_assessment("strategy_discussion"))
    clock = only_clock(case, ClockName.assessment)
    assert clock.state == ClockState.met
    assert clock.stopped_at == T.assessed


def test_a_clock_cancelled_after_it_breached_stays_breached_and_records_by_how_much() -> None:
    case = case_at(Stage.assessment)  # assessment due Mon 2 Nov 23:59:59 GMT
    case.fire_due_steps(london(2026, 11, 3, 9))
    clock = only_clock(case, ClockName.assessment)
    assert clock.state == ClockState.breached
    assert clock.breached_by is None
    closed_at = london(2026, 11, 4, 10)
    record(case, close("transferred to another authority", at=closed_at))
    assert clock.state == ClockState.breached
    assert clock.stopped_at == closed_at
    assert clock.breached_by == closed_at - end_of(2026, 11, 2)
    assert clock.breached_by == timedelta(days=1, hours=10, seconds=1)
    assert not clock.running
    assert steps(clock) == [
        (StepName.reminder, StepStatus.skipped),
        (StepName.breach, StepStatus.sent),
        (StepName.escalation, StepStatus.cancelled),
        (StepName.strategic_escalation, StepStatus.cancelled),
    ]


def test_a_clock_cancelled_before_it_was_due_is_cancelled_with_no_breach() -> None:
    case = case_at(Stage.assessment)
    record(case, close(at=london(2026, 9, 3, 12)))
    clock = only_clock(case, ClockName.assessment)
    assert clock.state == ClockState.cancelled
    assert clock.breached_by is None


def test_a_disruption_activity_is_recorded_in_any_open_stage_without_moving_it() -> None:
    case = case_at(Stage.safety_plan)
    stage, clocks = case.stage, [c.model_copy(deep=True) for c in case.clocks]

    record(case, disruption_activity(last_happened(case) + timedelta(hours=1)))

    assert case.stage == stage
    assert case.clocks == clocks
    assert [(d.action, d.agency) for d in case.disruption_activities] == [
        (DisruptionAction.abduction_warning_notice, "police")
    ]
    assert case.status().disruption_activities == case.disruption_activities
