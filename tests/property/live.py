"""Sending generated payloads to ReferralWorkflow on the time-skipping server, as an outside
client does: untyped calls, JSON bytes as they were generated, answers read as plain JSON."""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Any

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from temporalio.api.common.v1 import Payload
from temporalio.api.enums.v1 import EventType, WorkflowTaskFailedCause
from temporalio.client import WorkflowHandle
from temporalio.common import RawValue
from temporalio.testing import WorkflowEnvironment

from tests.conftest import STARTED
from tests.property.tally import TALLY

TASK_FAILED = EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED
CLOSED = {
    EventType.EVENT_TYPE_WORKFLOW_EXECUTION_FAILED: "failed",
    EventType.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED: "completed",
    EventType.EVENT_TYPE_WORKFLOW_EXECUTION_TERMINATED: "terminated",
    EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW: "continued",
}
UNHANDLED_COMMAND = WorkflowTaskFailedCause.WORKFLOW_TASK_FAILED_CAUSE_UNHANDLED_COMMAND
SETTLE_SECONDS = 10.0


def drawn(strategy: st.SearchStrategy[Any], n: int) -> list[Any]:
    """`n` examples of `strategy`, the same ones on every run (derandomized)."""
    found: list[Any] = []

    @settings(
        max_examples=n,
        derandomize=True,
        database=None,
        deadline=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(strategy)
    def collect(value: Any) -> None:
        found.append(value)

    collect()
    return found


def raw(payload: Payload) -> RawValue:
    """Sent exactly as generated (the client's codec still seals it)."""
    return RawValue(payload)


async def start(
    env: WorkflowEnvironment, task_queue: str, workflow_id: str, args: list[Any]
) -> WorkflowHandle[Any, Any]:
    handle: WorkflowHandle[Any, Any] = await env.client.start_workflow(
        "ReferralWorkflow", args=args, id=workflow_id, task_queue=task_queue
    )
    STARTED.append(handle)  # terminated when the test's worker stops
    return handle


async def settle(handle: WorkflowHandle[Any, Any]) -> str:
    """How a new case came out of its first workflow task: "running", "failed" (or another
    close), "task_failed", or "stuck" if nothing happened in time. Read from the history,
    never by waiting on the result, which would let the server skip time for every case."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + SETTLE_SECONDS
    while True:
        kinds = [e.event_type for e in (await handle.fetch_history()).events]
        if TASK_FAILED in kinds:
            return "task_failed"
        closed = [CLOSED[k] for k in kinds if k in CLOSED]
        if closed:
            return closed[0]
        if EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED in kinds:
            return "running"
        if loop.time() > deadline:
            return "stuck"
        await asyncio.sleep(0.05)


async def failed_tasks(env: WorkflowEnvironment, handle: WorkflowHandle[Any, Any]) -> list[str]:
    """Why each workflow task in the case's history failed, tallied for the summary.

    One cause is the server's, not the workflow's: UNHANDLED_COMMAND, when a run completes
    in the same task as an update arrives (a burst that closes the case). The server refuses
    the completion, the run takes the update in its next task (refusing it: the case is
    closed) and completes then. Those are counted apart and not returned; any other failed
    task is a case stuck retrying and is returned, with its decoded failure.
    """
    history = await handle.fetch_history()
    found = []
    for event in history.events:
        if event.event_type != TASK_FAILED:
            continue
        failed = event.workflow_task_failed_event_attributes
        if failed.cause == UNHANDLED_COMMAND and closes(history.events):
            TALLY["workflow_tasks_failed_by_server_unhandled_command"] += 1
            continue
        why = await env.client.data_converter.decode_failure(failed.failure)
        found.append(f"{WorkflowTaskFailedCause.Name(failed.cause)}: {why!r}")
    TALLY["workflow.histories_checked"] += 1
    TALLY["failed_workflow_tasks"] += len(found)
    return found


def closes(events: Any) -> bool:
    """The run ended (completed, failed or continued as new): only a closing run's task is
    refused as UNHANDLED_COMMAND."""
    return any(e.event_type in CLOSED for e in events)


async def server_now(env: WorkflowEnvironment) -> datetime:
    return await env.get_current_time()
