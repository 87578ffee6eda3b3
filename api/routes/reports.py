"""The monthly panel's documents, where its notifications link: /reports/<run date>/<name>.

The agenda names cases (referral ids, no child details): managers and heads of service read
it. The oversight report is aggregates only: heads of service and analysts read it.
"""

from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Request
from fastapi import Path as PathParam
from fastapi.responses import FileResponse

from api.auth import Permission
from api.deps import CurrentUser, SettingsDep, check_permission
from api.errors import DocumentNotFound, documented

router = APIRouter(tags=["panel"])

DOCUMENTS: dict[str, tuple[Permission, str]] = {
    "agenda.html": (Permission.read_panel_agenda, "text/html; charset=utf-8"),
    "agenda.csv": (Permission.read_panel_agenda, "text/csv; charset=utf-8"),
    "oversight.html": (Permission.read_oversight_report, "text/html; charset=utf-8"),
    "oversight.json": (Permission.read_oversight_report, "application/json"),
}
_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"content": {media_type: {} for _, media_type in DOCUMENTS.values()}},
    **documented(401, 403, 404, 422),
}
RunDate = Annotated[str, PathParam(pattern=r"^\d{4}-\d{2}-\d{2}$")]


@router.get(
    "/reports/{run_date}/{name}",
    response_class=FileResponse,
    responses=_RESPONSES,
    summary="A document of a panel run: agenda or oversight report",
)
async def get_panel_document(
    run_date: RunDate, name: str, user: CurrentUser, settings: SettingsDep, request: Request
) -> FileResponse:
    if name not in DOCUMENTS:
        raise DocumentNotFound(run_date, name)
    permission, media_type = DOCUMENTS[name]
    check_permission(request, user, permission)
    path = Path(settings.reports_dir) / run_date / name
    if not path.is_file():
        raise DocumentNotFound(run_date, name)
    return FileResponse(path, media_type=media_type)
