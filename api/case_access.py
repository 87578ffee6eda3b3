"""Opening one case for a caller: does it exist, may they see its team, is it still open.

The team comes from the case's CseTeam search attribute (one describe call); only a case so
new that its workflow has not published it yet is asked for its status instead.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Annotated, Any

from fastapi import Path, Request
from temporalio.client import Client, WorkflowExecutionStatus, WorkflowHandle

from api.auth import Identity
from api.deps import forbidden
from api.errors import CaseClosed
from domain.models import CaseStatus, workflow_id_for
from workflows import search_attributes as sa

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
        return await query_status(self.handle)

    def refuse_if_closed(self) -> None:
        if not self.running:
            raise CaseClosed(self.referral_id)


async def query_status(handle: WorkflowHandle[Any, Any]) -> CaseStatus:
    status: CaseStatus = await handle.query(
        "status", result_type=CaseStatus, rpc_timeout=RPC_TIMEOUT
    )
    return status


async def open_case(
    client: Client, referral_id: str, user: Identity, request: Request
) -> OpenedCase:
    """The case, if the caller may see it: 404 unknown (RPCError NOT_FOUND), 403 other team."""
    handle = client.get_workflow_handle(workflow_id_for(referral_id))
    described = await handle.describe(rpc_timeout=RPC_TIMEOUT)
    team = described.typed_search_attributes.get(sa.CSE_TEAM)
    if team is None:
        team = (await query_status(handle)).team
    if not user.may_see_team(team):
        raise forbidden(request, user, f"this case belongs to another team than {user.team}")
    running = described.status == WorkflowExecutionStatus.RUNNING
    return OpenedCase(referral_id=referral_id, handle=handle, team=team, running=running)
