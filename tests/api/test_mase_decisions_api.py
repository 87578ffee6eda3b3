"""The MASE panel's decisions and actions through the HTTP API (docs/rules.md, The MASE panel): the
OpenAPI document offers both events, a manager records a decision with actions on a referred
case, each action is kept with its own clock and completed by its id, and every refusal names
its rule or field and changes nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from api.app import create_app
from edge.settings import Settings
from tests.api.conftest import StartCase, User, Users, just_now

pytestmark = pytest.mark.e2e


def test_the_openapi_document_offers_the_panels_events(api_settings: Settings) -> None:
    schema = create_app(api_settings).openapi()
    paths = schema["paths"]
    assert "/cases/{referral_id}/events/record_mase_decision" in paths
    assert "/cases/{referral_id}/events/complete_mase_action" in paths
    body = schema["components"]["schemas"]["RecordMaseDecisionBody"]
    assert set(body["properties"]["decision"]["enum"]) == {"keep_open", "step_down", "escalate"}


async def post(
    api: httpx.AsyncClient, user: User, rid: str, event: str, body: dict[str, Any]
) -> httpx.Response:
    return await api.post(f"/cases/{rid}/events/{event}", json=body, headers=user.headers)


async def referred_case(api: httpx.AsyncClient, users: Users, start_case: StartCase) -> str:
    rid: str = (await start_case())["referral_id"]
    manager = users.manager_a
    steps: list[tuple[str, dict[str, Any]]] = [
        ("decide", {"decision": "strategy_discussion", "decided_at": just_now()}),
        (
            "record_screening",
            {"score": 2, "professional_concern": "medium", "screened_at": just_now()},
        ),
        (
            "record_strategy_discussion",
            {
                "held_at": just_now(),
                "chair_role": "team_manager",
                "agencies": ["police", "health"],
                "outcome": "s47",
                "cris_number": "CRIS-1/26",
            },
        ),
        ("refer_to_mase", {"referred_at": just_now()}),
    ]
    for event, body in steps:
        answer = await post(api, manager, rid, event, body)
        assert answer.status_code == 200, answer.text
    return rid


async def test_a_decision_keeps_its_actions_and_each_is_completed_by_its_id(
    api: httpx.AsyncClient, users: Users, start_case: StartCase
) -> None:
    rid = await referred_case(api, users, start_case)
    due = (datetime.now(UTC) + timedelta(days=14)).isoformat()
    decision = {
        "held_at": just_now(),
        "decision": "keep_open",
        "actions": [{"action": "disruption plan", "owner_role": "police_spoc", "due_at": due}],
    }
    answer = await post(api, users.manager_a, rid, "record_mase_decision", decision)
    assert answer.status_code == 200, answer.text
    status = (await api.get(f"/cases/{rid}", headers=users.head_of_service.headers)).json()
    [kept] = status["mase"]["decisions"]
    assert (kept["decision"], kept["action_ids"]) == ("keep_open", ["action-1"])
    [action] = status["mase"]["actions"]
    assert (action["action_id"], action["owner_role"], action["state"]) == (
        "action-1",
        "police_spoc",
        "open",
    )
    assert any(c["name"] == "mase_action" and c["stopped_at"] is None for c in status["clocks"])

    unknown = await post(
        api,
        users.manager_a,
        rid,
        "complete_mase_action",
        {"action_id": "action-7", "completed_at": just_now()},
    )
    assert unknown.status_code == 409, unknown.text
    assert unknown.json()["rule"] == "mase_action_unknown"
    done = await post(
        api,
        users.social_worker_a,
        rid,
        "complete_mase_action",
        {"action_id": "action-1", "completed_at": just_now()},
    )
    assert done.status_code == 200, done.text
    status = (await api.get(f"/cases/{rid}", headers=users.head_of_service.headers)).json()
    assert status["mase"]["actions"][0]["state"] == "met"


async def test_refusals_name_the_rule_or_field_and_change_nothing(
    api: httpx.AsyncClient, users: Users, start_case: StartCase
) -> None:
    unreferred: str = (await start_case())["referral_id"]
    before = (await api.get(f"/cases/{unreferred}", headers=users.head_of_service.headers)).json()
    not_referred = await post(
        api,
        users.manager_a,
        unreferred,
        "record_mase_decision",
        {"held_at": just_now(), "decision": "escalate"},
    )
    assert not_referred.status_code == 409, not_referred.text
    assert not_referred.json()["rule"] == "mase_decision_needs_referral"
    a_worker = await post(
        api,
        users.social_worker_a,
        unreferred,
        "record_mase_decision",
        {"held_at": just_now(), "decision": "keep_open"},
    )
    assert a_worker.status_code == 403, a_worker.text
    past = {"action": "x", "owner_role": "mash", "due_at": "2020-01-01T00:00:00+00:00"}
    bad_action = await post(
        api,
        users.manager_a,
        unreferred,
        "record_mase_decision",
        {"held_at": just_now(), "decision": "keep_open", "actions": [past]},
    )
    assert bad_action.status_code == 422, bad_action.text
    assert "actions" in bad_action.text
    after = (await api.get(f"/cases/{unreferred}", headers=users.head_of_service.headers)).json()
    assert after["history"] == before["history"]
    assert after["mase"] == before["mase"]
