"""Transition planning (docs/rules.md, Clocks) on durable timers: a child who reaches 17 years
6 months while the case is open has the `transition_planning` clock opened then (the case
wakes for the birthday), which climbs its ladder until `record_transition_plan` stops it.
Time is skipped, not waited for."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from temporalio.testing import WorkflowEnvironment

from domain.calendar import LONDON
from domain.events import RecordTransitionPlan
from domain.status import CaseStatus, Clock
from tests.conftest import Outbox, server_of_its_own  # noqa: F401  (the module's `env`)
from tests.workflows.helpers import (
    eventually,
    now,
    skip_to,
    skip_to_next_monday_morning,
    start,
)
from tests.workflows.test_referral_workflow import refused
from tests.workflows.updates import act
from workflows.referral import ReferralWorkflow

SW = "sw-7"
TRANSITION = "transition_planning"


def born_to_turn_17_and_a_half_on(day: date) -> date:
    """The date of birth of a child who is 17 years 6 months old on `day` (day 28 or before)."""
    index = day.year * 12 + day.month - 1 - (17 * 12 + 6)
    return date(index // 12, index % 12 + 1, day.day)


def a_day_ahead(start: datetime, days: int) -> date:
    day = (start + timedelta(days=days)).astimezone(LONDON).date()
    return day if day.day <= 28 else day.replace(day=28)


def transition_clocks(status: CaseStatus) -> list[Clock]:
    return [c for c in status.clocks if c.name == TRANSITION]


def step_status(status: CaseStatus, step: str) -> str:
    [clock] = transition_clocks(status)
    return next(e.status.value for e in clock.escalations if e.step == step)


async def test_a_child_turning_17_and_a_half_while_open_gets_the_clock_then(
    env: WorkflowEnvironment, task_queue: str, outbox: Outbox, worker: object
) -> None:
    monday = await skip_to_next_monday_morning(env)
    birthday = a_day_ahead(monday, 10)
    handle = await start(env, task_queue, date_of_birth=born_to_turn_17_and_a_half_on(birthday))
    status = await handle.query(ReferralWorkflow.status)
    assert status.age_at_referral == 17
    assert transition_clocks(status) == []
    early = RecordTransitionPlan(agreed_at=await now(env), actor=SW)
    refusal = await refused(handle, ReferralWorkflow.record_transition_plan, early)
    assert refusal.type == "RuleBroken"
    assert refusal.details == ("transition_plan_not_due",)
    assert "no transition plan is due" in str(refusal.message)

    opens_at = datetime(birthday.year, birthday.month, birthday.day, tzinfo=LONDON)
    await skip_to(env, opens_at + timedelta(seconds=1))
    status = await eventually(handle, lambda s: bool(transition_clocks(s)))
    [clock] = transition_clocks(status)
    assert clock.opened_at == opens_at
    assert clock.running
    assert clock.state == "open"

    escalation = next(e for e in clock.escalations if e.step == "escalation")
    await skip_to(env, escalation.at + timedelta(seconds=1))
    status = await eventually(handle, lambda s: step_status(s, "escalation") == "sent")
    assert step_status(status, "escalation") == "sent"
    assert transition_clocks(status)[0].state == "breached"
    assert await outbox.delivered_for_clock(clock.id)
    assert outbox.for_clock(clock.id) == ["reminder", "breach", "escalation"]
    sent = [n for n in outbox.sent if f":{clock.id}:" in n.notification_id]
    assert all(birthday.isoformat() not in n.model_dump_json() for n in sent)

    agreed = RecordTransitionPlan(agreed_at=await now(env), actor=SW)
    receipt = await act(handle, ReferralWorkflow.record_transition_plan, agreed)
    assert receipt.event == "record_transition_plan"
    status = await handle.query(ReferralWorkflow.status)
    [clock] = transition_clocks(status)
    assert not clock.running
    assert clock.stopped_at == agreed.agreed_at
    assert step_status(status, "strategic_escalation") == "cancelled"
