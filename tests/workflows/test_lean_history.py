"""What each update leaves in a case's history stays small: a receipt, not the whole status,
and no timer cancelled and started again when the next wake-up has not moved."""

from __future__ import annotations

from temporalio.api.enums.v1 import EventType
from temporalio.testing import WorkflowEnvironment

from domain.events import Allocate
from tests.workflows.helpers import now, start
from tests.workflows.updates import act
from workflows.referral import ReferralWorkflow

TEAM_MANAGER = "tm-1"


async def test_updates_that_leave_the_next_wake_up_where_it_was_start_no_timer(
    env: WorkflowEnvironment, task_queue: str, worker: object
) -> None:
    handle = await start(env, task_queue)
    t = await now(env)
    for n in range(5):  # an allocation opens and stops no clock
        allocation = Allocate(
            social_worker=f"sw-{n}", team="RAI-2", allocated_at=t, actor=TEAM_MANAGER
        )
        await act(handle, ReferralWorkflow.allocate, allocation)
    events = [e async for e in handle.fetch_history_events()]
    kinds = [e.event_type for e in events]
    assert kinds.count(EventType.EVENT_TYPE_TIMER_STARTED) == 1
    assert kinds.count(EventType.EVENT_TYPE_TIMER_CANCELED) == 0
    completed = [
        e.workflow_execution_update_completed_event_attributes.outcome.success.payloads[0]
        for e in events
        if e.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_COMPLETED
    ]
    assert len(completed) == 5
    assert all(len(p.SerializeToString()) < 600 for p in completed)  # sealed receipts
