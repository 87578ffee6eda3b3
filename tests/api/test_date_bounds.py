"""Every date and time the API takes is bounded (issue 17, item 4): the first and last days and
instants Python can represent, in every place a request carries one, are answered with a 4xx
naming what is wrong, never a 500. In-process (the app's own exceptions become answers, as
uvicorn would send them) against the real dev server and worker."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from api.routes.reports import DOCUMENTS
from api.schemas import FIRST_DAY, LAST_DAY, outside_the_calendar
from domain.events import EVENT_TYPES
from tests.api.conftest import StartCase, Users, referral

pytestmark = pytest.mark.e2e

EDGE_DAYS = ["9999-12-31", "0001-01-01", "1999-12-31", "2100-01-01"]
# The ends of what Python represents, with offsets that take them past it in UTC or London.
EDGE_INSTANTS = [
    "9999-12-31T23:59:59.999999-14:00",
    "9999-12-31T23:59:59.999999+00:00",
    "0001-01-01T00:00:00+14:00",
    "0001-01-01T00:00:00Z",
]
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture(scope="module")
async def served(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """The app as a server answers: an exception it does not handle is a 500, not raised."""
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://api", timeout=60) as c:
        yield c


def test_the_api_takes_the_days_of_the_working_day_calendar() -> None:
    assert (FIRST_DAY.isoformat(), LAST_DAY.isoformat()) == ("2000-01-01", "2099-12-31")
    assert outside_the_calendar(FIRST_DAY) is None
    assert outside_the_calendar(LAST_DAY) is None


@pytest.mark.parametrize("day", EDGE_DAYS)
@pytest.mark.parametrize("name", sorted(DOCUMENTS))
async def test_a_panel_document_of_a_day_outside_the_calendar_is_422_naming_the_run_date(
    served: httpx.AsyncClient, users: Users, day: str, name: str
) -> None:
    answer = await served.get(f"/reports/{day}/{name}", headers=users.head_of_service.headers)

    assert answer.status_code == 422, answer.text
    [problem] = answer.json()["errors"]
    assert problem["field"] == "path.run_date"
    assert "2000-01-01 to 2099-12-31" in problem["message"]


async def test_the_dashboards_panel_document_of_such_a_day_is_a_page_saying_so(
    app: FastAPI, users: Users
) -> None:
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    headers = {"Origin": "http://dash"}
    async with httpx.AsyncClient(transport=transport, base_url="http://dash", headers=headers) as b:
        login = await b.get("/dashboard/login")
        [csrf] = CSRF.findall(login.text)
        form = {"token": users.head_of_service.token, "csrf_token": csrf}
        assert (await b.post("/dashboard/login", data=form)).status_code == 303
        page = await b.get("/dashboard/reports/9999-12-31/agenda.html")

    assert page.status_code == 422
    assert "2000-01-01 to 2099-12-31" in page.text


@pytest.mark.parametrize("instant", EDGE_INSTANTS)
async def test_a_referral_received_at_the_ends_of_time_is_422_naming_the_field(
    served: httpx.AsyncClient, users: Users, instant: str
) -> None:
    body = referral(received_at=instant)
    answer = await served.post("/referrals", json=body, headers=users.intake.headers)

    assert answer.status_code == 422, answer.text
    assert [p["field"] for p in answer.json()["errors"]] == ["body.received_at"]


def event_bodies(instant: str) -> list[tuple[str, dict[str, Any]]]:
    """Each event with every time of its body at `instant` (other fields left to be refused
    as they may: what matters is the answer's class)."""
    bodies = []
    for name, event_type in sorted(EVENT_TYPES.items()):
        times = [
            field
            for field, info in event_type.model_fields.items()
            if "datetime" in str(info.annotation)
        ]
        bodies.append((name, dict.fromkeys(times, instant)))
    return bodies


@pytest.mark.parametrize("instant", EDGE_INSTANTS)
async def test_an_event_at_the_ends_of_time_is_refused_not_failed(
    served: httpx.AsyncClient, users: Users, start_case: StartCase, instant: str
) -> None:
    rid = (await start_case())["referral_id"]
    for name, body in event_bodies(instant):
        answer = await served.post(
            f"/cases/{rid}/events/{name}", json=body, headers=users.head_of_service.headers
        )
        assert answer.status_code in (409, 422), (name, answer.text)


@pytest.mark.parametrize("instant", [EDGE_INSTANTS[0], EDGE_INSTANTS[2]])
async def test_a_listing_due_before_the_ends_of_time_is_answered(
    served: httpx.AsyncClient, users: Users, instant: str
) -> None:
    answer = await served.get(
        "/cases", params={"due_before": instant}, headers=users.head_of_service.headers
    )

    assert answer.status_code in (200, 422), answer.text
