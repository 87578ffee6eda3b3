"""The MASE panel as a working meeting, and the partners who are told (docs/rules.md, The MASE
panel): decisions with actions on their own clocks, stepping down and escalating, and the police,
MASH and panel chairs told at the right moments, with nothing about the child."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from domain.case import Case
from domain.errors import RuleBroken
from domain.events import RecordMaseDecision
from domain.notifications import Notification, NotificationKind
from domain.policy import ClockName, Policy, StepName
from domain.roles import Role
from domain.status import ClockState
from domain.vocabulary import Concern, Stage
from tests.domain.builders import (
    CHILD_REF,
    SUMMARY,
    T,
    assert_refused,
    case_at,
    close,
    complete_mase_action,
    london,
    make_referral,
    mase_decision,
    record,
    refer_to_mase,
    review,
)

PANEL = london(2026, 10, 6, 10)  # Tue 6 Oct 2026, the first Tuesday
DUE = london(2026, 10, 20, 17)


def referred() -> Case:
    case = case_at(Stage.s47_enquiry)
    record(case, refer_to_mase())
    return case


def kinds(notices: list[Notification]) -> list[tuple[NotificationKind, list[Role]]]:
    return [(n.kind, n.roles) for n in notices if n.kind != NotificationKind.clock_step]


# -------------------------------------------------------------------------- partners told


def test_a_referral_suspecting_harm_tells_the_police_and_mash_what_is_needed_and_by_when() -> None:
    case, notices = Case.open(make_referral(significant_harm_suspected=True), Policy(), T.received)
    (told,) = notices
    assert told.kind == NotificationKind.strategy_meeting_needed
    assert told.roles == [Role.police_spoc, Role.mash]
    assert told.clock == ClockName.strategy_discussion
    assert told.due_at == case.running(ClockName.strategy_discussion).due_at  # type: ignore[union-attr]
    assert "strategy discussion needed by" in told.subject
    dumped = told.model_dump_json()
    assert CHILD_REF not in dumped
    assert SUMMARY not in dumped


def test_referring_to_mase_tells_the_chairs_and_the_police() -> None:
    case = case_at(Stage.s47_enquiry)
    notices = record(case, refer_to_mase())
    assert kinds(notices) == [(NotificationKind.mase_referral, [Role.mase_chair, Role.police_spoc])]


def test_a_referred_case_that_closes_tells_the_chairs() -> None:
    case = referred()
    notices = record(case, close(at=T.strategy_held + timedelta(hours=1)))
    assert kinds(notices) == [(NotificationKind.mase_case_ended, [Role.mase_chair])]
    assert "closed while referred to MASE" in notices[0].subject


def test_a_case_never_referred_closes_without_telling_the_chairs() -> None:
    case = case_at(Stage.s47_enquiry)
    assert kinds(record(case, close(at=T.strategy_held + timedelta(hours=1)))) == []


def test_a_case_recorded_before_partners_were_told_asks_once_when_it_first_matters() -> None:
    case = case_at(Stage.s47_enquiry)
    case.partners_told = None
    asked: list[bool] = []

    def ask() -> bool:
        asked.append(True)
        return False

    assert kinds(case.apply(refer_to_mase(), T.strategy_held, ask)) == []
    assert asked == [True]
    assert case.partners_told is False
    case.apply(close(at=T.strategy_held), T.strategy_held, ask)
    assert asked == [True]  # the answer stands for the case's life


# ------------------------------------------------------------------- decisions and actions


def test_a_decision_with_actions_opens_a_clock_for_each_owned_by_its_role() -> None:
    case = referred()
    record(
        case,
        mase_decision(
            "keep_open",
            ("disruption plan with the police", Role.police_spoc, DUE),
            ("health check", Role.named_nurse, DUE + timedelta(days=7)),
            at=PANEL,
        ),
    )
    status = case.status().mase
    (decision,) = status.decisions
    assert (decision.decision, decision.action_ids) == ("keep_open", ["action-1", "action-2"])
    first, second = status.actions
    assert (first.action_id, first.owner_role, first.due_at) == ("action-1", Role.police_spoc, DUE)
    assert (first.state, second.state) == (ClockState.open, ClockState.open)
    clocks = [c for c in case.clocks if c.name == ClockName.mase_action]
    assert [(c.due_at, c.owner_role) for c in clocks] == [
        (DUE, Role.police_spoc),
        (DUE + timedelta(days=7), Role.named_nurse),
    ]
    assert case.history[-1].details == {
        "decision": "keep_open",
        "owner_roles": ["police_spoc", "named_nurse"],
    }


def test_an_action_overdue_goes_to_its_owner_then_the_manager_then_head_of_service() -> None:
    case = referred()
    record(case, mase_decision("keep_open", ("disruption plan", Role.police_spoc, DUE), at=PANEL))
    times = [DUE - timedelta(days=1), DUE, DUE + timedelta(days=3)]  # Mon, Tue, Fri
    ladder = {n.step: n.roles for now in times for n in case.fire_due_steps(now)}
    assert ladder[StepName.reminder] == [Role.police_spoc]
    assert ladder[StepName.breach] == [Role.police_spoc, Role.team_manager]
    assert ladder[StepName.escalation] == [Role.head_of_service]
    assert case.status().mase.actions[0].state == ClockState.breached


def test_completing_an_action_stops_its_clock_in_time() -> None:
    case = referred()
    record(case, mase_decision("keep_open", ("disruption plan", Role.police_spoc, DUE), at=PANEL))
    record(case, complete_mase_action("action-1", at=DUE - timedelta(days=1)))
    (action,) = case.status().mase.actions
    assert (action.state, action.completed_at) == (ClockState.met, DUE - timedelta(days=1))
    assert case.history[-1].details == {"action_id": "action-1"}


def test_an_unknown_or_completed_action_is_refused_naming_it() -> None:
    case = referred()
    record(case, mase_decision("keep_open", ("disruption plan", Role.police_spoc, DUE), at=PANEL))
    assert_refused(
        case,
        complete_mase_action("action-9", at=PANEL),
        RuleBroken,
        "mase_action_unknown",
        "action-9 is not an action of this case's MASE decisions (open actions: action-1)",
    )
    record(case, complete_mase_action("action-1", at=PANEL))
    assert_refused(
        case,
        complete_mase_action("action-1", at=PANEL + timedelta(hours=1)),
        RuleBroken,
        "mase_action_already_completed",
        "action-1 was completed at",
    )


def test_a_decision_for_a_case_not_referred_is_refused() -> None:
    case = case_at(Stage.s47_enquiry)
    assert_refused(
        case,
        mase_decision("keep_open", at=PANEL),
        RuleBroken,
        "mase_decision_needs_referral",
        "not (refer_to_mase first)",
    )


def test_an_action_due_before_the_panel_is_refused_naming_the_field() -> None:
    with pytest.raises(ValueError, match="actions: action 1 is due at"):
        RecordMaseDecision.model_validate(
            {
                "held_at": PANEL.isoformat(),
                "decision": "keep_open",
                "actions": [
                    {"action": "x", "owner_role": "mash", "due_at": T.received.isoformat()}
                ],
                "actor": "tm-1",
            }
        )


def test_stepping_down_ends_the_referral_keeps_the_case_open_and_tells_the_chairs() -> None:
    case = referred()
    notices = record(case, mase_decision("step_down", at=PANEL))
    assert kinds(notices) == [(NotificationKind.mase_case_ended, [Role.mase_chair])]
    mase = case.status().mase
    assert (mase.referred, mase.stepped_down_at) == (False, PANEL)
    assert case.stage == Stage.s47_enquiry
    record(case, refer_to_mase(at=PANEL + timedelta(days=1)))  # referred again: record kept
    assert case.mase.referred
    assert len(case.mase.decisions) == 1


def test_escalating_tells_head_of_service_and_the_strategic_lead() -> None:
    case = referred()
    notices = record(case, mase_decision("escalate", at=PANEL))
    assert kinds(notices) == [
        (NotificationKind.mase_escalation, [Role.head_of_service, Role.strategic_lead])
    ]


def test_closing_cancels_the_actions_clocks_and_no_notice_carries_the_action() -> None:
    case = referred()
    notices = record(
        case, mase_decision("keep_open", ("see the child at school", Role.mash, DUE), at=PANEL)
    )
    notices += record(case, close(at=PANEL + timedelta(hours=1)))
    notices += case.fire_due_steps(DUE + timedelta(days=30))
    assert case.status().mase.actions[0].state == ClockState.cancelled
    assert "see the child at school" not in json.dumps([n.model_dump(mode="json") for n in notices])


def test_a_review_calling_a_further_strategy_meeting_tells_the_police_and_mash() -> None:
    case = case_at(Stage.review)
    notices = record(case, review(2, Concern.medium, at=T.reviewed))
    assert kinds(notices) == [
        (NotificationKind.strategy_meeting_needed, [Role.police_spoc, Role.mash])
    ]
    assert notices[0].clock == ClockName.further_strategy_meeting
