"""An Idempotency-Key stands for one body (issue 17, item 3): the same key with the same body is
recorded once and answered the same; with another body it is refused with 422 naming the
conflict, and the case holds only the first, never both and never the second in silence.
Against the real dev server and the project's worker (tests/api/conftest.py)."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime
from typing import Any

import httpx

from tests.api.conftest import StartCase, Users, just_now

EVENT = "raise_professional_concern"


async def concerns_recorded(api: httpx.AsyncClient, users: Users, rid: str) -> list[str]:
    answer = await api.get(f"/cases/{rid}/history", headers=users.head_of_service.headers)
    assert answer.status_code == 200, answer.text
    return [h["details"]["level"] for h in answer.json()["history"] if h["event"] == EVENT]


def keyed(users: Users, key: str) -> dict[str, str]:
    return {"Idempotency-Key": key, **users.social_worker_a.headers}


def concern(level: str, raised_at: str) -> dict[str, Any]:
    return {"level": level, "note": "seen with older men", "raised_at": raised_at}


async def test_the_same_key_and_body_sent_again_is_recorded_once_and_answered_the_same(
    api: httpx.AsyncClient, users: Users, start_case: StartCase
) -> None:
    rid = (await start_case())["referral_id"]
    path, key, at = f"/cases/{rid}/events/{EVENT}", f"k-{uuid.uuid4().hex}", just_now()
    # The same instant written another way is the same body: bodies compare as validated.
    same_instant = datetime.fromisoformat(at).astimezone(UTC).isoformat().replace("+00:00", "Z")
    assert same_instant != at

    first = await api.post(path, json=concern("low", at), headers=keyed(users, key))
    again = await api.post(path, json=concern("low", same_instant), headers=keyed(users, key))

    assert (first.status_code, again.status_code) == (200, 200), again.text
    assert again.json() == first.json()
    assert again.headers["Idempotency-Key"] == key
    assert await concerns_recorded(api, users, rid) == ["low"]


async def test_the_same_key_with_another_body_is_refused_and_only_the_first_is_kept(
    api: httpx.AsyncClient, users: Users, start_case: StartCase
) -> None:
    rid = (await start_case())["referral_id"]
    path, key, at = f"/cases/{rid}/events/{EVENT}", f"k-{uuid.uuid4().hex}", just_now()

    first = await api.post(path, json=concern("low", at), headers=keyed(users, key))
    second = await api.post(path, json=concern("high", at), headers=keyed(users, key))

    assert first.status_code == 200, first.text
    assert second.status_code == 422, second.text
    refusal = second.json()
    assert refusal["rule"] == "idempotency_key_reused"
    assert refusal["errors"] == [
        {
            "field": "header.Idempotency-Key",
            "message": "the same key was used with a different request body",
        }
    ]
    assert "not recorded" in refusal["detail"]
    assert refusal["idempotency_key"] == key
    assert second.headers["Idempotency-Key"] == key
    assert await concerns_recorded(api, users, rid) == ["low"]
    retried = await api.post(path, json=concern("low", at), headers=keyed(users, key))
    assert retried.status_code == 200  # the first body's retry is still answered as recorded


async def test_two_bodies_racing_with_one_key_record_one_and_refuse_the_other(
    api: httpx.AsyncClient, users: Users, start_case: StartCase
) -> None:
    rid = (await start_case())["referral_id"]
    path, key, at = f"/cases/{rid}/events/{EVENT}", f"k-{uuid.uuid4().hex}", just_now()

    answers = await asyncio.gather(
        *(
            api.post(path, json=concern(level, at), headers=keyed(users, key))
            for level in ("low", "high")
        )
    )

    assert sorted(a.status_code for a in answers) == [200, 422], [a.text for a in answers]
    [kept] = [a.json()["history"] for a in answers if a.status_code == 200]
    recorded = await concerns_recorded(api, users, rid)
    assert len(recorded) == 1
    assert kept[-1]["details"]["level"] == recorded[0]


async def test_a_key_is_the_callers_own_another_user_with_it_records_their_event(
    api: httpx.AsyncClient, users: Users, start_case: StartCase
) -> None:
    rid = (await start_case())["referral_id"]
    path, key, at = f"/cases/{rid}/events/{EVENT}", f"k-{uuid.uuid4().hex}", just_now()
    manager = {"Idempotency-Key": key, **users.manager_a.headers}

    first = await api.post(path, json=concern("low", at), headers=keyed(users, key))
    theirs = await api.post(path, json=concern("high", at), headers=manager)

    assert (first.status_code, theirs.status_code) == (200, 200), theirs.text
    assert sorted(await concerns_recorded(api, users, rid)) == ["high", "low"]
