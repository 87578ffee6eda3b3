"""The panel's documents behind the links its notifications carry, each for the roles it is for."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from tests.api.conftest import Users

pytestmark = pytest.mark.e2e

RUN = "2026-12-01"


@pytest.fixture(scope="module")
def panel_run(app: FastAPI) -> Path:
    folder = Path(app.state.settings.reports_dir) / RUN
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "agenda.html").write_text("<h1>MASE agenda</h1><td>R-1</td>", encoding="utf-8")
    (folder / "agenda.csv").write_text("referral_id\nR-1\n", encoding="utf-8")
    (folder / "oversight.html").write_text("<h1>Oversight</h1>", encoding="utf-8")
    (folder / "oversight.json").write_text('{"open_cases": 1}', encoding="utf-8")
    return folder


async def test_managers_read_the_agenda_and_analysts_do_not(
    api: httpx.AsyncClient, users: Users, panel_run: Path
) -> None:
    for reader in (users.manager_a, users.head_of_service):
        answer = await api.get(f"/reports/{RUN}/agenda.html", headers=reader.headers)
        assert answer.status_code == 200, answer.text
        assert "R-1" in answer.text
        assert answer.headers["content-type"].startswith("text/html")
    for outsider in (users.analyst, users.social_worker_a, users.intake):
        answer = await api.get(f"/reports/{RUN}/agenda.csv", headers=outsider.headers)
        assert answer.status_code == 403, outsider.role
        assert "agenda" in answer.json()["detail"]


async def test_analysts_and_heads_of_service_read_the_oversight_report(
    api: httpx.AsyncClient, users: Users, panel_run: Path
) -> None:
    for reader in (users.analyst, users.head_of_service):
        answer = await api.get(f"/reports/{RUN}/oversight.json", headers=reader.headers)
        assert answer.status_code == 200
        assert answer.json() == {"open_cases": 1}
    answer = await api.get(f"/reports/{RUN}/oversight.html", headers=users.manager_a.headers)
    assert answer.status_code == 403


async def test_unknown_documents_and_runs_are_404_and_paths_cannot_escape(
    api: httpx.AsyncClient, users: Users, panel_run: Path
) -> None:
    hos = users.head_of_service.headers
    assert (await api.get("/reports/2026-11-03/agenda.html", headers=hos)).status_code == 404
    assert (await api.get(f"/reports/{RUN}/secrets.txt", headers=hos)).status_code == 404
    escape = await api.get("/reports/..%2F..%2Fetc/agenda.html", headers=hos)
    assert escape.status_code in (404, 422)
    assert (await api.get(f"/reports/{RUN}/agenda.html")).status_code == 401
