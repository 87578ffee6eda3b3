"""Opening one case for a caller: does it exist, may they see its team, is it still open.

The team comes from the case's CseTeam search attribute (one describe call); only a case so
new that its workflow has not published it yet is asked for its status instead.

The latest run of `referral-<id>` is the case, unless it never opened one (a start refused as
invalid or as a second case of the id, by a client that ignored REJECT_DUPLICATE): then the
case is the latest run that did, so a closed case's record is never hidden by a stray run.
A case that cannot answer is said plainly: 410 when no run ever opened one (its start was
refused), and 503 naming why (edge/diagnosis.py) when it is stuck, open or closed: at once when
describe() shows its workflow task failing or waiting on a queue no worker polls, else when a
query or an update fails or times out.

A case whose run ended without the pathway closing it (terminated, timed out, failed,
canceled: contract/visibility.py) is out of sight: its last status would show it on time with its
next step months ahead while no clock fires again. Every route of the case answers 503
instead (CaseNotRunning), whose `reason` says what ended the run and `operator_action` gives
the `temporal workflow reset` that brings it back; after the reset the case answers again.

A MASE chair opens only the cases listed on the latest panel agenda (docs/rules.md, The MASE panel;
edge/panel_runs.py finds it): any other referral id is 403 before the case is looked at, so
the answer never says whether a case exists.
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

from api.auth import Identity
from api.deps import forbidden
from api.errors import CaseClosed, CaseGone, CaseStuck, Unavailable
from contract import search_attributes as sa
from contract.visibility import latest_case_run, opened_a_case
from domain.events import Event
from domain.panel_documents import AGENDA_CSV, agenda_referral_ids
from domain.referral import workflow_id_for
from domain.status import CaseStatus, Receipt
from edge.diagnosis import Diagnosis, why_ended, why_failed, why_stuck
from edge.panel_runs import latest_panel_document
from edge.settings import Settings

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


class CaseNotRunning(CaseStuck):
    """503: the case's run ended without the pathway closing it; the operator resets it."""

    def __init__(self, referral_id: str, ended: Diagnosis) -> None:
        Unavailable.__init__(
            self,
            f"the case for referral {referral_id} is not running: {ended.detail}. It needs "
            "attention: the operator must bring it back (operator_action says how)",
            reason=ended.reason.value,
            operator_action=ended.operator_action,
        )


@dataclass(frozen=True)
class OpenedCase:
    referral_id: str
    client: Client
    handle: WorkflowHandle[Any, Any]
    team: str
    running: bool

    async def status(self) -> CaseStatus:
        return await answered(self.client, self.referral_id, self.handle, query_status(self.handle))

    async def update(self, event: Event, update_id: str) -> Receipt:
        """Record `event` under `update_id`: Temporal records one id once per case run."""
        receipt: Receipt = await answered(
            self.client,
            self.referral_id,
            self.handle,
            self.handle.execute_update(
                event.name, event, id=update_id, result_type=Receipt, rpc_timeout=UPDATE_TIMEOUT
            ),
        )
        return receipt

    def refuse_if_closed(self) -> None:
        if not self.running:
            raise CaseClosed(self.referral_id)


async def query_status(handle: WorkflowHandle[Any, Any]) -> CaseStatus:
    status: CaseStatus = await handle.query(
        "status", result_type=CaseStatus, rpc_timeout=RPC_TIMEOUT
    )
    return status


async def answered(
    client: Client, referral_id: str, handle: WorkflowHandle[Any, Any], asking: Awaitable[T]
) -> T:
    """What a case answered; a case that cannot answer is a CaseStuck saying why."""
    try:
        return await asking
    except Exception as err:
        trouble = await why_failed(client, handle.id, handle.run_id, err, "this API's")
        if trouble is None:
            raise
        raise CaseStuck(referral_id, trouble) from None


async def open_case(
    client: Client, referral_id: str, user: Identity, request: Request
) -> OpenedCase:
    """The case, if the caller may see it: 404 unknown (RPCError NOT_FOUND), 403 other team,
    503 stuck when describe() already shows why, or out of sight (CaseNotRunning)."""
    if user.reads_agenda_cases_only:
        await _on_the_latest_agenda(client, referral_id, user, request)
    workflow_id = workflow_id_for(referral_id)
    handle = client.get_workflow_handle(workflow_id)
    described = await handle.describe(rpc_timeout=RPC_TIMEOUT)
    run: WorkflowExecution = described
    if not await opened_a_case(client, described):  # a refused run: find the case, if any
        run = await _run_that_opened_a_case(client, referral_id, workflow_id)
        handle = client.get_workflow_handle(workflow_id, run_id=run.run_id)
    team = run.typed_search_attributes.get(sa.CSE_TEAM)
    if team is not None:
        _may_see(request, user, team)
    trouble = await why_stuck(client, described)
    if trouble is not None:
        raise CaseStuck(referral_id, trouble)
    if team is None:  # so new that it has not published its team yet: ask the case
        team = (await answered(client, referral_id, handle, query_status(handle))).team
        _may_see(request, user, team)
    ended = await why_ended(client, run)
    if ended is not None:
        raise CaseNotRunning(referral_id, ended)
    running = run.status == WorkflowExecutionStatus.RUNNING
    return OpenedCase(
        referral_id=referral_id, client=client, handle=handle, team=team, running=running
    )


def _may_see(request: Request, user: Identity, team: str) -> None:
    if not user.may_see_team(team):
        raise forbidden(request, user, f"this case belongs to another team than {user.team}")


NOT_ON_THE_AGENDA = "a {role} opens only the cases on the latest panel agenda{of}"
AGENDA_UNANSWERED = "the latest panel run could not answer: try again shortly, or ask the operator"


async def _on_the_latest_agenda(
    client: Client, referral_id: str, user: Identity, request: Request
) -> None:
    settings: Settings = request.app.state.settings
    try:
        agenda = await latest_panel_document(client, settings.task_queue, AGENDA_CSV)
    except (WorkflowQueryFailedError, WorkflowQueryRejectedError):
        raise Unavailable(AGENDA_UNANSWERED) from None
    if agenda is None or agenda.content is None:
        raise forbidden(request, user, NOT_ON_THE_AGENDA.format(role=user.role.value, of=""))
    if referral_id not in agenda_referral_ids(agenda.content):
        of = f" (of {agenda.run_date})" if agenda.run_date else ""
        raise forbidden(request, user, NOT_ON_THE_AGENDA.format(role=user.role.value, of=of))


async def _run_that_opened_a_case(
    client: Client, referral_id: str, workflow_id: str
) -> WorkflowExecution:
    """The referral's case: its latest run that opened a case (contract/visibility.py)."""
    run = await latest_case_run(client, workflow_id)
    if run is None:
        raise CaseGone(referral_id, "its start was refused, so no case was ever opened")
    return run
