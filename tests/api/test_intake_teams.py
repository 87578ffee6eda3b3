"""Teams are known (issue 19, item 5): with CSE_TEAMS, POST /referrals and the dashboard's
intake form start a case only on one of those teams, exactly; anything else is refused with
422 naming `team` and listing the teams, and no case is started. Without CSE_TEAMS any team
is accepted (local runs, tests)."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI

from api.app import create_app
from edge.settings import Settings
from tests.api.conftest import TEAM_A, TEAM_B, User, Users, just_now, referral

pytestmark = pytest.mark.e2e

LOOK_ALIKE = TEAM_A.replace("-", "\u2011", 1)  # a non-breaking hyphen: looks the same
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture(scope="module")
async def teams_api(api_settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """The API of a service configured with two teams, on the session's server and worker."""
    app = create_app(api_settings.model_copy(update={"teams": (TEAM_A, TEAM_B)}))
    async with app.router.lifespan_context(app), client_of(app) as client:
        yield client


def client_of(app: FastAPI) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app)
    origin = {"Origin": "http://dash"}  # as a browser sends it with every form post
    return httpx.AsyncClient(transport=transport, base_url="http://dash", headers=origin)


async def case_exists(api: httpx.AsyncClient, users: Users, referral_id: str) -> bool:
    answer = await api.get(f"/cases/{referral_id}", headers=users.head_of_service.headers)
    assert answer.status_code in (200, 404), answer.text
    return answer.status_code == 200


@pytest.mark.parametrize("team", ["TEAM-Z", TEAM_A.lower(), LOOK_ALIKE])
async def test_a_team_that_is_not_configured_is_refused_naming_the_teams(
    teams_api: httpx.AsyncClient, users: Users, team: str
) -> None:
    body = referral(team=team)

    answer = await teams_api.post("/referrals", json=body, headers=users.intake.headers)

    assert answer.status_code == 422, answer.text
    [problem] = answer.json()["errors"]
    assert problem["field"] == "body.team"
    assert f"give one of {TEAM_A}, {TEAM_B}" in problem["message"]
    assert not await case_exists(teams_api, users, body["referral_id"])


async def test_a_configured_team_starts_its_case(
    teams_api: httpx.AsyncClient, users: Users
) -> None:
    body = referral(team=TEAM_B)

    answer = await teams_api.post("/referrals", json=body, headers=users.intake.headers)

    assert answer.status_code == 201, answer.text
    assert answer.json()["team"] == TEAM_B


async def test_without_configured_teams_any_team_is_accepted(
    api: httpx.AsyncClient, users: Users
) -> None:
    answer = await api.post(
        "/referrals", json=referral(team="TEAM-Z"), headers=users.intake.headers
    )

    assert answer.status_code == 201, answer.text


# ---- the dashboard's intake form -------------------------------------------------------------


async def signed_in(app_client: httpx.AsyncClient, user: User) -> str:
    """Sign in; returns the intake form's page."""
    login = await app_client.get("/dashboard/login")
    form = {"token": user.token, "csrf_token": csrf_of(login.text)}
    assert (await app_client.post("/dashboard/login", data=form)).status_code == 303
    page = await app_client.get("/dashboard/referrals/new")
    assert page.status_code == 200, page.text
    return page.text


def csrf_of(html: str) -> str:
    found = CSRF.search(html)
    assert found, "the page has no form with a CSRF token"
    return found.group(1)


def team_choices(html: str) -> list[str]:
    found = re.search(r'<select id="in-team" name="team"[^>]*>(.*?)</select>', html, re.S)
    assert found, "the intake form offers no choice of team"
    return re.findall(r'<option value="([^"]*)"', found.group(1))


async def test_the_intake_form_offers_the_configured_teams_and_refuses_a_look_alike(
    teams_api: httpx.AsyncClient, users: Users
) -> None:
    page = await signed_in(teams_api, users.intake)
    assert team_choices(page) == ["", TEAM_A, TEAM_B]
    body = referral(team=LOOK_ALIKE)
    fields = {
        "csrf_token": csrf_of(page),
        "referral_id": body["referral_id"],
        "received_at": just_now()[:16],
        "child_ref": body["child_ref"],
        "team": LOOK_ALIKE,  # a hand-made post: the form itself offers only the teams
        "referrer_agency": "school",
    }

    sent = await teams_api.post("/dashboard/referrals/new", data=fields)

    assert sent.status_code == 303
    again = (await teams_api.get("/dashboard/referrals/new")).text
    problem = re.search(r'<p class="problem" id="problem-team">.*?</span> ([^<]*)</p>', again)
    assert problem, "no problem shown beside the team"
    assert f"give one of {TEAM_A}, {TEAM_B}" in problem.group(1)
    assert "U+2011 NON-BREAKING HYPHEN" in problem.group(1)
    assert not await case_exists(teams_api, users, body["referral_id"])


async def test_without_configured_teams_the_form_asks_for_a_team_as_text(
    app: FastAPI, users: Users
) -> None:
    async with client_of(app) as client:
        page = await signed_in(client, users.intake)

    assert '<input type="text" id="in-team" name="team"' in page
