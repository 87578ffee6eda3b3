"""POST /referrals: intake starts one case per referral, exactly as starter.py does."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest

from tests.api.conftest import TEAM_A, TEAM_B, Users, referral
from tests.e2e.conftest import iso

pytestmark = pytest.mark.e2e


async def test_a_referral_starts_its_case(api: httpx.AsyncClient, users: Users) -> None:
    body = referral(significant_harm_suspected=True)

    answer = await api.post("/referrals", json=body, headers=users.intake.headers)

    assert answer.status_code == 201, answer.text
    status = answer.json()
    assert status["referral_id"] == body["referral_id"]
    assert status["stage"] == "referral_received"
    assert status["team"] == TEAM_A
    assert {c["name"] for c in status["clocks"]} == {"referral_decision", "strategy_discussion"}
    assert "child_ref" not in answer.text
    assert body["child_ref"] not in answer.text
    read = await api.get(f"/cases/{body['referral_id']}", headers=users.head_of_service.headers)
    assert read.status_code == 200
    assert read.json()["clocks"] == status["clocks"]


async def test_the_same_referral_again_is_refused_and_the_first_case_untouched(
    api: httpx.AsyncClient, users: Users
) -> None:
    body = referral()
    assert (
        await api.post("/referrals", json=body, headers=users.intake.headers)
    ).status_code == 201
    path = f"/cases/{body['referral_id']}"
    before = (await api.get(path, headers=users.head_of_service.headers)).json()

    again = referral(referral_id=body["referral_id"], team=TEAM_B, significant_harm_suspected=True)
    answer = await api.post("/referrals", json=again, headers=users.intake.headers)

    assert answer.status_code == 409
    refusal = answer.json()
    assert refusal["rule"] == "duplicate_referral"
    assert f"a case for referral {body['referral_id']} already exists" in refusal["detail"]
    after = (await api.get(path, headers=users.head_of_service.headers)).json()
    assert after == before
    assert after["team"] == TEAM_A


async def test_a_bad_referral_is_refused_naming_each_bad_field(
    api: httpx.AsyncClient, users: Users
) -> None:
    body = referral(received_at="2026-11-27T10:00:00", concerns=["sexual_health", "witchcraft"])
    del body["child_ref"]

    answer = await api.post("/referrals", json=body, headers=users.intake.headers)

    assert answer.status_code == 422
    refusal = answer.json()
    fields = {problem["field"] for problem in refusal["errors"]}
    assert fields == {"body.received_at", "body.child_ref", "body.concerns.1"}
    assert "body.child_ref" in refusal["detail"]
    missing = await api.get(f"/cases/{body['referral_id']}", headers=users.head_of_service.headers)
    assert missing.status_code == 404


async def test_a_referral_received_in_the_future_is_refused(
    api: httpx.AsyncClient, users: Users
) -> None:
    body = referral(received_at=iso(datetime.now(UTC) + timedelta(hours=1)))

    answer = await api.post("/referrals", json=body, headers=users.intake.headers)

    assert answer.status_code == 422
    assert answer.json()["errors"] == [{"field": "body.received_at", "message": "is in the future"}]
    missing = await api.get(f"/cases/{body['referral_id']}", headers=users.head_of_service.headers)
    assert missing.status_code == 404


async def test_a_referral_within_the_policy_s_clock_skew_is_taken(
    api: httpx.AsyncClient, users: Users
) -> None:
    """A device clock a minute or two ahead: the API, starter.py and the workflow share one
    tolerance (the policy's clock_skew_minutes, 5), so the case opens."""
    body = referral(received_at=iso(datetime.now(UTC) + timedelta(minutes=2)))

    answer = await api.post("/referrals", json=body, headers=users.intake.headers)

    assert answer.status_code == 201, answer.text
    assert answer.json()["stage"] == "referral_received"


async def test_only_intake_starts_cases(api: httpx.AsyncClient, users: Users) -> None:
    for user in (users.social_worker_a, users.head_of_service, users.analyst):
        body = referral()
        answer = await api.post("/referrals", json=body, headers=user.headers)
        assert answer.status_code == 403, user.role
        assert "intake" in answer.json()["detail"]
