"""Every clock (docs/rules.md, Clocks) walks its whole escalation ladder on durable timers.

Time is skipped, not waited for: each test opens one clock, then jumps past each rung and
sees the notification go to the ladder's roles and, from the breach on, the case overdue.
"""

from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

import pytest
from temporalio.testing import WorkflowEnvironment

from contract.search_attributes import CSE_NEXT_DUE, CSE_OVERDUE
from domain.events import (
    CompleteAssessment,
    ConcludeS47,
    Decide,
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
from tests.workflows.updates import act
from workflows.referral import ReferralWorkflow

ACTOR = "sw-7"
LADDER_ROLES = {
    "reminder": [Role.social_worker],
    "breach": [Role.social_worker, Role.team_manager],
    "escalation": [Role.head_of_service],
    "strategic_escalation": [Role.strategic_lead],
}

Setup = Callable[[WorkflowEnvironment, str, datetime], Awaitable[Handle]]


async def referral_received(env: WorkflowEnvironment, queue: str, t0: datetime) -> Handle:
    return await start(env, queue, received_at=t0)


async def harm_suspected(env: WorkflowEnvironment, queue: str, t0: datetime) -> Handle:
    return await start(env, queue, received_at=t0, significant_harm_suspected=True)


async def assessing(env: WorkflowEnvironment, queue: str, t0: datetime) -> Handle:
    handle = await start(env, queue, received_at=t0)
    t = t0
    await act(handle, ReferralWorkflow.decide, Decide(decision="assess", decided_at=t, actor=ACTOR))
    return handle


async def strategy_needed(env: WorkflowEnvironment, queue: str, t0: datetime) -> Handle:
    handle = await assessing(env, queue, t0)
    t = t0
    await act(
        handle,
        ReferralWorkflow.record_screening,
        RecordScreening(score=2, professional_concern="medium", screened_at=t, actor=ACTOR),
    )
    await act(
        handle,
        ReferralWorkflow.complete_assessment,
        CompleteAssessment(outcome="strategy_discussion", completed_at=t, actor=ACTOR),
    )
    return handle


async def in_s47(env: WorkflowEnvironment, queue: str, t0: datetime) -> Handle:
    handle = await strategy_needed(env, queue, t0)
    t = t0
    await act(
        handle,
        ReferralWorkflow.record_strategy_discussion,
        RecordStrategyDiscussion(
            held_at=t, chair_role="team_manager", outcome="s47", cris_number="CRIS-1", actor=ACTOR
        ),
    )
    return handle


async def cp_conference_called(env: WorkflowEnvironment, queue: str, t0: datetime) -> Handle:
    handle = await in_s47(env, queue, t0)
    t = t0
    await act(
        handle,
        ReferralWorkflow.conclude_s47,
        ConcludeS47(outcome="cp_conference", concluded_at=t, actor=ACTOR),
    )
    return handle


async def on_cp_plan(env: WorkflowEnvironment, queue: str, t0: datetime) -> Handle:
    handle = await cp_conference_called(env, queue, t0)
    t = t0
    await act(
        handle,
        ReferralWorkflow.record_cp_conference,
        RecordCpConference(held_at=t, outcome="cp_plan", actor=ACTOR),
    )
    return handle


async def in_review(env: WorkflowEnvironment, queue: str, t0: datetime) -> Handle:
    handle = await cp_conference_called(env, queue, t0)
    t = t0
    await act(
        handle, ReferralWorkflow.record_safety_plan, RecordSafetyPlan(agreed_at=t, actor=ACTOR)
    )
    return handle


async def review_still_high(env: WorkflowEnvironment, queue: str, t0: datetime) -> Handle:
    handle = await in_review(env, queue, t0)
    t = t0
    await act(
        handle,
        ReferralWorkflow.record_review,
        RecordReview(score=3, professional_concern="high", reviewed_at=t, actor=ACTOR),
    )
    return handle


async def returned_from_missing(env: WorkflowEnvironment, queue: str, t0: datetime) -> Handle:
    handle = await start(env, queue, received_at=t0)
    t = t0
    await act(
        handle,
        ReferralWorkflow.record_missing_episode,
        RecordMissingEpisode(went_missing_at=t, returned_at=t, actor=ACTOR),
    )
    return handle


async def high_concern_low_score(env: WorkflowEnvironment, queue: str, t0: datetime) -> Handle:
    handle = await assessing(env, queue, t0)
    t = t0
    await act(
        handle,
        ReferralWorkflow.record_screening,
        RecordScreening(score=0, professional_concern="low", screened_at=t, actor=ACTOR),
    )
    await act(
        handle,
        ReferralWorkflow.raise_professional_concern,
        RaiseProfessionalConcern(level="high", note="private", raised_at=t, actor=ACTOR),
    )
    return handle


async def missing_three_times(env: WorkflowEnvironment, queue: str, t0: datetime) -> Handle:
    handle = await start(env, queue, received_at=t0)
    await skip_to(env, t0 + timedelta(minutes=15))
    for minutes in (10, 11, 12):
        went = t0 + timedelta(minutes=minutes)
        await act(
            handle,
            ReferralWorkflow.record_missing_episode,
            RecordMissingEpisode(went_missing_at=went, actor=ACTOR),
        )
    return handle


CLOCKS: list[tuple[str, Setup]] = [
    ("referral_decision", referral_received),
    ("strategy_discussion", harm_suspected),
    ("assessment", assessing),
    ("initial_cp_conference", cp_conference_called),
    ("safety_plan", cp_conference_called),
    ("risk_review", in_review),
    ("further_strategy_meeting", review_still_high),
    ("cp_review_conference", on_cp_plan),
    ("return_home_interview", returned_from_missing),
    ("consultation", high_concern_low_score),
    ("strategy_discussion", missing_three_times),
]
CONSULTATION_ROLES = LADDER_ROLES | {
    "reminder": [Role.team_manager, Role.specialist_safeguarding_lead],
    "breach": [Role.team_manager, Role.specialist_safeguarding_lead],
}


@pytest.mark.parametrize(
    ("clock_name", "setup"), CLOCKS, ids=[f"{c}-{s.__name__}" for c, s in CLOCKS]
)
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


@pytest.mark.parametrize(
    ("clock_name", "setup"), CLOCKS, ids=[f"{c}-{s.__name__}" for c, s in CLOCKS]
)
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
