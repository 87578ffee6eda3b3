"""The caseload and the forecast pages: the API's own listing and forecast, as tables.

Both call the API's route functions (api/routes/cases.py, api/routes/forecast.py), so a
social worker sees only their team, an analyst no case references, and the filters mean
exactly what they mean in the API.
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request, Response
from fastapi.responses import RedirectResponse
from pydantic import BaseModel, Field, ValidationError

from api.auth import Permission
from api.dashboard.forms import field_problems
from api.dashboard.guard import DashboardRoute, DashboardUser, ForecasterUser
from api.dashboard.rendering import CASELOAD, home_of, render
from api.deps import SettingsDep, TemporalClientDep, check_permission
from api.routes.cases import get_cases
from api.routes.forecast import get_forecast
from api.schemas import Forecast
from domain.vocabulary import Stage
from edge.caseload import CaseFilter, WorkingDaysAhead

router = APIRouter(route_class=DashboardRoute)

PAGE_SIZE = 50


class CaseloadFilters(CaseFilter):
    """The filter form: the API's own filters (an empty field means "any"), and the page."""

    page: Annotated[str | None, Field(max_length=2000)] = None


class ForecastFilters(BaseModel):
    working_days: WorkingDaysAhead = 5


def given(request: Request) -> dict[str, str]:
    """The query's non-empty parameters (an HTML form sends `score=` for "any")."""
    return {k: v.strip() for k, v in request.query_params.items() if v.strip()}


def next_url(filters: dict[str, str], token: str | None) -> str | None:
    if token is None:
        return None
    return "/dashboard/?" + urlencode({**filters, "page": token})


def caseload_page(request: Request, status_code: int = 200, **context: Any) -> Response:
    context = {"filters": given(request), "stages": list(Stage), "problems": {}} | context
    return render(request, "caseload.html", context, status_code)


@router.get("/")
async def caseload(
    request: Request, user: DashboardUser, client: TemporalClientDep, settings: SettingsDep
) -> Response:
    if home_of(user) != CASELOAD:  # intake's form, or the panel's documents
        return RedirectResponse(home_of(user), status_code=303)
    check_permission(request, user, Permission.list_cases)
    try:
        wanted = CaseloadFilters.model_validate(given(request))
    except ValidationError as err:
        return caseload_page(request, 422, problems=field_problems(err), cases=[], next_url=None)
    listing = await get_cases(
        user=user,
        client=client,
        settings=settings,
        request=request,
        wanted=wanted,
        page_size=PAGE_SIZE,
        next_page_token=wanted.page,
    )
    following = next_url(given(request), listing.next_page_token)
    return caseload_page(request, cases=listing.cases, next_url=following)


@router.get("/forecast")
async def forecast_page(
    request: Request, user: ForecasterUser, client: TemporalClientDep, settings: SettingsDep
) -> Response:
    try:
        wanted = ForecastFilters.model_validate(given(request))
    except ValidationError as err:
        typed = given(request).get("working_days", "")
        problems = field_problems(err)
        return render(request, "forecast.html", forecast_context(typed, None, problems), 422)
    due = await get_forecast(
        user=user,
        client=client,
        settings=settings,
        request=request,
        working_days=wanted.working_days,
    )
    return render(request, "forecast.html", forecast_context(wanted.working_days, due, {}))


def forecast_context(
    working_days: int | str, due: Forecast | None, problems: dict[str, str]
) -> dict[str, Any]:
    return {"working_days": working_days, "forecast": due, "problems": problems}
