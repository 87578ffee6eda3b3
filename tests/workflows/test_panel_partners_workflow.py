"""The panel at work (docs/rules.md, The MASE panel) through the workflow: partners told by
the notify activity, the panel's decisions and actions kept, an action's clock laddering to
its owner, and a refused decision leaving nothing in the history."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from temporalio.testing import WorkflowEnvironment

from domain.events import (
    AgreedAction,
    CompleteMaseAction,
    RecordMaseDecision,
)
from domain.notifications import Notification, NotificationKind
from tests.conftest import (
    Outbox,
    server_of_its_own,  # noqa: F401  (the module's `env`)
)
from tests.workflows.helpers import Handle, eventually, now, skip_to, start
from tests.workflows.scenarios import referred_to_mase
from tests.workflows.test_referral_workflow import refused
from tests.workflows.updates import act
from workflows.referral import ReferralWorkflow

SW, TM = "sw-7", "tm-1"


async def sent_of(outbox: Outbox, kind: NotificationKind, rid: str) -> list[Notification]:
    """What the notify activity was asked to send of `kind` for the case (sending is
    asynchronous: waits a little for the first one)."""
    for _ in range(200):
        found = [n for n in outbox.sent if n.kind == kind and n.referral_id == rid]
        if found:
            return found
        await asyncio.sleep(0.05)
    return []


async def referred(env: WorkflowEnvironment, task_queue: str) -> tuple[Handle, str]:
    handle, _ = await referred_to_mase(env, task_queue, decided_by=TM, cris_number="CRIS-2/26")
    status = await handle.query(ReferralWorkflow.status)
    return handle, status.referral_id


async def test_partners_are_told_when_harm_is_suspected_and_when_the_case_goes_to_mase(
    env: WorkflowEnvironment, task_queue: str, worker: object, outbox: Outbox
) -> None:
    _, rid = await referred(env, task_queue)
    [needed] = await sent_of(outbox, NotificationKind.strategy_meeting_needed, rid)
    assert needed.roles == ["police_spoc", "mash"]
    assert needed.due_at is not None
    [mase] = await sent_of(outbox, NotificationKind.mase_referral, rid)
    assert mase.roles == ["mase_chair", "police_spoc"]


async def test_a_decision_keeps_its_actions_and_an_overdue_action_goes_to_its_owner(
    env: WorkflowEnvironment, task_queue: str, worker: object, outbox: Outbox
) -> None:
    handle, rid = await referred(env, task_queue)
    t = await now(env)
    due = t + timedelta(days=10)
    decision = RecordMaseDecision(
        held_at=t,
        decision="escalate",
        actions=[
            AgreedAction(action="disruption plan", owner_role="police_spoc", due_at=due),
            AgreedAction(action="health check", owner_role="named_nurse", due_at=due),
        ],
        actor=TM,
    )
    await act(handle, ReferralWorkflow.record_mase_decision, decision)
    [escalated] = await sent_of(outbox, NotificationKind.mase_escalation, rid)
    assert escalated.roles == ["head_of_service", "strategic_lead"]
    await act(
        handle,
        ReferralWorkflow.complete_mase_action,
        CompleteMaseAction(action_id="action-2", completed_at=t, actor=SW),
    )
    await skip_to(env, due + timedelta(days=1))
    status = await eventually(handle, lambda s: s.mase.actions[0].state == "breached")
    first, second = status.mase.actions
    assert (first.state, second.state) == ("breached", "met")
    breach = [
        n
        for n in outbox.sent
        if n.referral_id == rid and n.clock == "mase_action" and n.step == "breach"
    ]
    assert [n.roles for n in breach] == [["police_spoc", "team_manager"]]
    assert "disruption plan" not in str([n.model_dump() for n in outbox.sent])


async def test_a_refused_decision_leaves_the_case_as_it_was(
    env: WorkflowEnvironment, task_queue: str, worker: object
) -> None:
    handle = await start(env, task_queue)
    decision = RecordMaseDecision(held_at=await now(env), decision="keep_open", actor=TM)
    error = await refused(handle, ReferralWorkflow.record_mase_decision, decision)
    assert "refer_to_mase first" in str(error)
