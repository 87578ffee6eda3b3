"""What falls due soon: running clocks that will breach within N working days."""

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Query, Request

from api.deps import Forecaster, SettingsDep, TemporalClientDep
from api.errors import documented
from api.schemas import Forecast, ForecastClock
from domain.policy import PolicyBook
from edge.caseload import WorkingDaysAhead, forecast, forecast_cutoff

router = APIRouter(tags=["cases"])


@router.get(
    "/forecast",
    response_model=Forecast,
    responses=documented(401, 403, 422, 503),
    summary="Clocks that will breach within N working days",
)
async def get_forecast(
    user: Forecaster,
    client: TemporalClientDep,
    settings: SettingsDep,
    request: Request,
    working_days: Annotated[WorkingDaysAhead, Query()] = 5,
) -> Forecast:
    """Running clocks, not yet breached, due by the end of the Nth working day from today
    (bank holidays and the policy's closures are not working days). Social workers and team
    managers see their team's; analysts get no case references."""
    now = datetime.now(UTC)
    book: PolicyBook = request.app.state.policy_book
    cutoff = forecast_cutoff(book, now, working_days)
    team = None if user.sees_every_team else user.team
    due = await forecast(client, settings.task_queue, cutoff, team)
    clocks = [ForecastClock.of(clock, user.sees_case_references) for clock in due]
    return Forecast(working_days=working_days, cutoff=cutoff, clocks=clocks)
