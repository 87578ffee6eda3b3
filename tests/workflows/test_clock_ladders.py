"""Every clock (docs/rules.md, Clocks) walks its whole escalation ladder on durable timers.

Time is skipped, not waited for: each test opens one clock, then jumps past each rung and
sees the notification go to the ladder's roles and, from the breach on, the case overdue.
"""

from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any

import pytest
from temporalio.testing import WorkflowEnvironment

from contract.search_attributes import CSE_NEXT_DUE, CSE_OVERDUE
from domain.events import (
    CompleteAssessment,
    ConcludeS47,
    Decide,
    Event,
    RaiseProfessionalConcern,
    RecordCpConference,
    RecordMissingEpisode,
    RecordReview,
    RecordSafetyPlan,
    RecordScreening,
    RecordStrategyDiscussion,
)
from domain.policy import StepName
from domain.roles import Role
from domain.status import CaseStatus
from tests.conftest import Outbox
from tests.workflows.helpers import (
    Handle,
    clock_by_id,
    eventually,
    now,
    published,
    running,
    skip_to,
    skip_to_next_monday_morning,
    start,
)
from tests.workflows.updates import send
from workflows.referral import ReferralWorkflow

ACTOR = "sw-7"
LADDER_ROLES = {
    "reminder": [Role.social_worker],
    "breach": [Role.social_worker, Role.team_manager],
    "escalation": [Role.head_of_service],
    "strategic_escalation": [Role.strategic_lead],
}

Setup = Callable[[WorkflowEnvironment, str, datetime], Awaitable[Handle]]
Steps = Callable[[datetime], list[Event]]


def case_after(steps: Steps, **referral: Any) -> Setup:
    """A setup (named as its `steps`): a case received at t0, with the referral's fields
    `referral`, that records the events `steps` gives for t0, in turn."""

    async def setup(env: WorkflowEnvironment, queue: str, t0: datetime) -> Handle:
        handle = await start(env, queue, received_at=t0, **referral)
        await send(handle, *steps(t0))
        return handle

    setup.__name__ = steps.__name__
    return setup


def referral_received(t: datetime) -> list[Event]:
    return []


def harm_suspected(t: datetime) -> list[Event]:
    return []  # the referral says significant harm is suspected


def assessing(t: datetime) -> list[Event]:
    return [Decide(decision="assess", decided_at=t, actor=ACTOR)]


def strategy_needed(t: datetime) -> list[Event]:
    return [
        *assessing(t),
        RecordScreening(score=2, professional_concern="medium", screened_at=t, actor=ACTOR),
        CompleteAssessment(outcome="strategy_discussion", completed_at=t, actor=ACTOR),
    ]


def in_s47(t: datetime) -> list[Event]:
    discussion = RecordStrategyDiscussion(
        held_at=t, chair_role="team_manager", outcome="s47", cris_number="CRIS-1", actor=ACTOR
    )
    return [*strategy_needed(t), discussion]


def cp_conference_called(t: datetime) -> list[Event]:
    return [*in_s47(t), ConcludeS47(outcome="cp_conference", concluded_at=t, actor=ACTOR)]


def on_cp_plan(t: datetime) -> list[Event]:
    conference = RecordCpConference(held_at=t, outcome="cp_plan", actor=ACTOR)
    return [*cp_conference_called(t), conference]


def in_review(t: datetime) -> list[Event]:
    return [*cp_conference_called(t), RecordSafetyPlan(agreed_at=t, actor=ACTOR)]


def review_still_high(t: datetime) -> list[Event]:
    review = RecordReview(score=3, professional_concern="high", reviewed_at=t, actor=ACTOR)
    return [*in_review(t), review]


def returned_from_missing(t: datetime) -> list[Event]:
    return [RecordMissingEpisode(went_missing_at=t, returned_at=t, actor=ACTOR)]


def high_concern_low_score(t: datetime) -> list[Event]:
    return [
        *assessing(t),
        RecordScreening(score=0, professional_concern="low", screened_at=t, actor=ACTOR),
        RaiseProfessionalConcern(level="high", note="private", raised_at=t, actor=ACTOR),
    ]


async def missing_three_times(env: WorkflowEnvironment, queue: str, t0: datetime) -> Handle:
    handle = await start(env, queue, received_at=t0)
    await skip_to(env, t0 + timedelta(minutes=15))
    for minutes in (10, 11, 12):
        went = t0 + timedelta(minutes=minutes)
        await send(handle, RecordMissingEpisode(went_missing_at=went, actor=ACTOR))
    return handle


CLOCKS: list[tuple[str, Setup]] = [
    ("referral_decision", case_after(referral_received)),
    ("strategy_discussion", case_after(harm_suspected, significant_harm_suspected=True)),
    ("assessment", case_after(assessing)),
    ("initial_cp_conference", case_after(cp_conference_called)),
    ("safety_plan", case_after(cp_conference_called)),
    ("risk_review", case_after(in_review)),
    ("further_strategy_meeting", case_after(review_still_high)),
    ("cp_review_conference", case_after(on_cp_plan)),
    ("return_home_interview", case_after(returned_from_missing)),
    ("consultation", case_after(high_concern_low_score)),
    ("strategy_discussion", missing_three_times),
]
each_clock = pytest.mark.parametrize(
    ("clock_name", "setup"), CLOCKS, ids=[f"{c}-{s.__name__}" for c, s in CLOCKS]
)
CONSULTATION_ROLES = LADDER_ROLES | {
    "reminder": [Role.team_manager, Role.specialist_safeguarding_lead],
    "breach": [Role.team_manager, Role.specialist_safeguarding_lead],
}


@each_clock
async def test_each_clock_reminds_breaches_and_escalates(
    env: WorkflowEnvironment,
    task_queue: str,
    outbox: Outbox,
    worker: object,
    clock_name: str,
    setup: Setup,
) -> None:
    monday = await skip_to_next_monday_morning(env)
    handle = await setup(env, task_queue, monday)
    clock = running(await handle.query(ReferralWorkflow.status), clock_name)
    assert [e.status for e in clock.escalations] == ["pending"] * 4
    assert await published(handle, CSE_NEXT_DUE) is not None

    for rung in clock.escalations:
        await skip_to(env, rung.at + timedelta(seconds=1))
        status = await eventually(handle, _sent(clock.id, rung.step))
        assert _step(status, clock.id, rung.step) == "sent", rung.step
        assert outbox.for_clock(clock.id)[-1] == rung.step.value
        sent = [
            n
            for n in outbox.sent
            if n.notification_id.startswith(f"{n.referral_id}~")
            and n.notification_id.endswith(f":{clock.id}:{rung.step.value}")
        ]
        assert len(sent) == 1
        expected = CONSULTATION_ROLES if clock_name == "consultation" else LADDER_ROLES
        assert sent[0].roles == expected[rung.step.value]
        breached = clock_by_id(status, clock.id).state == "breached"
        assert breached == (rung.step.value != "reminder")
        if breached:  # other clocks of the case may have breached already
            assert status.overdue

    attributes = (await handle.describe()).typed_search_attributes
    assert attributes.get(CSE_OVERDUE) is True
    assert outbox.for_clock(clock.id) == list(LADDER_ROLES)


def _step(status: CaseStatus, clock_id: str, step: StepName) -> str:
    clock = clock_by_id(status, clock_id)
    return next(e.status.value for e in clock.escalations if e.step == step)


def _sent(clock_id: str, step: StepName) -> Callable[[CaseStatus], bool]:
    """Whether the clock's rung has been sent: asked of each status until it holds."""
    return lambda status: _step(status, clock_id, step) == "sent"


@each_clock
async def test_each_clock_opened_long_after_its_due_sends_only_its_worst_step_at_once(
    env: WorkflowEnvironment,
    task_queue: str,
    outbox: Outbox,
    worker: object,
    clock_name: str,
    setup: Setup,
) -> None:
    """Catch-up: a case recorded late (every event dated 200 days ago, so every clock's
    ladder lies in the past) shows each clock breached at once and sends the most severe
    step once, the earlier ones recorded as skipped."""
    long_ago = await now(env) - timedelta(days=200)
    handle = await setup(env, task_queue, long_ago)
    status = await handle.query(ReferralWorkflow.status)
    clock = running(status, clock_name)
    assert clock.state == "breached"
    assert [e.status.value for e in clock.escalations] == ["skipped"] * 3 + ["sent"]
    assert status.overdue
    assert await outbox.delivered_for_clock(clock.id) == ["strategic_escalation"]
