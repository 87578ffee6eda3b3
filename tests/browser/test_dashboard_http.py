"""The dashboard as the browser receives it (httpx over ASGI, against the real dev server and
worker): sign-in and its cookie, CSRF, POST-redirect-GET, refusals beside their fields with
nothing recorded, escaping, and the API's role rules."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from tests.api.conftest import TEAM_A, User, Users, eventually, iso, just_now

pytestmark = pytest.mark.e2e

StartCase = Callable[..., Awaitable[dict[str, Any]]]
Browser = Callable[..., Awaitable[httpx.AsyncClient]]
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_of(html: str) -> str:
    found = CSRF.search(html)
    assert found, "the page has no form with a CSRF token"
    return found.group(1)


def problem_beside(html: str, field: str) -> str:
    found = re.search(
        rf'<p class="problem" id="problem-{field}">'
        r'<span class="visually-hidden">Error:</span> ([^<]*)</p>',
        html,
    )
    assert found, f"no problem shown beside {field}"
    return found.group(1)


@pytest.fixture
async def browser(app: FastAPI) -> AsyncIterator[Browser]:
    """`await browser(user)`: a cookie-keeping client, signed in as `user` unless None."""
    opened: list[httpx.AsyncClient] = []

    async def open_as(user: User | None) -> httpx.AsyncClient:
        transport = httpx.ASGITransport(app=app)
        client = httpx.AsyncClient(
            transport=transport,
            base_url="http://dash",
            headers={"Origin": "http://dash"},  # as a browser sends it with every form post
            timeout=60,
        )
        opened.append(client)
        if user is not None:
            login = await client.get("/dashboard/login")
            form = {"token": user.token, "csrf_token": csrf_of(login.text)}
            answer = await client.post("/dashboard/login", data=form)
            assert answer.status_code == 303, answer.text
        return client

    yield open_as
    for client in opened:
        await client.aclose()


async def history_of(api: httpx.AsyncClient, users: Users, referral_id: str) -> list[Any]:
    answer = await api.get(f"/cases/{referral_id}", headers=users.head_of_service.headers)
    assert answer.status_code == 200, answer.text
    history: list[Any] = answer.json()["history"]
    return history


async def send_form(client: httpx.AsyncClient, path: str, fields: dict[str, Any]) -> httpx.Response:
    """GET the form (for its CSRF token), then POST it as a browser would."""
    form = await client.get(path)
    assert form.status_code == 200, form.text
    return await client.post(path, data={"csrf_token": csrf_of(form.text), **fields})


# ---- signing in ---------------------------------------------------------------------------


async def test_signing_in_keeps_no_token_in_the_browser_only_a_sealed_http_only_strict_cookie(
    browser: Browser, users: Users
) -> None:
    client = await browser(None)
    login = await client.get("/dashboard/login")
    form = {"token": users.social_worker_a.token, "csrf_token": csrf_of(login.text)}

    answer = await client.post("/dashboard/login", data=form)

    assert answer.status_code == 303
    assert answer.headers["location"] == "/dashboard/"
    cookies = answer.headers.get_list("set-cookie")
    session = next(c for c in cookies if c.startswith("cse_session="))
    assert "HttpOnly" in session
    assert "samesite=strict" in session.lower()
    assert users.social_worker_a.token not in " ".join(cookies)
    assert (await client.get("/dashboard/")).status_code == 200


async def test_a_wrong_token_is_refused_on_the_login_form(browser: Browser) -> None:
    client = await browser(None)
    login = await client.get("/dashboard/login")

    answer = await client.post(
        "/dashboard/login", data={"token": "not-a-token", "csrf_token": csrf_of(login.text)}
    )

    assert answer.status_code == 303
    assert not any(c.startswith("cse_session=") for c in answer.headers.get_list("set-cookie"))
    again = await client.get(answer.headers["location"])
    assert "Not signed in: the token is not one the users file knows" in again.text
    assert (await client.get("/dashboard/")).status_code == 303


async def test_a_page_asks_for_sign_in_then_returns_to_it(
    browser: Browser, users: Users, start_case: StartCase
) -> None:
    case = await start_case()
    page = f"/dashboard/cases/{case['referral_id']}"
    client = await browser(None)

    answer = await client.get(page)

    assert answer.status_code == 303
    login = await client.get(answer.headers["location"])
    form = {"token": users.social_worker_a.token, "csrf_token": csrf_of(login.text), "next": page}
    signed_in = await client.post("/dashboard/login", data=form)
    assert signed_in.headers["location"] == page
    assert (await client.get(page)).status_code == 200


async def test_signing_out_clears_the_session_cookie(browser: Browser, users: Users) -> None:
    client = await browser(users.manager_a)
    home = await client.get("/dashboard/")

    answer = await client.post("/dashboard/logout", data={"csrf_token": csrf_of(home.text)})

    assert answer.status_code == 303
    [cleared] = [c for c in answer.headers.get_list("set-cookie") if c.startswith("cse_session=")]
    assert "max-age=0" in cleared.lower()
    assert client.cookies.get("cse_session") is None
    assert (await client.get("/dashboard/")).status_code == 303


# ---- forms: CSRF, POST-redirect-GET, refusals beside their fields ---------------------------


async def test_a_form_without_the_sessions_csrf_token_is_refused_and_records_nothing(
    browser: Browser, users: Users, api: httpx.AsyncClient, start_case: StartCase
) -> None:
    rid = (await start_case())["referral_id"]
    client = await browser(users.social_worker_a)
    fields = {"decision": "assess", "decided_at": just_now()[:16], "csrf_token": "forged"}

    answer = await client.post(f"/dashboard/cases/{rid}/events/decide", data=fields)

    assert answer.status_code == 403
    assert "did not come from this dashboard" in answer.text
    assert await history_of(api, users, rid) == []


async def test_a_form_from_another_origin_is_refused_with_a_valid_csrf_token_and_records_nothing(
    browser: Browser, users: Users, api: httpx.AsyncClient, start_case: StartCase
) -> None:
    rid = (await start_case())["referral_id"]
    client = await browser(users.social_worker_a)
    path = f"/dashboard/cases/{rid}/events/decide"
    form = await client.get(path)
    fields = {"decision": "assess", "decided_at": just_now()[:16], "csrf_token": csrf_of(form.text)}

    answer = await client.post(path, data=fields, headers={"Origin": "https://evil.example.org"})

    assert answer.status_code == 403
    assert "did not come from a page of this service" in answer.text
    assert answer.headers["referrer-policy"] == "same-origin"
    assert await history_of(api, users, rid) == []


async def test_an_event_is_recorded_then_the_case_page_shows_it_once(
    browser: Browser, users: Users, start_case: StartCase
) -> None:
    rid = (await start_case())["referral_id"]
    client = await browser(users.social_worker_a)
    fields = {"decision": "assess", "decided_at": just_now()[:16], "reason": "harm"}

    answer = await send_form(client, f"/dashboard/cases/{rid}/events/decide", fields)

    assert answer.status_code == 303
    assert answer.headers["location"] == f"/dashboard/cases/{rid}"
    page = await client.get(answer.headers["location"])
    assert "Decide recorded: the case is now in assessment." in page.text
    assert "by sw-a@example.org" in page.text
    assert "Decide recorded" not in (await client.get(f"/dashboard/cases/{rid}")).text


async def test_invalid_fields_are_named_beside_them_and_nothing_is_recorded(
    browser: Browser, users: Users, api: httpx.AsyncClient, start_case: StartCase
) -> None:
    rid = (await start_case())["referral_id"]
    client = await browser(users.social_worker_a)
    path = f"/dashboard/cases/{rid}/events/record_screening"
    fields = {"score": "7", "professional_concern": "", "screened_at": just_now()[:16]}

    answer = await send_form(client, path, fields)

    assert answer.status_code == 303
    assert answer.headers["location"] == path
    form = await client.get(path)
    assert form.status_code == 422
    assert problem_beside(form.text, "score") == "Input should be less than or equal to 3"
    assert problem_beside(form.text, "professional_concern") == "Field required"
    assert 'name="score" value="7"' in form.text
    assert await history_of(api, users, rid) == []


async def test_a_time_the_workflow_refuses_is_shown_beside_the_time_field(
    browser: Browser, users: Users, api: httpx.AsyncClient, start_case: StartCase
) -> None:
    rid = (await start_case())["referral_id"]
    client = await browser(users.social_worker_a)
    tomorrow = iso(datetime.now(UTC) + timedelta(days=1))[:16]
    path = f"/dashboard/cases/{rid}/events/decide"

    await send_form(client, path, {"decision": "assess", "decided_at": tomorrow})

    form = await client.get(path)
    assert "is in the future; record what has happened" in problem_beside(form.text, "decided_at")
    assert await history_of(api, users, rid) == []


async def test_intake_starts_a_case_from_the_referral_form(
    browser: Browser, users: Users, api: httpx.AsyncClient
) -> None:
    client = await browser(users.intake)
    rid = f"DASH-{datetime.now(UTC):%H%M%S%f}"
    fields = {
        "referral_id": rid,
        "received_at": just_now()[:16],
        "child_ref": "PERSON-DASH",
        "team": TEAM_A,
        "referrer_agency": "school",
        "concerns": ["sexual_health", "running_away"],
    }

    answer = await send_form(client, "/dashboard/referrals/new", fields)
    duplicate = await send_form(client, "/dashboard/referrals/new", fields)

    assert answer.status_code == duplicate.status_code == 303
    assert (await history_of(api, users, rid)) == []
    form = await client.get("/dashboard/referrals/new")
    assert "already exists; it was left untouched" in problem_beside(form.text, "referral_id")
    assert "PERSON-DASH" in form.text, "the refused form is filled in again as sent"


# ---- what pages show, and to whom --------------------------------------------------------


async def test_pages_escape_what_cases_carry(
    browser: Browser, users: Users, start_case: StartCase
) -> None:
    team = "<script>alert(1)</script> & co"  # (a `"` in a keyword defeats the dev server's filter)
    rid = (await start_case(team=team))["referral_id"]
    client = await browser(users.head_of_service)

    async def listed() -> str | None:
        page = await client.get("/dashboard/", params={"team": team})
        return page.text if rid in page.text else None

    html = await eventually("the case in the caseload", listed)
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; co" in html
    case_page = await client.get(f"/dashboard/cases/{rid}")
    assert "<script>" not in case_page.text


async def test_the_api_role_rules_apply_to_pages(
    browser: Browser, users: Users, start_case: StartCase
) -> None:
    rid = (await start_case(team=TEAM_A))["referral_id"]
    other_team = await browser(users.social_worker_b)
    social_worker = await browser(users.social_worker_a)
    analyst = await browser(users.analyst)
    intake = await browser(users.intake)

    refused = await other_team.get(f"/dashboard/cases/{rid}")
    assert refused.status_code == 403
    assert "belongs to another team" in refused.text
    assert (await social_worker.get(f"/dashboard/cases/{rid}/events/close")).status_code == 403
    assert (await social_worker.get("/dashboard/referrals/new")).status_code == 403
    assert (await analyst.get(f"/dashboard/cases/{rid}")).status_code == 403
    assert (await intake.get("/dashboard/")).headers["location"] == "/dashboard/referrals/new"
    assert (await intake.get(f"/dashboard/cases/{rid}")).status_code == 403
    case_page = await social_worker.get(f"/dashboard/cases/{rid}")
    assert "/events/decide" in case_page.text
    assert "/events/close" not in case_page.text


async def test_an_analyst_sees_no_case_reference(
    browser: Browser, users: Users, start_case: StartCase
) -> None:
    rid = (await start_case(team=TEAM_A))["referral_id"]
    hos, analyst = await browser(users.head_of_service), await browser(users.analyst)

    async def listed() -> bool:
        return rid in (await hos.get("/dashboard/", params={"team": TEAM_A})).text

    await eventually("the case in the caseload", listed)
    page = await analyst.get("/dashboard/", params={"team": TEAM_A})
    assert page.status_code == 200
    assert "withheld" in page.text
    assert rid not in page.text
    assert "/dashboard/cases/" not in page.text


async def test_the_forecast_lists_clocks_falling_due(
    browser: Browser, users: Users, start_case: StartCase
) -> None:
    rid = (await start_case(team=TEAM_A, significant_harm_suspected=True))["referral_id"]
    client = await browser(users.social_worker_a)

    async def forecast() -> str | None:
        page = await client.get("/dashboard/forecast", params={"working_days": "5"})
        return page.text if rid in page.text else None

    html = await eventually("the case's strategy discussion clock in the forecast", forecast)
    rows = [row for row in html.split("<tr>") if rid in row]
    assert any("Strategy discussion" in row for row in rows)
    bad = await client.get("/dashboard/forecast", params={"working_days": "0"})
    assert bad.status_code == 422
    assert "greater than or equal to 1" in bad.text


async def test_unknown_cases_and_events_are_404_pages(browser: Browser, users: Users) -> None:
    client = await browser(users.head_of_service)

    missing = await client.get("/dashboard/cases/NO-SUCH-CASE")
    assert missing.status_code == 404
    assert "there is no case for referral NO-SUCH-CASE" in missing.text
    assert (await client.get("/dashboard/cases/NO-SUCH-CASE/events/fly")).status_code == 404


async def test_pages_forbid_scripts_and_stay_out_of_the_openapi_document(
    browser: Browser, users: Users, api: httpx.AsyncClient
) -> None:
    client = await browser(users.head_of_service)

    page = await client.get("/dashboard/")

    assert "default-src 'none'" in page.headers["content-security-policy"]
    assert page.headers["cache-control"] == "no-store"
    assert "<script" not in page.text
    paths = (await api.get("/openapi.json")).json()["paths"]
    assert not [path for path in paths if path.startswith("/dashboard")]


async def test_the_same_form_sent_twice_records_its_event_once(
    browser: Browser, users: Users, api: httpx.AsyncClient, start_case: StartCase
) -> None:
    rid = (await start_case())["referral_id"]
    client = await browser(users.social_worker_a)
    path = f"/dashboard/cases/{rid}/events/record_disruption_activity"
    form = await client.get(path)
    [submission] = re.findall(r'name="submission" value="([^"]+)"', form.text)
    fields = {
        "csrf_token": csrf_of(form.text),
        "submission": submission,
        "action": "arrest",
        "agency": "police",
        "taken_at": just_now()[:16],
    }

    first = await client.post(path, data=fields)
    again = await client.post(path, data=fields)  # a double click, or a resend
    shown_anew = await client.get(path)

    assert (first.status_code, again.status_code) == (303, 303)
    events = [h["event"] for h in await history_of(api, users, rid)]
    assert events.count("record_disruption_activity") == 1, events
    assert submission not in shown_anew.text  # each showing of the form is a new submission
