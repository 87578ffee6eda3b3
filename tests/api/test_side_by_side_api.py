"""Side by side (docs/rules.md, Stages) through the HTTP API: the new decision and stage in
the OpenAPI document, a strategy discussion held during the assessment, and a plan in force
that keeps the case open, with every refusal naming its rule and changing nothing."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest

from api.app import create_app
from edge.settings import Settings
from tests.api.conftest import Users, eventually, just_now

pytestmark = pytest.mark.e2e

StartCase = Callable[..., Awaitable[dict[str, Any]]]


def test_the_openapi_document_offers_the_new_decision_stage_and_review_fields(
    api_settings: Settings,
) -> None:
    schema = create_app(api_settings).openapi()
    components = schema["components"]["schemas"]
    assert "strategy_discussion" in components["DecideBody"]["properties"]["decision"]["enum"]
    assert "cp_plan" in components["Stage"]["enum"]
    review = components["RecordReviewBody"]
    assert {"indicators", "cse_models", "push_pull_factors"} <= set(review["properties"])
    assert not {"indicators", "cse_models", "push_pull_factors"} & set(review.get("required", []))


async def record(
    api: httpx.AsyncClient, users: Users, rid: str, event: str, body: dict[str, Any]
) -> dict[str, Any]:
    answer = await api.post(
        f"/cases/{rid}/events/{event}", json=body, headers=users.manager_a.headers
    )
    assert answer.status_code == 200, answer.text
    status: dict[str, Any] = answer.json()
    return status


async def status_of(api: httpx.AsyncClient, users: Users, rid: str) -> dict[str, Any]:
    answer = await api.get(f"/cases/{rid}", headers=users.head_of_service.headers)
    assert answer.status_code == 200, answer.text
    status: dict[str, Any] = answer.json()
    return status


def running(status: dict[str, Any], name: str) -> bool:
    return any(c["name"] == name and c["stopped_at"] is None for c in status["clocks"])


async def test_a_strategy_discussion_decided_at_once_is_held_during_the_assessment(
    api: httpx.AsyncClient, users: Users, start_case: StartCase
) -> None:
    rid = (await start_case())["referral_id"]
    status = await record(
        api, users, rid, "decide", {"decision": "strategy_discussion", "decided_at": just_now()}
    )
    assert status["stage"] == "assessment"
    assert status["tracks"] == {"assessment_track": "assessing", "plan_track": "no_plan"}
    assert running(status, "strategy_discussion")
    held = {
        "held_at": just_now(),
        "chair_role": "team_manager",
        "agencies": ["police", "education"],
        "outcome": "s47",
    }
    status = await record(api, users, rid, "record_strategy_discussion", held)
    assert status["stage"] == "s47_enquiry"
    assert running(status, "assessment")
    [discussion] = status["strategy_discussions"]
    assert discussion["agencies"] == ["police", "education"]
    assert discussion["missing_agencies"] == ["health"]


async def test_a_plan_in_force_keeps_the_case_open_when_the_cse_risk_falls(
    api: httpx.AsyncClient, users: Users, start_case: StartCase
) -> None:
    rid = (await start_case(significant_harm_suspected=True))["referral_id"]
    at = just_now()
    screened = {"score": 3, "professional_concern": "high", "screened_at": at}
    steps: list[tuple[str, dict[str, Any]]] = [
        ("decide", {"decision": "assess", "decided_at": at}),
        ("record_screening", {**screened, "indicators": ["running_away"]}),
        ("complete_assessment", {"outcome": "strategy_discussion", "completed_at": at}),
        (
            "record_strategy_discussion",
            {"held_at": at, "chair_role": "team_manager", "outcome": "s47"},
        ),
        ("conclude_s47", {"outcome": "cp_conference", "concluded_at": at}),
        ("record_cp_conference", {"held_at": at, "outcome": "cp_plan"}),
        ("record_safety_plan", {"agreed_at": at}),
    ]
    for event, body in steps:
        await record(api, users, rid, event, body)
    before = await status_of(api, users, rid)
    assert before["cp_plan_in_force"]

    refused = await api.post(
        f"/cases/{rid}/events/close",
        json={"reason": "risk is low", "closed_at": just_now()},
        headers=users.manager_a.headers,
    )
    assert refused.status_code == 409, refused.text
    assert refused.json()["rule"] == "cp_plan_in_force"
    assert await status_of(api, users, rid) == before

    low = {"score": 1, "professional_concern": "low", "reviewed_at": just_now()}
    status = await record(api, users, rid, "record_review", low)
    assert status["stage"] == "cp_plan"
    assert running(status, "cp_review_conference")
    assert [s["event"] for s in status["screenings"]] == ["record_screening", "record_review"]
    assert status["screenings"][-1]["indicators"] == ["running_away"]

    async def listed() -> bool:
        answer = await api.get("/cases?stage=cp_plan", headers=users.head_of_service.headers)
        return answer.status_code == 200 and rid in answer.text

    await eventually("the case listed in stage cp_plan", listed)
    ended = {"held_at": just_now(), "outcome": "end_plan"}
    status = await record(api, users, rid, "record_cp_review", ended)
    assert status["stage"] == "closed"
