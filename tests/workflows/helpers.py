"""Driving a case in tests the way a practitioner's client does: typed updates and queries."""

import asyncio
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import pytest
from temporalio.api.testservice.v1 import SleepRequest
from temporalio.client import WorkflowFailureError, WorkflowHandle
from temporalio.common import SearchAttributeKey
from temporalio.common import SearchAttributeValueType as Value
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError
from temporalio.testing import WorkflowEnvironment

from domain.calendar import LONDON, WorkingDayCalendar
from domain.errors import INVALID_INPUT
from domain.referral import Referral
from domain.status import CaseStatus, Clock
from tests.conftest import STARTED
from tests.polling import settled
from workflows.referral import ReferralWorkflow

Handle = WorkflowHandle[ReferralWorkflow, CaseStatus]
CALENDAR = WorkingDayCalendar()
QUERY_TIMEOUT = timedelta(seconds=2)  # a query stuck between two runs is asked again
SLEEP_CALL_DEADLINE = timedelta(seconds=3)


def referral(received_at: datetime, **overrides: Any) -> Referral:
    fields: dict[str, Any] = {
        "referral_id": f"T-{uuid.uuid4().hex[:10]}",
        "received_at": received_at,
        "child_ref": "PERSON-TEST-0001",
        "team": "RAI-2",
        "referrer_agency": "school",
        "concerns": ["sexual_health", "running_away"],
        "significant_harm_suspected": False,
        "summary": "confidential summary that must never leave the case",
    }
    return Referral.model_validate(fields | overrides)


async def start(env: WorkflowEnvironment, task_queue: str, **overrides: Any) -> Handle:
    received_at = overrides.pop("received_at", None) or await env.get_current_time()
    case = referral(received_at, **overrides)
    handle = await env.client.start_workflow(
        ReferralWorkflow.run, case, id=case.workflow_id, task_queue=task_queue
    )
    STARTED.append(handle)
    return handle


async def now(env: WorkflowEnvironment) -> datetime:
    return await env.get_current_time()


async def eventually(
    handle: Handle, holds: Callable[[CaseStatus], bool], seconds: float = 10
) -> CaseStatus:
    """Query until `holds` (a timer's effects land on the next workflow task, not at once);
    the last status after `seconds`, for the test's assert to show. An RPCError (e.g. asked
    between two runs of a case continuing as new) is asked again."""

    async def status() -> CaseStatus:
        return await handle.query(ReferralWorkflow.status, rpc_timeout=QUERY_TIMEOUT)

    return await settled(status, holds, seconds, retrying=(RPCError,))


async def published(
    handle: Handle, key: SearchAttributeKey[Value], seconds: float = 10
) -> Value | None:
    """A search attribute once the case has published it (after its first activity, the
    check for an earlier case of its referral id), or None after `seconds`."""

    async def value() -> Value | None:
        return (await handle.describe()).typed_search_attributes.get(key)

    return await settled(value, lambda found: found is not None, seconds)


async def invalid_input(handle: Handle) -> ApplicationError:
    """Why the case's run failed: asserted an InvalidInput refusal (the workflow's own check
    of what it was started with), for the test to check its message."""
    with pytest.raises(WorkflowFailureError) as failure:
        await handle.result()
    cause = failure.value.cause
    assert isinstance(cause, ApplicationError)
    assert cause.type == INVALID_INPUT
    return cause


def running(status: CaseStatus, name: str) -> Clock:
    clocks = [c for c in status.clocks if c.name == name and c.stopped_at is None]
    assert len(clocks) == 1, f"expected one running {name} clock, got {clocks}"
    return clocks[0]


def clock_by_id(status: CaseStatus, clock_id: str) -> Clock:
    return next(c for c in status.clocks if c.id == clock_id)


async def skip_to(env: WorkflowEnvironment, moment: datetime, tries: int = 20) -> None:
    """Skip the server's clock to `moment`, asking again for what is left when a sleep call
    does not answer within a few seconds.

    The time-skipping server now and then leaves a sleep call standing still until the call's
    deadline (30 s by default, "Timeout expired"; once "h2 protocol error") after the
    previous test's case was terminated, and skips at once when asked again. Skipping days
    past many cases can also outlast a deadline on a busy machine; the server goes on
    skipping, and the next ask takes what is left."""
    for attempt in range(1, tries + 1):
        gap = moment - await env.get_current_time()
        if gap <= timedelta(0):
            return
        request = SleepRequest()
        request.duration.FromTimedelta(gap)
        try:
            await env.client.test_service.unlock_time_skipping_with_sleep(
                request, timeout=SLEEP_CALL_DEADLINE
            )
        except RPCError:
            if attempt == tries:
                raise
            await asyncio.sleep(min(attempt, 5) / 10)


async def skip_to_next_monday_morning(env: WorkflowEnvironment) -> datetime:
    """Start on a fresh working week so no rung of a new ladder is already in the past."""
    t = (await env.get_current_time()).astimezone(LONDON)
    days = 7 - t.weekday()
    monday = (t + timedelta(days=days)).replace(hour=9, minute=0, second=0, microsecond=0)
    while not CALENDAR.is_working_day(monday.date()):
        monday += timedelta(days=7)
    await skip_to(env, monday)
    return monday
