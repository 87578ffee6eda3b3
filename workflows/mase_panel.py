"""MasePanelWorkflow: the monthly panel run, started by the `mase-panel-monthly` Schedule.

The story, top to bottom: find the cases (visibility), read each one's status, build the
agenda and the oversight report, and tell the panel's roles where they are. Every step is an
activity with a timeout and a named retry policy; the workflow only orders them. The run's
time is the schedule's action time, so the documents' date and the notifications' ids are the
same however often the run is retried.

The documents stay in the run: the build activity's result, in its history (sealed like every
payload), answered by the `document` query to whichever API replica asks (edge/panel_runs.py),
for as long as the namespace keeps the run. Runs started before `panel-documents-in-history`
stored them on the worker's disk through one more activity; they replay down that branch.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from contract.activities import (
        BUILD_PANEL_DOCUMENTS,
        BUILD_TIMEOUT,
        LIST_PANEL_CASES,
        NOTIFY,
        NOTIFY_RETRY,
        NOTIFY_TIMEOUT,
        PANEL_BUILD_RETRY,
        PANEL_READ_RETRY,
        PANEL_STORE_RETRY,
        READ_HEARTBEAT,
        READ_PANEL_CASES,
        READ_TIMEOUT,
        STORE_PANEL_DOCUMENTS,
        STORE_TIMEOUT,
        BuildRequest,
        ListingRequest,
        PanelDocuments,
        PanelListing,
        ReadCases,
        ReadRequest,
        StoredDocuments,
    )
    from contract.workflows import (
        DOCUMENT_QUERY,
        MASE_PANEL_WORKFLOW,
        SCHEDULED_START,
        PanelOutcome,
    )
    from domain import panel_documents as docs
    from domain.notifications import Notification
    from domain.oversight import PanelRun, panel_notifications

# The documents are kept in the run's history and read through its `document` query; runs
# before it also asked a worker to store them on its disk.
DOCUMENTS_IN_HISTORY = "panel-documents-in-history"


@workflow.defn(name=MASE_PANEL_WORKFLOW)
class MasePanelWorkflow:
    def __init__(self) -> None:
        self._documents: PanelDocuments | None = None

    @workflow.query(name=DOCUMENT_QUERY)
    def document(self, request: docs.DocumentRequest) -> docs.PanelDocument:
        """One of the run's documents; no content before they are built or for another name."""
        built = self._documents
        if built is None:
            return docs.PanelDocument(name=request.name)
        content = built.files.get(request.name)
        return docs.PanelDocument(run_date=built.run_date, name=request.name, content=content)

    @workflow.run
    async def run(self, request: PanelRun) -> PanelOutcome:
        as_of = action_time()
        listing = await self._list(as_of)
        read = await self._read(listing)
        documents = await workflow.execute_activity(
            BUILD_PANEL_DOCUMENTS,
            BuildRequest(
                panel_name=request.panel_name,
                as_of=as_of,
                agenda_candidates=sorted({*listing.referred, *listing.not_referred}),
                read=read,
            ),
            result_type=PanelDocuments,
            start_to_close_timeout=BUILD_TIMEOUT,
            retry_policy=PANEL_BUILD_RETRY,
        )
        self._documents = documents
        stored = await self._links(documents)
        sent = await self._notify(request, as_of, documents.run_date, stored)
        workflow.logger.info(
            "panel run done: %d referred, %d scoring 1-3 not referred",
            documents.referred,
            documents.not_referred,
        )
        return PanelOutcome(
            run_date=documents.run_date,
            referred=documents.referred,
            not_referred=documents.not_referred,
            links=stored.links,
            notifications=sent,
        )

    async def _links(self, documents: PanelDocuments) -> StoredDocuments:
        if workflow.patched(DOCUMENTS_IN_HISTORY):
            return StoredDocuments(links=docs.links(documents.run_date, documents.files))
        stored: StoredDocuments = await workflow.execute_activity(
            STORE_PANEL_DOCUMENTS,
            documents,
            result_type=StoredDocuments,
            start_to_close_timeout=STORE_TIMEOUT,
            retry_policy=PANEL_STORE_RETRY,
        )
        return stored

    async def _list(self, as_of: datetime) -> PanelListing:
        listing: PanelListing = await workflow.execute_activity(
            LIST_PANEL_CASES,
            ListingRequest(as_of=as_of),
            result_type=PanelListing,
            start_to_close_timeout=READ_TIMEOUT,
            heartbeat_timeout=READ_HEARTBEAT,
            retry_policy=PANEL_READ_RETRY,
        )
        return listing

    async def _read(self, listing: PanelListing) -> ReadCases:
        read: ReadCases = await workflow.execute_activity(
            READ_PANEL_CASES,
            ReadRequest(workflow_ids=listing.every_case),
            result_type=ReadCases,
            start_to_close_timeout=READ_TIMEOUT,
            heartbeat_timeout=READ_HEARTBEAT,
            retry_policy=PANEL_READ_RETRY,
        )
        return read

    async def _notify(
        self, request: PanelRun, as_of: datetime, day: date, stored: StoredDocuments
    ) -> list[str]:
        run_key = f"{workflow.info().workflow_id}@{as_of.astimezone(UTC):%Y%m%dT%H%M%SZ}"
        notifications = panel_notifications(request.panel_name, run_key, day, stored.links)
        await asyncio.gather(*(_send(n) for n in notifications))
        return [n.notification_id for n in notifications]


async def _send(notification: Notification) -> None:
    await workflow.execute_activity(
        NOTIFY,
        notification,
        start_to_close_timeout=NOTIFY_TIMEOUT,
        retry_policy=NOTIFY_RETRY,
    )


def action_time() -> datetime:
    """When the schedule's action was due; for a run started by hand, when it started."""
    scheduled = workflow.info().typed_search_attributes.get(SCHEDULED_START)
    return scheduled or workflow.info().workflow_start_time
