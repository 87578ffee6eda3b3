"""Supervisors' reading: the caseload (visibility only), one case, its audit trail."""

from typing import Annotated, Literal

from fastapi import APIRouter, Header, Query, Request
from fastapi.responses import Response

from api.case_access import ReferralId, open_case
from api.deps import CaseLister, CaseReader, SettingsDep, TemporalClientDep, forbidden
from api.errors import FieldProblem, InvalidInput, documented
from api.schemas import CaseHistory, CaseItem, CaseList
from domain.csv_export import AUDIT_TRAIL_COLUMNS, audit_trail_csv
from domain.status import CaseStatus
from edge.caseload import MAX_PAGE_SIZE, CaseFilter, CaseloadError, list_cases

router = APIRouter(tags=["cases"])


@router.get(
    "/cases",
    response_model=CaseList,
    responses=documented(401, 403, 422, 503),
    summary="List cases, soonest due first",
)
async def get_cases(
    user: CaseLister,
    client: TemporalClientDep,
    settings: SettingsDep,
    request: Request,
    wanted: Annotated[CaseFilter, Query()],
    page_size: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = 50,
    next_page_token: Annotated[str | None, Query(max_length=2000)] = None,
) -> CaseList:
    """Filters are read from the cases' search attributes only; no case is opened. Social
    workers and team managers see their own team; analysts get no case references."""
    if not user.sees_every_team:
        if wanted.team is not None and wanted.team != user.team:
            raise forbidden(request, user, f"a {user.role.value} sees only team {user.team}")
        wanted = wanted.model_copy(update={"team": user.team})
    try:
        page = await list_cases(
            client,
            settings.task_queue,
            wanted,
            page_size,
            next_page_token,
            recent=request.app.state.recent_listings,
        )
    except CaseloadError as err:
        problem = FieldProblem(field=f"query.{err.field}", message=err.message)
        raise InvalidInput([problem]) from None
    items = [CaseItem.of(case, user.sees_case_references) for case in page.cases]
    return CaseList(cases=items, next_page_token=page.next_page_token)


@router.get(
    "/cases/{referral_id}",
    response_model=CaseStatus,
    responses=documented(401, 403, 404, 422, 503),
    summary="Where a case stands",
)
async def get_case(
    referral_id: ReferralId, user: CaseReader, client: TemporalClientDep, request: Request
) -> CaseStatus:
    case = await open_case(client, referral_id, user, request)
    return await case.status()


@router.get(
    "/cases/{referral_id}/history",
    response_model=CaseHistory,
    responses={
        200: {
            "description": "The audit trail: JSON, or CSV with `Accept: text/csv` or "
            f"?format=csv (columns: {', '.join(AUDIT_TRAIL_COLUMNS)})",
            "content": {"text/csv": {"schema": {"type": "string"}}},
        },
        **documented(401, 403, 404, 422, 503),
    },
    summary="A case's audit trail",
)
async def get_history(
    referral_id: ReferralId,
    user: CaseReader,
    client: TemporalClientDep,
    request: Request,
    format: Literal["json", "csv"] | None = None,
    accept: Annotated[str | None, Header()] = None,
) -> CaseHistory | Response:
    case = await open_case(client, referral_id, user, request)
    status = await case.status()
    if format == "csv" or (format is None and accept is not None and "text/csv" in accept):
        filename = f"case-{referral_id}-history.csv"
        return Response(
            audit_trail_csv(status.history),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{filename}"'},
        )
    return CaseHistory(referral_id=status.referral_id, history=status.history)
