"""Sending generated payloads to ReferralWorkflow on the time-skipping server, as an outside
client does: untyped calls, JSON bytes as they were generated, answers read as plain JSON."""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Any

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from temporalio.api.common.v1 import Payload
from temporalio.api.enums.v1 import EventType
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


async def failed_tasks(handle: WorkflowHandle[Any, Any]) -> int:
    """Failed workflow tasks in the case's history, tallied for the summary."""
    history = await handle.fetch_history()
    failed = sum(e.event_type == TASK_FAILED for e in history.events)
    TALLY["workflow.histories_checked"] += 1
    TALLY["failed_workflow_tasks"] += failed
    return failed


async def server_now(env: WorkflowEnvironment) -> datetime:
    return await env.get_current_time()
