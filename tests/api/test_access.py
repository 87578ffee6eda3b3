"""Who may do what: 401 without a good token, 403 outside one's role or team, logged without
child details; analysts see aggregates only and nobody ever sees a child_ref."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest
from structlog.testing import capture_logs

from tests.api.conftest import TEAM_A, TEAM_B, Users, eventually, just_now

pytestmark = pytest.mark.e2e

StartCase = Callable[..., Awaitable[dict[str, Any]]]


async def test_no_token_or_an_unknown_one_is_401_and_logged(api: httpx.AsyncClient) -> None:
    with capture_logs() as logs:
        missing = await api.get("/cases")
        unknown = await api.get("/cases", headers={"Authorization": "Bearer not-a-known-token"})
        basic = await api.get("/cases", headers={"Authorization": "Basic dXNlcjpwYXNz"})

    for answer in (missing, unknown, basic):
        assert answer.status_code == 401
        assert answer.headers["WWW-Authenticate"] == "Bearer"
        assert answer.json()["detail"]
    assert "bearer token is required" in missing.json()["detail"]
    assert "not one the users file knows" in unknown.json()["detail"]
    assert [entry["event"] for entry in logs] == ["unauthenticated"] * 3
    assert all(entry["route"] == "/cases" for entry in logs)
    assert "not-a-known-token" not in str(logs)


async def test_a_social_worker_cannot_read_or_write_another_teams_case(
    api: httpx.AsyncClient, users: Users, start_case: StartCase
) -> None:
    case = await start_case(team=TEAM_A)
    rid = case["referral_id"]
    other = users.social_worker_b.headers

    with capture_logs() as logs:
        answers = [
            await api.get(f"/cases/{rid}", headers=other),
            await api.get(f"/cases/{rid}/history", headers=other),
            await api.get(f"/cases/{rid}/diagram", headers=other),
            await api.post(
                f"/cases/{rid}/events/decide",
                json={"decision": "assess", "decided_at": just_now()},
                headers=other,
            ),
            await api.get("/cases", params={"team": TEAM_A}, headers=other),
        ]

    assert [a.status_code for a in answers] == [403] * 5
    assert all(a.json()["detail"] for a in answers)
    assert {entry["user"] for entry in logs} == {users.social_worker_b.user_id}
    assert {entry["event"] for entry in logs} == {"forbidden"}
    assert "/cases/{referral_id}/events/decide" in {entry["route"] for entry in logs}
    assert case["child_ref"] not in str(logs)
    own = await api.get(f"/cases/{rid}", headers=users.social_worker_a.headers)
    assert own.status_code == 200
    assert own.json()["history"] == []


async def test_a_social_worker_lists_only_their_own_team(
    api: httpx.AsyncClient, users: Users, start_case: StartCase
) -> None:
    mine = await start_case(team=TEAM_B)
    await start_case(team=TEAM_A)

    async def listed() -> list[dict[str, Any]] | None:
        answer = await api.get("/cases", headers=users.social_worker_b.headers)
        cases: list[dict[str, Any]] = answer.json()["cases"]
        return cases if mine["referral_id"] in {c["referral_id"] for c in cases} else None

    cases = await eventually("team B's case to be listed", listed)
    assert {c["team"] for c in cases} == {TEAM_B}


async def test_intake_cannot_read_cases(
    api: httpx.AsyncClient, users: Users, start_case: StartCase
) -> None:
    case = await start_case()
    intake = users.intake.headers

    for path in ("/cases", f"/cases/{case['referral_id']}", "/forecast"):
        answer = await api.get(path, headers=intake)
        assert answer.status_code == 403, path
        assert "intake" in answer.json()["detail"]


async def test_an_analyst_sees_aggregates_only_and_never_a_child_ref(
    api: httpx.AsyncClient, users: Users, start_case: StartCase
) -> None:
    case = await start_case(team=TEAM_A, significant_harm_suspected=True)
    rid = case["referral_id"]
    analyst = users.analyst.headers

    async def listed() -> dict[str, Any] | None:
        answer = await api.get("/cases", params={"team": TEAM_A}, headers=analyst)
        assert answer.status_code == 200
        cases: list[dict[str, Any]] = answer.json()["cases"]
        return answer.json() if cases else None

    listing = await eventually("team A's cases to be listed for the analyst", listed)
    forecast = await api.get("/forecast", params={"working_days": 5}, headers=analyst)
    refused = [
        await api.get(f"/cases/{rid}", headers=analyst),
        await api.get(f"/cases/{rid}/history", headers=analyst),
        await api.get(f"/cases/{rid}/diagram", headers=analyst),
        await api.post(
            f"/cases/{rid}/events/decide",
            json={"decision": "assess", "decided_at": just_now()},
            headers=analyst,
        ),
    ]

    assert {c["referral_id"] for c in listing["cases"]} == {None}
    assert forecast.status_code == 200
    assert forecast.json()["clocks"]
    assert {c["referral_id"] for c in forecast.json()["clocks"]} == {None}
    assert [a.status_code for a in refused] == [403] * 4
    for answer in [forecast, *refused]:
        assert rid not in answer.text
        assert case["child_ref"] not in answer.text
    assert "child_ref" not in str(listing)


async def test_no_answer_to_anyone_carries_a_child_ref(
    api: httpx.AsyncClient, users: Users, start_case: StartCase
) -> None:
    case = await start_case(team=TEAM_A)
    rid = case["referral_id"]
    hos = users.head_of_service.headers

    answers = [
        await api.get(f"/cases/{rid}", headers=hos),
        await api.get(f"/cases/{rid}/history", headers=hos),
        await api.get(f"/cases/{rid}/history", params={"format": "csv"}, headers=hos),
        await api.get(f"/cases/{rid}/diagram", headers=hos),
        await api.get("/cases", params={"team": TEAM_A}, headers=hos),
        await api.get("/forecast", headers=hos),
        await api.get("/openapi.json"),
    ]

    for answer in answers:
        assert case["child_ref"] not in answer.text
    assert all("child_ref" not in a.text for a in answers[:-1])
