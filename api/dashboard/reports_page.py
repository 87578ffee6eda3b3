"""The panel's documents for a person who followed a notification's link in a browser: the
API sends a browser without a token here (api/routes/reports.py), and the dashboard's sign-in
brings it back. The same roles read the same documents as through the API.
"""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from api.dashboard.guard import DashboardRoute, DashboardUser
from api.deps import SettingsDep, TemporalClientDep
from api.routes.reports import RunDate, read_panel_document

router = APIRouter(route_class=DashboardRoute)


@router.get("/reports/{run_date}/{name}")
async def panel_document_page(
    run_date: RunDate,
    name: str,
    request: Request,
    user: DashboardUser,
    settings: SettingsDep,
    client: TemporalClientDep,
) -> Response:
    return await read_panel_document(run_date, name, user, settings, client, request)
