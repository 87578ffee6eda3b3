"""POST /cases/{id}/events/{event}: one route per update; the actor is always the caller."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest

from api.app import create_app
from domain.events import EVENT_TYPES
from edge.settings import Settings
from tests.api.conftest import Users, just_now
from tests.api.test_intake_age import years_ago

pytestmark = pytest.mark.e2e

StartCase = Callable[..., Awaitable[dict[str, Any]]]


async def status_of(api: httpx.AsyncClient, users: Users, referral_id: str) -> dict[str, Any]:
    answer = await api.get(f"/cases/{referral_id}", headers=users.head_of_service.headers)
    assert answer.status_code == 200, answer.text
    status: dict[str, Any] = answer.json()
    return status


def test_every_update_of_the_contract_has_its_route_and_body_model(
    api_settings: Settings,
) -> None:
    schema = create_app(api_settings).openapi()

    for name, event_type in EVENT_TYPES.items():
        operation = schema["paths"][f"/cases/{{referral_id}}/events/{name}"]["post"]
        body_ref = operation["requestBody"]["content"]["application/json"]["schema"]["$ref"]
        body = schema["components"]["schemas"][body_ref.rsplit("/", 1)[1]]
        assert body_ref.endswith(f"/{event_type.__name__}Body")
        assert "actor" not in body["properties"], name
        assert set(body["properties"]) == set(event_type.model_fields) - {"actor"}


async def test_an_accepted_event_returns_the_new_status_recorded_by_the_caller(
    api: httpx.AsyncClient, users: Users, start_case: StartCase
) -> None:
    case = await start_case()
    path = f"/cases/{case['referral_id']}/events/decide"
    body = {"decision": "assess", "decided_at": just_now(), "reason": "harm", "actor": "hos@x"}

    answer = await api.post(path, json=body, headers=users.social_worker_a.headers)

    assert answer.status_code == 200, answer.text
    status = answer.json()
    assert status["stage"] == "assessment"
    assert status["history"][-1]["event"] == "decide"
    assert status["history"][-1]["actor"] == users.social_worker_a.user_id
    stored = await status_of(api, users, case["referral_id"])
    assert stored["history"][-1]["actor"] == users.social_worker_a.user_id


async def test_a_refused_event_names_the_rule_and_changes_nothing(
    api: httpx.AsyncClient, users: Users, start_case: StartCase
) -> None:
    case = await start_case()
    rid = case["referral_id"]
    decided = {"decision": "assess", "decided_at": just_now(), "reason": "harm"}
    await api.post(f"/cases/{rid}/events/decide", json=decided, headers=users.manager_a.headers)
    before = await status_of(api, users, rid)

    answer = await api.post(
        f"/cases/{rid}/events/complete_assessment",
        json={"outcome": "strategy_discussion", "completed_at": just_now()},
        headers=users.social_worker_a.headers,
    )

    assert answer.status_code == 409
    refusal = answer.json()
    assert refusal["rule"] == "screening_required"
    assert "needs a CSE risk screening recorded first" in refusal["detail"]
    assert await status_of(api, users, rid) == before


async def test_an_event_not_allowed_in_the_stage_is_refused(
    api: httpx.AsyncClient, users: Users, start_case: StartCase
) -> None:
    case = await start_case()

    answer = await api.post(
        f"/cases/{case['referral_id']}/events/agree_cin_plan",
        json={"agreed_at": just_now()},
        headers=users.social_worker_a.headers,
    )

    assert answer.status_code == 409
    assert answer.json()["rule"] == "event_not_allowed_in_stage"
    assert "referral_received" in answer.json()["detail"]


async def test_a_bad_event_names_each_bad_field(
    api: httpx.AsyncClient, users: Users, start_case: StartCase
) -> None:
    case = await start_case()
    rid = case["referral_id"]
    before = await status_of(api, users, rid)

    answer = await api.post(
        f"/cases/{rid}/events/record_screening",
        json={"score": 7, "professional_concern": "extreme", "screened_at": "yesterday"},
        headers=users.social_worker_a.headers,
    )

    assert answer.status_code == 422
    fields = {p["field"] for p in answer.json()["errors"]}
    assert fields == {"body.score", "body.professional_concern", "body.screened_at"}
    assert await status_of(api, users, rid) == before


async def test_an_event_in_the_future_is_refused_by_the_workflow(
    api: httpx.AsyncClient, users: Users, start_case: StartCase
) -> None:
    case = await start_case()

    answer = await api.post(
        f"/cases/{case['referral_id']}/events/decide",
        json={"decision": "assess", "decided_at": "2099-01-01T10:00:00+00:00"},
        headers=users.social_worker_a.headers,
    )

    assert answer.status_code == 409
    assert answer.json()["rule"] == "event_time_in_future"
    assert "future" in answer.json()["detail"]


async def test_an_unknown_case_is_404(api: httpx.AsyncClient, users: Users) -> None:
    answer = await api.post(
        "/cases/NO-SUCH-CASE/events/decide",
        json={"decision": "assess", "decided_at": just_now()},
        headers=users.head_of_service.headers,
    )

    assert answer.status_code == 404
    assert answer.json()["detail"] == "there is no case for referral NO-SUCH-CASE"


async def test_only_a_manager_closes_a_case_and_a_closed_case_takes_no_more_events(
    api: httpx.AsyncClient, users: Users, start_case: StartCase
) -> None:
    case = await start_case()
    path = f"/cases/{case['referral_id']}/events/close"
    body = {"reason": "moved out of the area", "closed_at": just_now()}

    refused = await api.post(path, json=body, headers=users.social_worker_a.headers)
    closed = await api.post(path, json=body, headers=users.manager_a.headers)
    again = await api.post(path, json=body, headers=users.manager_a.headers)

    assert refused.status_code == 403
    assert "manager" in refused.json()["detail"]
    assert closed.status_code == 200, closed.text
    assert closed.json()["stage"] == "closed"
    assert closed.json()["history"][-1]["actor"] == users.manager_a.user_id
    assert again.status_code == 409
    assert again.json()["rule"] in {"case_closed", "event_not_allowed_in_stage"}


async def test_a_disruption_activity_is_kept_on_the_case_and_its_timeline(
    api: httpx.AsyncClient, users: Users, start_case: StartCase
) -> None:
    case = await start_case()
    rid = case["referral_id"]
    body = {
        "action": "abduction_warning_notice",
        "agency": "police",
        "description": "notice served on an adult seen with the child",
        "taken_at": just_now(),
    }

    answer = await api.post(
        f"/cases/{rid}/events/record_disruption_activity",
        json=body,
        headers=users.social_worker_a.headers,
    )

    assert answer.status_code == 200, answer.text
    status = await status_of(api, users, rid)
    assert status["stage"] == "referral_received"
    assert [(d["action"], d["agency"]) for d in status["disruption_activities"]] == [
        ("abduction_warning_notice", "police")
    ]
    entry = status["history"][-1]
    assert entry["event"] == "record_disruption_activity"
    assert entry["details"] == {"action": "abduction_warning_notice", "agency": "police"}
    assert "notice served" not in str(entry)  # the words stay on the case, not the audit trail


async def test_an_event_sent_again_with_its_idempotency_key_is_recorded_once(
    api: httpx.AsyncClient, users: Users, start_case: StartCase
) -> None:
    rid = (await start_case())["referral_id"]
    path = f"/cases/{rid}/events/raise_professional_concern"
    body = {"level": "medium", "note": "seen with older men", "raised_at": just_now()}
    sent_twice = {"Idempotency-Key": "retry-after-timeout-1", **users.social_worker_a.headers}

    first = await api.post(path, json=body, headers=sent_twice)
    again = await api.post(path, json=body, headers=sent_twice)
    other = await api.post(
        path, json=body, headers={**sent_twice, "Idempotency-Key": "another-one-2"}
    )
    bad = await api.post(
        path, json=body, headers={**users.social_worker_a.headers, "Idempotency-Key": "no spaces"}
    )

    assert [first.status_code, again.status_code, other.status_code] == [200, 200, 200]
    assert bad.status_code == 422
    events = [h["event"] for h in (await status_of(api, users, rid))["history"]]
    assert events.count("raise_professional_concern") == 2


async def test_a_transition_plan_meets_its_clock_and_a_second_is_refused(
    api: httpx.AsyncClient, users: Users, start_case: StartCase
) -> None:
    """The last event added (`record_transition_plan`), recorded as docs/contributing.md says
    a new event is: through its generated route, by a social worker."""
    case = await start_case(date_of_birth=years_ago(18, days=60))  # past 17 years 6 months
    path = f"/cases/{case['referral_id']}/events/record_transition_plan"
    headers = users.social_worker_a.headers

    answer = await api.post(path, json={"agreed_at": just_now()}, headers=headers)

    assert answer.status_code == 200, answer.text
    status = answer.json()
    [clock] = [c for c in status["clocks"] if c["name"] == "transition_planning"]
    assert clock["state"] == "met"
    assert status["history"][-1]["event"] == "record_transition_plan"
    again = await api.post(path, json={"agreed_at": just_now()}, headers=headers)
    assert again.status_code == 409
    assert again.json()["rule"] == "transition_plan_not_due"
    assert len((await status_of(api, users, case["referral_id"]))["history"]) == len(
        status["history"]
    )
