"""The monthly panel's activities: find cases through visibility, read their status, and build
the agenda and the oversight report.

The documents are the build activity's result: they stay in the panel run's history, sealed
by the payload codec like every payload, and the API reads them through the run's `document`
query (workflows/mase_panel.py), so no worker's disk holds them and every API replica finds
them. `store_panel_documents` is kept, writing nothing, for runs started before that.

Cases are found on the worker's own task queue, among `ReferralWorkflow`s: (a) open cases
referred to the panel, (b) open cases scoring 1-3 that are not referred, and (c) for the
report, every open case and every case closed within the report's twelve months. Each case's
`status` query is then the truth (visibility is eventually consistent). A case whose query
fails (its code cannot answer, its workflow task is failing, it does not answer in time) is
counted, logged and flagged on both documents, not fatal: one broken case must not stop the
panel. A server that cannot be reached fails the attempt, and Temporal retries it.

A case whose run ended without the pathway closing it (terminated, timed out, failed:
contract/visibility.py) is found by no query above, which list open runs. It is listed as
`not_running` (ENDED_UNCLOSED runs still their referral's case), and read like the rest: its
status query is refused for a run that did not close cleanly, and the case's own run then says
whether it is out of sight (counted, and flagged on both documents) or closed (read from
that run: a refused start after it is not the case).

Failures: anything raised here fails the attempt and is retried under the named policy of
its activity, except `InvalidInput` (a payload the converter refused), which is final.
CaseUnreadable (a case's query failed) and CaseNotRunning never leave the read activity:
they are counted.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import structlog
from temporalio import activity
from temporalio.client import (
    Client,
    WorkflowHandle,
    WorkflowQueryFailedError,
    WorkflowQueryRejectedError,
)
from temporalio.common import QueryRejectCondition
from temporalio.service import RPCError, RPCStatusCode

from contract import search_attributes as sa
from contract.activities import (
    BUILD_PANEL_DOCUMENTS,
    LIST_PANEL_CASES,
    READ_PANEL_CASES,
    STORE_PANEL_DOCUMENTS,
    BuildRequest,
    ListingRequest,
    PanelDocuments,
    PanelListing,
    ReadCases,
    ReadRequest,
    StoredDocuments,
)
from contract.visibility import (
    ENDED_UNCLOSED,
    cases_on,
    cases_out_of_sight,
    latest_case_run,
    out_of_sight,
)
from domain import panel_documents as docs
from domain.oversight import CaseFacts, oversight, run_date, select_agenda, window_start
from domain.referral import workflow_id_for
from domain.status import CaseStatus

QUERY_TIMEOUT = timedelta(seconds=20)
READ_CONCURRENCY = 8
# A run that did not close cleanly (terminated, failed...) is asked no query: its case is found.
CLEANLY = QueryRejectCondition.NOT_COMPLETED_CLEANLY

log = structlog.get_logger("cse.mase")


def visibility_queries(task_queue: str, since: datetime) -> dict[str, str]:
    """The three list queries; quotes in a task queue name cannot break out of the literal."""
    running = "ExecutionStatus = 'Running'"
    closed_since = f"CloseTime >= '{since.astimezone(UTC):%Y-%m-%dT%H:%M:%SZ}'"
    referred, score = sa.CSE_MASE_REFERRED.name, sa.CSE_RISK_SCORE.name
    return {
        "referred": cases_on(task_queue, f"{referred} = true", running),
        "not_referred": cases_on(
            task_queue, f"{score} >= 1", f"{score} <= 3", f"{referred} = false", running
        ),
        "reported": cases_on(
            task_queue, f"({running} OR (ExecutionStatus = 'Completed' AND {closed_since}))"
        ),
    }


class PanelCases:
    """Reads cases through the worker's own Temporal client."""

    def __init__(
        self, client: Client, task_queue: str, query_timeout: timedelta = QUERY_TIMEOUT
    ) -> None:
        self.client = client
        self.task_queue = task_queue
        self.query_timeout = query_timeout

    @activity.defn(name=LIST_PANEL_CASES)
    async def list_panel_cases(self, request: ListingRequest) -> PanelListing:
        queries = visibility_queries(self.task_queue, window_start(request.as_of))
        found = {name: await self._ids(query) for name, query in queries.items()}
        out = await cases_out_of_sight(self.client, cases_on(self.task_queue, ENDED_UNCLOSED))
        found["not_running"] = sorted(run.id for run in out)
        log.info("panel cases listed", **{name: len(ids) for name, ids in found.items()})
        return PanelListing(**found)

    async def _ids(self, query: str) -> list[str]:
        ids = set()
        async for execution in self.client.list_workflows(query):
            ids.add(execution.id)
            activity.heartbeat()
        return sorted(ids)

    @activity.defn(name=READ_PANEL_CASES)
    async def read_panel_cases(self, request: ReadRequest) -> ReadCases:
        gate = asyncio.Semaphore(READ_CONCURRENCY)
        cases: list[CaseFacts] = []
        unreadable: list[str] = []
        not_running: list[str] = []

        async def read(workflow_id: str) -> None:
            async with gate:
                try:
                    facts = await self._read(workflow_id)
                except CaseUnreadable as err:
                    log.warning("case unreadable", workflow_id=workflow_id, error=str(err))
                    unreadable.append(workflow_id)
                except CaseNotRunning:
                    log.warning("case not running", workflow_id=workflow_id)
                    not_running.append(workflow_id)
                else:
                    cases.extend([facts] if facts else [])
                activity.heartbeat()

        await asyncio.gather(*(read(w) for w in request.workflow_ids))
        cases.sort(key=lambda c: c.referral_id)
        log.info(
            "panel cases read",
            cases=len(cases),
            unreadable=len(unreadable),
            not_running=len(not_running),
        )
        return ReadCases(cases=cases, unreadable=len(unreadable), not_running=len(not_running))

    async def _read(self, workflow_id: str) -> CaseFacts | None:
        """The case's facts; None if it no longer exists (gone since it was listed)."""
        try:
            return await self._facts(self.client.get_workflow_handle(workflow_id), CLEANLY)
        except WorkflowQueryRejectedError:  # its latest run did not close cleanly
            pass
        case = await latest_case_run(self.client, workflow_id)
        if case is None:  # no run opened a case: nothing to count
            return None
        if out_of_sight(case):
            raise CaseNotRunning(workflow_id)
        return await self._facts(self.client.get_workflow_handle(workflow_id, run_id=case.run_id))

    async def _facts(
        self, handle: WorkflowHandle[Any, Any], reject: QueryRejectCondition | None = None
    ) -> CaseFacts | None:
        """The facts of the run `handle` names; WorkflowQueryRejectedError if `reject` says."""
        try:
            status = await handle.query(
                "status",
                result_type=CaseStatus,
                rpc_timeout=self.query_timeout,
                reject_condition=reject,
            )
        except WorkflowQueryRejectedError:
            if reject is None:
                raise CaseUnreadable("the query was rejected") from None
            raise
        except WorkflowQueryFailedError as err:
            raise CaseUnreadable(type(err).__name__) from err
        except RPCError as err:
            if err.status == RPCStatusCode.NOT_FOUND:
                return None
            if err.status in _SERVER_UNREACHABLE:
                raise
            # e.g. FAILED_PRECONDITION "Workflow Task in failed state", or no answer in time:
            # this one case is stuck, not the server.
            raise CaseUnreadable(f"{err.status.name}: {err.message}") from err
        return CaseFacts.from_status(status)


_SERVER_UNREACHABLE = {RPCStatusCode.UNAVAILABLE, RPCStatusCode.UNAUTHENTICATED}


class CaseUnreadable(Exception):
    """A case's status query failed: its code could not answer."""


class CaseNotRunning(Exception):
    """The case's run ended without the pathway closing it: counted, not read."""


@activity.defn(name=BUILD_PANEL_DOCUMENTS)
async def build_panel_documents(request: BuildRequest) -> PanelDocuments:
    """The agenda and the oversight report, as the files to store."""
    cases = request.read.cases
    candidates = set(request.agenda_candidates)
    agenda = select_agenda(c for c in cases if workflow_id_for(c.referral_id) in candidates)
    read = request.read
    report = oversight(cases, request.as_of, read.unreadable, read.not_running)
    day = run_date(request.as_of)
    files = {
        docs.AGENDA_HTML: docs.agenda_html(
            request.panel_name, day, agenda, read.unreadable, read.not_running
        ),
        docs.AGENDA_CSV: docs.agenda_csv(agenda),
        docs.REPORT_HTML: docs.report_html(request.panel_name, report),
        docs.REPORT_JSON: docs.report_json(report),
    }
    return PanelDocuments(
        run_date=day,
        files=files,
        referred=len(agenda.referred),
        not_referred=len(agenda.not_referred),
    )


@activity.defn(name=STORE_PANEL_DOCUMENTS)
async def link_panel_documents(documents: PanelDocuments) -> StoredDocuments:
    """For panel runs started before the documents moved into the run's history: their links.

    Such a run still asks for this activity once; the documents it built are in its history
    (the build activity's result), where the API reads them, so nothing is written."""
    links = docs.links(documents.run_date, documents.files)
    log.info("panel documents kept in the run's history", files=sorted(documents.files))
    return StoredDocuments(links=links)
