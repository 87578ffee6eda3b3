"""The monthly panel's documents, where its notifications link: /reports/<run date>/<name>.

The agenda names cases (referral ids, no child details): managers, heads of service and the
panel's chair and police contact read it. The oversight report is aggregates only: heads of
service and analysts read it.

The documents are kept in the panel run itself (sealed in its history) and read through the
Temporal client (edge/panel_runs.py), so every API replica serves every run's links and no
disk holds them.
"""

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Request, Response
from fastapi import Path as PathParam
from temporalio.client import Client, WorkflowQueryFailedError, WorkflowQueryRejectedError

from api.auth import Identity, Permission
from api.deps import CurrentUser, SettingsDep, TemporalClientDep, check_permission
from api.errors import DocumentNotFound, FieldProblem, InvalidInput, Unavailable, documented
from api.schemas import outside_the_calendar
from edge.panel_runs import panel_document
from edge.settings import Settings

router = APIRouter(tags=["panel"])

DOCUMENTS: dict[str, tuple[Permission, str]] = {
    "agenda.html": (Permission.read_panel_agenda, "text/html; charset=utf-8"),
    "agenda.csv": (Permission.read_panel_agenda, "text/csv; charset=utf-8"),
    "oversight.html": (Permission.read_oversight_report, "text/html; charset=utf-8"),
    "oversight.json": (Permission.read_oversight_report, "application/json"),
}
_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"content": {media_type: {} for _, media_type in DOCUMENTS.values()}},
    **documented(401, 403, 404, 422, 503),
}
RunDate = Annotated[str, PathParam(pattern=r"^\d{4}-\d{2}-\d{2}$")]
UNANSWERED = (
    "the panel run of {day} could not answer (no worker, or a key missing from "
    "CSE_CODEC_KEYS): try again shortly, or ask the operator"
)


async def browsers_sign_in_on_the_dashboard(request: Request) -> None:
    """A person following a notification's link opens it in a browser, which sends no bearer
    token: the same document on the dashboard asks them to sign in, then shows it."""
    wants_a_page = "text/html" in request.headers.get("accept", "")
    if wants_a_page and "authorization" not in request.headers:
        on_the_dashboard = {"Location": f"/dashboard{request.url.path}"}
        raise HTTPException(303, "sign in on the dashboard", on_the_dashboard)


@router.get(
    "/reports/{run_date}/{name}",
    response_class=Response,
    responses=_RESPONSES,
    summary="A document of a panel run: agenda or oversight report",
    description="A browser without a token (Accept: text/html) is sent to the same document "
    "on the dashboard (303), which asks it to sign in. A run date outside 2000-01-01 to "
    "2099-12-31 (the working-day calendar's years) is refused with 422.",
    dependencies=[Depends(browsers_sign_in_on_the_dashboard)],
)
async def get_panel_document(
    run_date: RunDate,
    name: str,
    user: CurrentUser,
    settings: SettingsDep,
    client: TemporalClientDep,
    request: Request,
) -> Response:
    return await read_panel_document(run_date, name, user, settings, client, request)


async def read_panel_document(
    run_date: str, name: str, user: Identity, settings: Settings, client: Client, request: Request
) -> Response:
    """The document, for a user whose role may read it (the API's and the dashboard's route)."""
    content, media_type = await panel_document_text(run_date, name, user, settings, client, request)
    return Response(content, media_type=media_type)


async def panel_document_text(
    run_date: str, name: str, user: Identity, settings: Settings, client: Client, request: Request
) -> tuple[str, str]:
    """The document and its media type, for a user whose role may read it."""
    if name not in DOCUMENTS:
        raise DocumentNotFound(run_date, name)
    permission, media_type = DOCUMENTS[name]
    check_permission(request, user, permission)
    try:
        day = date.fromisoformat(run_date)
    except ValueError:
        raise DocumentNotFound(run_date, name) from None
    problem = outside_the_calendar(day)
    if problem is not None:
        raise InvalidInput([FieldProblem(field="path.run_date", message=problem)])
    try:
        found = await panel_document(client, settings.task_queue, day, name)
    except (WorkflowQueryFailedError, WorkflowQueryRejectedError):
        raise Unavailable(UNANSWERED.format(day=run_date)) from None
    if found is None or found.content is None:
        raise DocumentNotFound(run_date, name)
    return found.content, media_type
