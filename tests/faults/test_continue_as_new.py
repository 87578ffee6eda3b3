"""A notification made while a case is handing itself over to its next run is still sent.

Found by the fault tests: `ReferralWorkflow` waited for its update handlers, dispatched its
outbox once and awaited the notify activities still running, then continued as new carrying
only the case. Updates were still accepted while it awaited those activities; each one's
notifications (an allocation, a missing episode, a consultation, the team manager's delivery
failure notice) went into an outbox nothing dispatched again. Under the worker-kill test with
`continue_as_new_after_events = 40`, 2 to 15 allocation notifications per case were lost.
Fixed behind the patch `send-everything-before-the-run-ends`: the run sends until nothing is
left and no handler runs.

Here, without any kill: a case whose policy continues it as new after 20 events is allocated
to `sw-slow`, whose webhook holds each first delivery for a few seconds; once the case is
waiting on that delivery to continue as new, it is allocated again. That allocation must be
recorded and its notification reach the outbox and the team's webhook.
"""

from __future__ import annotations

from typing import Any

import pytest
from temporalio.api.enums.v1 import EventType
from temporalio.client import WorkflowExecutionStatus

from domain.events import Allocate
from tests.faults.conftest import MakeRig, Rig
from tests.faults.ledger import (
    TEAM,
    Ledger,
    eventually,
    late_referral,
    notification_problems,
    open_case,
    statuses,
    until,
)
from tests.faults.rig import SLOW_WORKER

pytestmark = pytest.mark.faults

THRESHOLD = 20  # the policy's minimum
SHORTEST_HISTORIES = f"""
version = "faults-shortest-histories"
effective_from = 2018-02-01
continue_as_new_after_events = {THRESHOLD}
"""


def allocate_to(social_worker: str) -> Any:
    def make(actor: str, at: Any) -> Allocate:
        return Allocate(social_worker=social_worker, team=TEAM, allocated_at=at, actor=actor)

    return make


async def draining(rig: Rig, workflow_id: str, first_run: str) -> bool:
    """Whether the case's first run has completed a workflow task that began past its history
    limit (what `_history_is_long` reads) and still waits on a held send: it is in
    `_continue_as_new`, awaiting its notify activities."""
    handle = rig.client.get_workflow_handle(workflow_id, run_id=first_run)
    described = await handle.describe()
    if described.status != WorkflowExecutionStatus.RUNNING or rig.hooks.holding == 0:
        return False
    events = (await handle.fetch_history()).events
    completed = [
        e.workflow_task_completed_event_attributes.started_event_id
        for e in events
        if e.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED
    ]
    return (
        bool(completed)
        and completed[-1] > THRESHOLD
        and bool(described.raw_description.pending_activities)
    )


async def test_a_notification_made_while_the_case_continues_as_new_is_still_sent(
    make_rig: MakeRig,
) -> None:
    rig = await make_rig(slow_paths=frozenset({"/slow"}), policy=SHORTEST_HISTORIES)
    ledger = Ledger()
    handle = await open_case(rig.client, rig.task_queue, late_referral("CAN", 0))
    first_run = (await handle.describe()).run_id
    assert first_run is not None
    for _ in range(8):  # each allocation's notification is held at the slow webhook
        assert await ledger.send(handle, allocate_to(SLOW_WORKER))
        if await draining(rig, handle.id, first_run):
            break
    else:
        pytest.fail("the case never reached its history limit with a send in flight")

    assert await ledger.send(handle, allocate_to("sw-after"))  # accepted while it drains

    async def continued() -> list[str]:
        run_id = (await rig.client.get_workflow_handle(handle.id).describe()).run_id
        return [] if run_id != first_run else ["still the first run"]

    await eventually("the case to continue as new", continued, within=30.0)
    await until("the held sends to be released", lambda: rig.hooks.holding == 0, 30.0)
    cases = await statuses(rig.client, [handle.id])
    history = cases[handle.id]["history"]
    assert [e["actor"] for e in history if e["event"] == "allocate"] == [
        u.actor for u in ledger.accepted()
    ], "every allocation is in the case's history"

    async def undelivered() -> list[str]:
        now_cases = await statuses(rig.client, [handle.id])
        return notification_problems(now_cases, rig.outbox, rig.hooks)

    await eventually("every allocation notified", undelivered, within=10.0)
