"""The panel's documents behind the links its notifications carry, each for the roles it is for.

A real panel run on the session's sealed worker keeps them in its history; the API reads them
through the run's `document` query, with nothing on any disk.
"""

from __future__ import annotations

import re
from datetime import date, timedelta

import httpx
import pytest
from fastapi import FastAPI

from contract.workflows import PanelOutcome
from edge.panel_runs import panel_runs_query
from tests.api.conftest import Users, run_the_panel

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
async def panel_run(app: FastAPI) -> PanelOutcome:
    """A panel run started by hand on the worker's task queue, finished and visible."""
    return await run_the_panel(app, "panel-api")


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


async def test_a_link_opened_in_a_browser_signs_in_on_the_dashboard_then_shows_it(
    app: FastAPI, users: Users, panel_run: PanelOutcome
) -> None:
    link = panel_run.links["agenda.html"]
    page = {"accept": "text/html,application/xhtml+xml"}
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(
        transport=transport, base_url="http://dash", headers={"Origin": "http://dash"}
    ) as browser:
        followed = await browser.get(link, headers=page)
        assert followed.status_code == 303
        assert followed.headers["location"] == f"/dashboard{link}"
        asked = await browser.get(followed.headers["location"], headers=page)
        assert asked.status_code == 303
        assert asked.headers["location"].startswith("/dashboard/login?next=")
        login = await browser.get(asked.headers["location"])
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', login.text)
        assert csrf is not None
        back_to = re.search(r'name="next" value="([^"]+)"', login.text)
        assert back_to is not None
        form = {"token": users.manager_a.token, "csrf_token": csrf.group(1), "next": back_to[1]}
        signed_in = await browser.post(asked.headers["location"], data=form)
        assert signed_in.status_code == 303
        assert signed_in.headers["location"] == f"/dashboard{link}"
        shown = await browser.get(signed_in.headers["location"], headers=page)
        assert shown.status_code == 200, shown.text
        assert "MASE panel agenda" in shown.text
        report = await browser.get(f"/dashboard/reports/{panel_run.run_date}/oversight.html")
        assert report.status_code == 403  # a manager reads the agenda, not the report
    async with httpx.AsyncClient(transport=transport, base_url="http://dash") as script:
        assert (await script.get(link)).status_code == 401  # no token, and not a browser
