"""Opening one case for a caller: does it exist, may they see its team, is it still open.

The team comes from the case's CseTeam search attribute (one describe call); only a case so
new that its workflow has not published it yet is asked for its status instead.

The latest run of `referral-<id>` is the case, unless it never opened one (a start refused as
invalid or as a second case of the id, by a client that ignored REJECT_DUPLICATE): then the
case is the latest run that did, so a closed case's record is never hidden by a stray run.
A case that cannot answer is said plainly: 410 when no run can (start refused, workflow
failed), 503 when it is stuck (its workflow task fails and an operator must act).
"""

from __future__ import annotations

from collections.abc import Awaitable
from dataclasses import dataclass
from datetime import timedelta
from typing import Annotated, Any, TypeVar

from fastapi import Path, Request
from temporalio.client import (
    Client,
    WorkflowExecution,
    WorkflowExecutionStatus,
    WorkflowHandle,
    WorkflowQueryFailedError,
    WorkflowQueryRejectedError,
)
from temporalio.service import RPCError, RPCStatusCode

from api.auth import Identity
from api.deps import forbidden
from api.errors import CaseClosed, CaseGone, CaseStuck
from domain.referral import workflow_id_for
from domain.status import CaseStatus
from edge.visibility import is_a_case, quoted
from workflows import search_attributes as sa

T = TypeVar("T")
RPC_TIMEOUT = timedelta(seconds=10)
# An update waits for the worker to run the workflow's checks; bounded so a stopped worker
# is a 503, not a request that hangs.
UPDATE_TIMEOUT = timedelta(seconds=20)

ReferralId = Annotated[
    str,
    Path(
        pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$",
        description="The referral id the case was started with",
        examples=["R-2026-0001"],
    ),
]


@dataclass(frozen=True)
class OpenedCase:
    referral_id: str
    handle: WorkflowHandle[Any, Any]
    team: str
    running: bool

    async def status(self) -> CaseStatus:
        return await answered(self.referral_id, self.running, query_status(self.handle))

    def refuse_if_closed(self) -> None:
        if not self.running:
            raise CaseClosed(self.referral_id)


async def query_status(handle: WorkflowHandle[Any, Any]) -> CaseStatus:
    status: CaseStatus = await handle.query(
        "status", result_type=CaseStatus, rpc_timeout=RPC_TIMEOUT
    )
    return status


async def answered(referral_id: str, running: bool, asking: Awaitable[T]) -> T:
    """What a case answered; a case that cannot answer is a CaseStuck (still running) or a
    CaseGone (its workflow has ended without a case to show)."""
    try:
        return await asking
    except (WorkflowQueryFailedError, WorkflowQueryRejectedError):
        if running:
            raise CaseStuck(referral_id) from None
        raise CaseGone(referral_id, "its workflow ended before it could open a case") from None
    except RPCError as err:
        if err.status == RPCStatusCode.FAILED_PRECONDITION:  # "Workflow Task in failed state"
            raise CaseStuck(referral_id) from None
        raise


async def open_case(
    client: Client, referral_id: str, user: Identity, request: Request
) -> OpenedCase:
    """The case, if the caller may see it: 404 unknown (RPCError NOT_FOUND), 403 other team."""
    workflow_id = workflow_id_for(referral_id)
    handle = client.get_workflow_handle(workflow_id)
    described = await handle.describe(rpc_timeout=RPC_TIMEOUT)
    running = described.status == WorkflowExecutionStatus.RUNNING
    team = described.typed_search_attributes.get(sa.CSE_TEAM)
    if not is_a_case(described) and not running:  # a refused run: find the case, if any
        case_run = await _run_that_opened_a_case(client, referral_id, workflow_id)
        handle = client.get_workflow_handle(workflow_id, run_id=case_run.run_id)
        running = case_run.status == WorkflowExecutionStatus.RUNNING
        team = case_run.typed_search_attributes.get(sa.CSE_TEAM)
    if team is None:
        if running and described.raw_description.pending_workflow_task.attempt > 1:
            raise CaseStuck(referral_id)  # its first task keeps failing: no query could answer
        team = (await answered(referral_id, running, query_status(handle))).team
    if not user.may_see_team(team):
        raise forbidden(request, user, f"this case belongs to another team than {user.team}")
    return OpenedCase(referral_id=referral_id, handle=handle, team=team, running=running)


async def _run_that_opened_a_case(
    client: Client, referral_id: str, workflow_id: str
) -> WorkflowExecution:
    """The latest run of the workflow id that opened a case: the referral's case."""
    query = f"WorkflowId = {quoted(workflow_id)}"
    runs = [
        run async for run in client.list_workflows(query, rpc_timeout=RPC_TIMEOUT) if is_a_case(run)
    ]
    if not runs:
        raise CaseGone(referral_id, "its start was refused, so no case was ever opened")
    return max(runs, key=lambda run: run.start_time)
