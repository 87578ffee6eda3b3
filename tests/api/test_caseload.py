"""Supervisors' views: the filtered caseload (visibility only), the forecast, a case's audit
trail as JSON and CSV, its pathway diagram, and the health check."""

from __future__ import annotations

import csv
import io
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from tests.api.conftest import TEAM_A, TEAM_B, Users, eventually, just_now
from tests.e2e.conftest import iso

pytestmark = pytest.mark.e2e

StartCase = Callable[..., Awaitable[dict[str, Any]]]


async def listed(
    api: httpx.AsyncClient, users: Users, **params: Any
) -> tuple[list[str], str | None]:
    answer = await api.get("/cases", params=params, headers=users.head_of_service.headers)
    assert answer.status_code == 200, answer.text
    page = answer.json()
    return [c["referral_id"] for c in page["cases"]], page["next_page_token"]


@pytest.fixture
async def two_cases(
    api: httpx.AsyncClient, users: Users, start_case: StartCase
) -> tuple[str, str, str]:
    """In a team of their own: one case received 10 days ago (overdue at once), one received
    just now, decided for assessment and screened with a score of 2."""
    team = f"API-LIST-{uuid.uuid4().hex[:6]}"
    late = await start_case(team=team, received_ago=timedelta(days=10))
    fresh = await start_case(team=team)
    rid = fresh["referral_id"]
    sent = [
        ("decide", {"decision": "assess", "decided_at": just_now(), "reason": "harm"}),
        (
            "record_screening",
            {"score": 2, "professional_concern": "medium", "screened_at": just_now()},
        ),
    ]
    for event, body in sent:
        answer = await api.post(
            f"/cases/{rid}/events/{event}", json=body, headers=users.head_of_service.headers
        )
        assert answer.status_code == 200, answer.text

    async def both_published() -> bool:
        overdue, _ = await listed(api, users, team=team, overdue=True)
        scored, _ = await listed(api, users, team=team, score=2)
        return overdue == [late["referral_id"]] and scored == [rid]

    await eventually("both cases' search attributes", both_published)
    return team, late["referral_id"], rid


async def test_the_caseload_filters_on_search_attributes(
    api: httpx.AsyncClient, users: Users, two_cases: tuple[str, str, str]
) -> None:
    team, late, fresh = two_cases

    assert (await listed(api, users, team=team, stage="assessment"))[0] == [fresh]
    assert (await listed(api, users, team=team, stage="referral_received"))[0] == [late]
    assert (await listed(api, users, team=team, overdue=True))[0] == [late]
    assert (await listed(api, users, team=team, overdue=False))[0] == [fresh]
    assert (await listed(api, users, team=team, score=2))[0] == [fresh]
    assert (await listed(api, users, team=team, score=0))[0] == []
    assert (await listed(api, users, team=team, due_before=iso(datetime.now(UTC))))[0] == [late]
    assert (await listed(api, users, team=f"{team}-nobody"))[0] == []


async def test_the_caseload_items_come_from_search_attributes(
    api: httpx.AsyncClient, users: Users, two_cases: tuple[str, str, str]
) -> None:
    team, late, fresh = two_cases

    answer = await api.get("/cases", params={"team": team}, headers=users.head_of_service.headers)

    items = {c["referral_id"]: c for c in answer.json()["cases"]}
    assert items[fresh]["stage"] == "assessment"
    assert items[fresh]["risk_score"] == 2
    assert items[fresh]["overdue"] is False
    assert items[late]["overdue"] is True
    assert items[late]["risk_score"] is None
    assert {c["team"] for c in items.values()} == {team}
    assert {c["complex"] for c in items.values()} == {False}
    assert {c["mase_referred"] for c in items.values()} == {False}
    assert datetime.fromisoformat(items[late]["next_due"]) < datetime.now(UTC)


async def test_the_caseload_is_sorted_by_next_due_and_paged(
    api: httpx.AsyncClient, users: Users, two_cases: tuple[str, str, str]
) -> None:
    team, late, fresh = two_cases

    first, token = await listed(api, users, team=team, page_size=1)
    assert first == [late]
    assert token is not None
    second, last_token = await listed(api, users, team=team, page_size=1, next_page_token=token)
    assert second == [fresh]
    assert last_token is None
    everything, none = await listed(api, users, team=team)
    assert everything == [late, fresh]
    assert none is None


async def test_a_page_token_from_another_listing_is_refused(
    api: httpx.AsyncClient, users: Users, two_cases: tuple[str, str, str]
) -> None:
    team, _, _ = two_cases
    _, token = await listed(api, users, team=team, page_size=1)
    hos = users.head_of_service.headers

    other = await api.get("/cases", params={"team": TEAM_B, "next_page_token": token}, headers=hos)
    garbage = await api.get("/cases", params={"next_page_token": "%%%not-a-token"}, headers=hos)

    for answer in (other, garbage):
        assert answer.status_code == 422
        assert answer.json()["errors"][0]["field"] == "query.next_page_token"


async def test_the_forecast_lists_clocks_falling_due_within_n_working_days(
    api: httpx.AsyncClient, users: Users, start_case: StartCase
) -> None:
    case = await start_case(team=TEAM_A, significant_harm_suspected=True)
    rid = case["referral_id"]

    async def forecast(user_headers: dict[str, str], days: int) -> dict[str, Any]:
        answer = await api.get("/forecast", params={"working_days": days}, headers=user_headers)
        assert answer.status_code == 200, answer.text
        body: dict[str, Any] = answer.json()
        return body

    async def candidates() -> dict[str, Any] | None:
        found = await forecast(users.social_worker_a.headers, 3)
        return found if any(c["referral_id"] == rid for c in found["clocks"]) else None

    within_three = await eventually("the case to be a forecast candidate", candidates)
    clocks = {c["clock"] for c in within_three["clocks"] if c["referral_id"] == rid}
    assert clocks == {"referral_decision", "strategy_discussion"}
    assert {c["team"] for c in within_three["clocks"]} == {TEAM_A}
    due = [c["due_at"] for c in within_three["clocks"]]
    assert due == sorted(due)
    assert all(c["due_at"] <= within_three["cutoff"] for c in within_three["clocks"])
    other_team = await forecast(users.social_worker_b.headers, 3)
    assert rid not in {c["referral_id"] for c in other_team["clocks"]}
    bad = await api.get("/forecast", params={"working_days": 0}, headers=users.manager_a.headers)
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["field"] == "query.working_days"


async def test_the_history_is_json_or_csv(
    api: httpx.AsyncClient, users: Users, start_case: StartCase
) -> None:
    case = await start_case(team=TEAM_A)
    rid = case["referral_id"]
    decided = {"decision": "assess", "decided_at": just_now(), "reason": "harm"}
    sw = users.social_worker_a.headers
    assert (await api.post(f"/cases/{rid}/events/decide", json=decided, headers=sw)).is_success

    as_json = await api.get(f"/cases/{rid}/history", headers=sw)
    by_accept = await api.get(f"/cases/{rid}/history", headers=sw | {"Accept": "text/csv"})
    by_query = await api.get(f"/cases/{rid}/history", params={"format": "csv"}, headers=sw)

    assert as_json.json()["referral_id"] == rid
    [entry] = as_json.json()["history"]
    assert entry["event"] == "decide"
    assert entry["actor"] == users.social_worker_a.user_id
    for answer in (by_accept, by_query):
        assert answer.headers["content-type"].startswith("text/csv")
        rows = list(csv.DictReader(io.StringIO(answer.text)))
        assert rows == [
            {
                "event": "decide",
                "at": datetime.fromisoformat(entry["at"]).isoformat(),
                "recorded_at": datetime.fromisoformat(entry["recorded_at"]).isoformat(),
                "actor": users.social_worker_a.user_id,
                "details": "decision=assess",
                "indicators": "",
                "cse_models": "",
                "agencies": "",
            }
        ]


async def test_the_diagram_highlights_the_stage_and_its_running_clocks(
    api: httpx.AsyncClient, users: Users, start_case: StartCase
) -> None:
    case = await start_case(team=TEAM_A, significant_harm_suspected=True)
    rid = case["referral_id"]
    decided = {"decision": "assess", "decided_at": just_now(), "reason": "harm"}
    sw = users.social_worker_a.headers
    assert (await api.post(f"/cases/{rid}/events/decide", json=decided, headers=sw)).is_success

    answer = await api.get(f"/cases/{rid}/diagram", headers=sw)

    assert answer.status_code == 200
    drawing = answer.json()
    assert drawing["stage"] == "assessment"
    assert {c["name"] for c in drawing["open_clocks"]} == {"assessment", "strategy_discussion"}
    diagram = drawing["diagram"]
    assert diagram.startswith("stateDiagram-v2")
    assert "    assessment:::active" in diagram.splitlines()
    active = {line.strip() for line in diagram.splitlines() if line.endswith(":::active")}
    # The stage on the line, and where the case is on each track beside it (contract v3).
    on_each_track = ["open", "line", "assessment", "assessment_track", "assessing"]
    on_each_track += ["plan_track", "no_plan"]
    assert active == {f"{state}:::active" for state in on_each_track}
    assert "referral_received --> assessment" in diagram
    note = diagram[diagram.index("note right of assessment") :]
    assert "assessment due" in note
    assert "strategy_discussion due" in note


async def test_health_checks_the_temporal_connection(api: httpx.AsyncClient) -> None:
    answer = await api.get("/health")

    assert answer.status_code == 200
    assert answer.json() == {"status": "ok", "temporal": "reachable"}


async def test_the_docs_are_served(api: httpx.AsyncClient) -> None:
    docs = await api.get("/docs")
    schema = await api.get("/openapi.json")

    assert docs.status_code == 200
    assert "swagger" in docs.text.lower()
    assert "/cases/{referral_id}/events/decide" in schema.json()["paths"]
