"""POST /referrals with a date of birth (docs/rules.md, Clocks): taken, and the case answers
the child's age at referral; a child 18 or over when referred is refused naming the field."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import httpx
import pytest

from tests.api.conftest import Users, referral

pytestmark = pytest.mark.e2e


def years_ago(years: int, days: int = 0) -> str:
    """The date `years` years before today, moved `days` days later (a day of 29 or more is
    taken as the 28th, so the year before has it too)."""
    today = datetime.now(UTC).date()
    return (date(today.year - years, today.month, min(today.day, 28)) + timedelta(days)).isoformat()


async def test_a_date_of_birth_is_taken_and_the_age_at_referral_answered(
    api: httpx.AsyncClient, users: Users
) -> None:
    body = referral(date_of_birth=years_ago(14, days=3))  # 14 in three days' time

    answer = await api.post("/referrals", json=body, headers=users.intake.headers)

    assert answer.status_code == 201, answer.text
    status = answer.json()
    assert status["age_at_referral"] == 13
    assert body["date_of_birth"] not in answer.text
    assert "transition_planning" not in {c["name"] for c in status["clocks"]}
    read = await api.get(f"/cases/{body['referral_id']}", headers=users.head_of_service.headers)
    assert read.json()["age_at_referral"] == 13


async def test_a_child_past_17_and_a_half_has_transition_planning_at_once(
    api: httpx.AsyncClient, users: Users
) -> None:
    body = referral(date_of_birth=years_ago(18, days=60))  # 17 years and about 10 months

    answer = await api.post("/referrals", json=body, headers=users.intake.headers)

    assert answer.status_code == 201, answer.text
    status = answer.json()
    assert status["age_at_referral"] == 17
    [clock] = [c for c in status["clocks"] if c["name"] == "transition_planning"]
    assert clock["opened_at"] == status["received_at"]
    assert clock["state"] == "open"


async def test_a_child_18_when_referred_is_refused_naming_date_of_birth(
    api: httpx.AsyncClient, users: Users
) -> None:
    body = referral(date_of_birth=years_ago(18, days=-3))

    answer = await api.post("/referrals", json=body, headers=users.intake.headers)

    assert answer.status_code == 422
    [problem] = answer.json()["errors"]
    assert problem["field"] == "body.date_of_birth"
    assert "18 or over when referred" in problem["message"]
    missing = await api.get(f"/cases/{body['referral_id']}", headers=users.head_of_service.headers)
    assert missing.status_code == 404
