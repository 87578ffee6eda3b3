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

from tests.api.conftest import TEAM_A, User, Users, eventually, just_now
from tests.e2e.conftest import iso

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


# ---- the record kept: screenings, strategy discussions, tracks (contract v3) ------------------

FACTOR = "<script>alert(1)</script> older boyfriend"  # free text, so escaped like all else


def minutes_ago(minutes: int) -> str:
    return iso((datetime.now(UTC) - timedelta(minutes=minutes)).replace(microsecond=0))


async def recorded_by_api(
    api: httpx.AsyncClient, user: User, referral_id: str, event: str, **body: Any
) -> None:
    answer = await api.post(f"/cases/{referral_id}/events/{event}", json=body, headers=user.headers)
    assert answer.status_code == 200, answer.text


def steps_to_a_plan() -> list[tuple[str, dict[str, Any]]]:
    """Harm suspected: a strategy discussion at once (health not there), a section 47 enquiry
    while the assessment runs on, a child protection plan in force, reviews begun."""
    screening = {
        "score": 2,
        "indicators": ["running_away", "sexual_health"],
        "cse_models": ["online"],
        "push_pull_factors": [FACTOR],
        "professional_concern": "medium",
        "screened_at": minutes_ago(24),
    }
    discussion = {
        "held_at": minutes_ago(23),
        "chair_role": "team_manager",
        "agencies": ["police", "education"],
        "outcome": "s47",
        "cris_number": "CRIS-7",
    }
    return [
        ("decide", {"decision": "strategy_discussion", "decided_at": minutes_ago(25)}),
        ("record_screening", screening),
        ("record_strategy_discussion", discussion),
        ("conclude_s47", {"outcome": "cp_conference", "concluded_at": minutes_ago(22)}),
        ("record_cp_conference", {"outcome": "cp_plan", "held_at": minutes_ago(21)}),
        ("record_safety_plan", {"agreed_at": minutes_ago(20)}),
    ]


async def case_under_a_plan(api: httpx.AsyncClient, users: Users, start_case: StartCase) -> str:
    rid = str((await start_case(team=TEAM_A, significant_harm_suspected=True))["referral_id"])
    for event, body in steps_to_a_plan():
        await recorded_by_api(api, users.social_worker_a, rid, event, **body)
    return rid


def section(html: str, start: str, end: str) -> str:
    found = html[html.index(start) :]
    return found[: found.index(end)]


async def test_a_review_left_unchanged_and_the_case_page_shows_what_changed_and_the_tracks(
    browser: Browser, users: Users, api: httpx.AsyncClient, start_case: StartCase
) -> None:
    rid = await case_under_a_plan(api, users, start_case)
    client = await browser(users.social_worker_a)
    path = f"/dashboard/cases/{rid}/events/record_review"
    form = await client.get(path)
    assert "leave empty if unchanged since the last screening" in form.text
    review = {
        "score": "3",
        "professional_concern": "high",
        "reviewed_at": just_now()[:16],
        "indicators": ["running_away", "use_of_technology"],
    }  # CSE models and push/pull factors left empty: unchanged

    answer = await send_form(client, path, review)

    assert answer.status_code == 303, answer.text
    status = (await api.get(f"/cases/{rid}", headers=users.head_of_service.headers)).json()
    kept = status["screenings"][-1]
    assert (kept["event"], kept["cse_models"], kept["push_pull_factors"]) == (
        "record_review",
        ["online"],
        [FACTOR],
    )
    assert "cse_models" not in status["history"][-1]["details"]
    page = (await client.get(f"/dashboard/cases/{rid}")).text
    assert '<span class="badge plan" id="cp-plan">Child protection plan in force</span>' in page
    assert "<dt>Assessment track</dt><dd>Assessing</dd>" in page
    assert "<dt>Plan track</dt><dd>Plan in force</dd>" in page
    screenings = section(page, '<ol class="screenings"', "</ol>\n</section>")
    assert screenings.count('<li class="screening"') == 2
    assert screenings.index('data-event="record_screening"') < screenings.index(
        'data-event="record_review"'
    )
    assert "Score up 1 (2 → 3)" in screenings
    assert "Indicators added: Use of technology" in screenings
    assert "Indicators gone: Sexual health" in screenings
    assert "Professional concern medium → high" in screenings
    assert "CSE models added" not in screenings
    assert "CSE models gone" not in screenings
    assert "&lt;script&gt;alert(1)&lt;/script&gt; older boyfriend" in screenings
    assert "<script>" not in page
    discussions = section(page, 'id="strategy-discussions"', "</table>")
    assert "Team manager" in discussions
    assert "police, education" in discussions
    assert '<span class="badge danger missing-agency">health not there</span>' in discussions
    assert "CRIS-7" in discussions
    assert "Indicators: running_away; use_of_technology" in page
    assert "[&#39;" not in page  # no Python list in the timeline
    assert f"/dashboard/cases/{rid}/events/complete_assessment" in page  # the assessment runs on
    assert 'class="track-box active" data-state="assessing"' in page
    assert 'class="track-box active" data-state="plan_in_force"' in page
    assert "Plan track: plan in force; from here: Record cp review (end plan) → plan ended." in page


async def test_push_pull_factors_reach_only_those_who_may_read_the_case(
    browser: Browser, users: Users, api: httpx.AsyncClient, start_case: StartCase
) -> None:
    rid = await case_under_a_plan(api, users, start_case)

    for user in (users.analyst, users.intake, users.social_worker_b):
        page = await (await browser(user)).get(f"/dashboard/cases/{rid}")
        assert page.status_code == 403, user.user_id
        assert "older boyfriend" not in page.text
    for user in (users.social_worker_a, users.manager_a, users.head_of_service):
        page = await (await browser(user)).get(f"/dashboard/cases/{rid}")
        assert "older boyfriend" in page.text, user.user_id
    csv_text = (
        await (await browser(users.manager_a)).get(f"/dashboard/cases/{rid}/history.csv")
    ).text
    assert "older boyfriend" not in csv_text  # free text: never in the audit trail


async def test_the_audit_trail_csv_has_columns_for_indicators_models_and_agencies(
    browser: Browser, users: Users, api: httpx.AsyncClient, start_case: StartCase
) -> None:
    rid = str((await start_case(team=TEAM_A))["referral_id"])
    sw = users.social_worker_a
    await recorded_by_api(api, sw, rid, "decide", decision="assess", decided_at=minutes_ago(2))
    screened = {"score": 1, "professional_concern": "low", "screened_at": minutes_ago(1)}
    screened |= {"indicators": ["running_away", "sexual_health"], "cse_models": ["online"]}
    await recorded_by_api(api, sw, rid, "record_screening", **screened)
    client = await browser(sw)

    from_dashboard = (await client.get(f"/dashboard/cases/{rid}/history.csv")).text
    from_api = (await api.get(f"/cases/{rid}/history?format=csv", headers=sw.headers)).text

    assert from_dashboard == from_api
    header, _, screening = from_api.splitlines()
    assert header == "event,at,recorded_at,actor,details,indicators,cse_models,agencies"
    assert screening.startswith("record_screening,")
    assert screening.endswith(",score=1; complex=False,running_away; sexual_health,online,")


async def test_the_decide_form_and_the_stage_filter_offer_contract_v3s_decision_and_stage(
    browser: Browser, users: Users, start_case: StartCase
) -> None:
    rid = (await start_case(team=TEAM_A))["referral_id"]
    client = await browser(users.social_worker_a)

    decide = await client.get(f"/dashboard/cases/{rid}/events/decide")
    caseload = await client.get("/dashboard/")

    assert '<option value="strategy_discussion">Strategy discussion</option>' in decide.text
    assert '<option value="cp_plan">CP plan</option>' in caseload.text
