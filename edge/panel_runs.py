"""A panel run's documents, wherever they are asked for: found through visibility and read
through the run's `document` query, so any API replica answers any run's link.

The documents live in the run's history, sealed by the payload codec (workflows/mase_panel.py);
this client opens them with the service's keys. A run's date is the London day of its action
time: the schedule's `TemporalScheduledStartTime`, or the start time of a run started by hand.
A run the schedule caught up late started up to CATCH_UP after that, so runs started in the
day and the CATCH_UP after it are looked at, latest first; the latest run of the day with the
document answers (as a second run of a day replaced the first one's files on disk before).
The latest agenda (`latest_panel_document`) is that of the run with the latest action time of
all the task queue's panel runs that has one: it says which cases a MASE chair may open.

Errors: what the client raises (RPCError, e.g. no worker answers the query in time) goes to
the caller, which maps it (api/errors.py).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from temporalio.client import Client, WorkflowExecution

from contract.visibility import quoted
from contract.workflows import SCHEDULED_START
from domain.calendar import LONDON
from domain.oversight import run_date
from domain.panel_documents import DocumentRequest, PanelDocument

CATCH_UP = timedelta(days=2, hours=1)  # the schedule's catch-up window, and an hour to spare
QUERY_TIMEOUT = timedelta(seconds=20)


def panel_runs_query(task_queue: str, day: date) -> str:
    """The panel runs on `task_queue` that may be `day`'s run (`quoted` keeps the literal)."""
    first = datetime.combine(day, time(0), LONDON).astimezone(UTC)
    last = datetime.combine(day + timedelta(days=1), time(0), LONDON).astimezone(UTC) + CATCH_UP
    return (
        f"WorkflowType = 'MasePanelWorkflow' AND TaskQueue = {quoted(task_queue)} "
        f"AND StartTime >= '{first:%Y-%m-%dT%H:%M:%SZ}' AND StartTime < '{last:%Y-%m-%dT%H:%M:%SZ}'"
    )


def all_panel_runs_query(task_queue: str) -> str:
    return f"WorkflowType = 'MasePanelWorkflow' AND TaskQueue = {quoted(task_queue)}"


def action_time(execution: WorkflowExecution) -> datetime:
    return execution.typed_search_attributes.get(SCHEDULED_START) or execution.start_time


async def panel_document(
    client: Client, task_queue: str, day: date, name: str
) -> PanelDocument | None:
    """Document `name` of the latest run of `day` that has it; None when no run has."""
    runs = [
        execution
        async for execution in client.list_workflows(panel_runs_query(task_queue, day))
        if run_date(action_time(execution)) == day
    ]
    return await _latest_with(client, runs, name)


async def latest_panel_document(client: Client, task_queue: str, name: str) -> PanelDocument | None:
    """Document `name` of the latest panel run of all that has it; None when none has.
    (Visibility cannot sort on every store, so the runs, one a month, are sorted here.)"""
    runs = [
        execution async for execution in client.list_workflows(all_panel_runs_query(task_queue))
    ]
    return await _latest_with(client, runs, name)


async def _latest_with(
    client: Client, runs: list[WorkflowExecution], name: str
) -> PanelDocument | None:
    for execution in sorted(runs, key=action_time, reverse=True):
        handle = client.get_workflow_handle(execution.id, run_id=execution.run_id)
        found: PanelDocument = await handle.query(
            "document",
            DocumentRequest(name=name),
            result_type=PanelDocument,
            rpc_timeout=QUERY_TIMEOUT,
        )
        if found.content is not None:
            return found
    return None
