"""The panel's documents for a person who followed a notification's link in a browser: the
API sends a browser without a token here (api/routes/reports.py), and the dashboard's sign-in
brings it back. The same roles read the same documents as through the API.

An agenda or oversight report is shown inside the dashboard's frame (header, navigation, the
links to the run's other documents this reader may open), and prints on A4 without them. Its
content is the document as the panel run built it (domain/document_html.py `framed`): markup
written and escaped by this service, kept sealed in the run's history, shown under a policy
that runs no script. A referral id stays a link to the case page only for a reader who may
open that case; for anyone else it is plain text. `/dashboard/panel` opens the latest run's.
"""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from fastapi.responses import RedirectResponse
from markupsafe import Markup

from api.auth import Identity, Permission
from api.dashboard.guard import DashboardRoute, DashboardUser, PageNotFound
from api.dashboard.rendering import render
from api.deps import SettingsDep, TemporalClientDep, check_permission
from api.routes.reports import DOCUMENTS, RunDate, panel_document_text
from domain.document_html import framed, unlink_cases
from domain.panel_documents import AGENDA_CSV, AGENDA_HTML, REPORT_HTML, REPORT_JSON
from edge.panel_runs import latest_panel_document

router = APIRouter(route_class=DashboardRoute)

SHOWN = {AGENDA_HTML: "Agenda", REPORT_HTML: "Oversight report"}
DOWNLOADS = {AGENDA_CSV: "Agenda (CSV)", REPORT_JSON: "Oversight figures (JSON)"}


@router.get("/panel")
async def latest_panel(
    request: Request, user: DashboardUser, settings: SettingsDep, client: TemporalClientDep
) -> Response:
    """The latest panel run's agenda, or its report for a reader of the report only."""
    name = AGENDA_HTML if user.may(Permission.read_panel_agenda) else REPORT_HTML
    check_permission(request, user, DOCUMENTS[name][0])
    found = await latest_panel_document(client, settings.task_queue, name)
    if found is None or found.run_date is None:
        raise PageNotFound("no MASE panel has run yet: its documents appear after its first run")
    return RedirectResponse(f"/dashboard/reports/{found.run_date}/{name}", status_code=303)


@router.get("/reports/{run_date}/{name}")
async def panel_document_page(
    run_date: RunDate,
    name: str,
    request: Request,
    user: DashboardUser,
    settings: SettingsDep,
    client: TemporalClientDep,
) -> Response:
    content, media_type = await panel_document_text(run_date, name, user, settings, client, request)
    if name not in SHOWN:
        return Response(content, media_type=media_type)
    document = framed(content)
    # Markup, not text: written and escaped by this service when the run built it (see above)
    shown = Markup(unlink_cases(document.content, user.may_open_cases_of))
    context = {
        "title": document.title,
        "content": shown,
        "run_date": run_date,
        "name": name,
        "shown": readable(user, SHOWN),
        "downloads": readable(user, DOWNLOADS),
    }
    return render(request, "panel_document.html", context)


def readable(user: Identity, names: dict[str, str]) -> dict[str, str]:
    """The documents of `names` this user may read, with their labels."""
    return {name: label for name, label in names.items() if user.may(DOCUMENTS[name][0])}
