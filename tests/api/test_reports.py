"""The panel's documents behind the links its notifications carry, each for the roles it is for.

A real panel run on the session's sealed worker keeps them in its history; the API reads them
through the run's `document` query, with nothing on any disk.
"""

from __future__ import annotations

import uuid
from datetime import date, timedelta

import httpx
import pytest
from fastapi import FastAPI
from temporalio.client import Client

from domain.oversight import PanelRun
from edge.panel_runs import panel_runs_query
from tests.api.conftest import Users, eventually
from workflows.mase_panel import MasePanelWorkflow, PanelOutcome

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
async def panel_run(app: FastAPI) -> PanelOutcome:
    """A panel run started by hand on the worker's task queue, finished and visible."""
    client: Client = app.state.client
    task_queue = app.state.settings.task_queue
    outcome = await client.execute_workflow(
        MasePanelWorkflow.run,
        PanelRun(panel_name="MASE"),
        id=f"mase-panel-api-{uuid.uuid4().hex[:8]}",
        task_queue=task_queue,
    )

    async def listed() -> bool:
        query = panel_runs_query(task_queue, outcome.run_date)
        return bool([run async for run in client.list_workflows(query)])

    await eventually("the panel run to be visible", listed)
    return outcome


async def test_managers_read_the_agenda_and_analysts_do_not(
    api: httpx.AsyncClient, users: Users, panel_run: PanelOutcome
) -> None:
    link = panel_run.links["agenda.html"]
    assert link == f"/reports/{panel_run.run_date.isoformat()}/agenda.html"
    for reader in (users.manager_a, users.head_of_service):
        answer = await api.get(link, headers=reader.headers)
        assert answer.status_code == 200, answer.text
        assert "MASE panel agenda" in answer.text
        assert answer.headers["content-type"].startswith("text/html")
    csv_link = panel_run.links["agenda.csv"]
    answer = await api.get(csv_link, headers=users.head_of_service.headers)
    assert answer.status_code == 200
    assert answer.text.startswith("section,referral_id,")
    assert answer.headers["content-type"].startswith("text/csv")
    for outsider in (users.analyst, users.social_worker_a, users.intake):
        answer = await api.get(csv_link, headers=outsider.headers)
        assert answer.status_code == 403, outsider.role
        assert "agenda" in answer.json()["detail"]


async def test_analysts_and_heads_of_service_read_the_oversight_report(
    api: httpx.AsyncClient, users: Users, panel_run: PanelOutcome
) -> None:
    day = panel_run.run_date.isoformat()
    for reader in (users.analyst, users.head_of_service):
        answer = await api.get(f"/reports/{day}/oversight.json", headers=reader.headers)
        assert answer.status_code == 200
        assert answer.headers["content-type"] == "application/json"
        assert "open_cases" in answer.json()
    report = await api.get(panel_run.links["oversight.html"], headers=users.analyst.headers)
    assert "MASE oversight report" in report.text
    answer = await api.get(f"/reports/{day}/oversight.html", headers=users.manager_a.headers)
    assert answer.status_code == 403


async def test_unknown_documents_and_runs_are_404_and_paths_cannot_escape(
    api: httpx.AsyncClient, users: Users, panel_run: PanelOutcome
) -> None:
    hos = users.head_of_service.headers
    no_run = (panel_run.run_date - timedelta(days=400)).isoformat()
    assert (await api.get(f"/reports/{no_run}/agenda.html", headers=hos)).status_code == 404
    day = panel_run.run_date.isoformat()
    assert (await api.get(f"/reports/{day}/secrets.txt", headers=hos)).status_code == 404
    assert (await api.get("/reports/2026-02-31/agenda.html", headers=hos)).status_code == 404
    escape = await api.get("/reports/..%2F..%2Fetc/agenda.html", headers=hos)
    assert escape.status_code in (404, 422)
    assert (await api.get(f"/reports/{day}/agenda.html")).status_code == 401


def test_a_run_date_looks_at_runs_started_that_london_day_and_the_catch_up_after() -> None:
    query = panel_runs_query("cse-referrals", date(2026, 7, 7))  # British Summer Time
    assert "TaskQueue = 'cse-referrals'" in query
    assert "StartTime >= '2026-07-06T23:00:00Z'" in query
    assert "StartTime < '2026-07-10T00:00:00Z'" in query
