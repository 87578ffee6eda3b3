"""One showing of an event form sent twice with different values (issue 17, item 3): back in the
browser after the first was recorded, a field changed, sent again. The form's key already
recorded the first values, so the second are not recorded, and the practitioner is told so,
and why, on the form; sending it again from the new showing records it. httpx over ASGI
against the real dev server and worker, as tests/browser/test_dashboard_http.py does."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI

from tests.api.conftest import StartCase, User, Users, just_now
from tests.browser.test_dashboard_replicas import csrf_of

pytestmark = pytest.mark.e2e

EVENT = "raise_professional_concern"


@pytest.fixture
async def practitioner(app: FastAPI, users: Users) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app),
        base_url="http://dash",
        headers={"Origin": "http://dash"},
        timeout=60,
    ) as client:
        await sign_in(client, users.social_worker_a)
        yield client


async def sign_in(client: httpx.AsyncClient, user: User) -> None:
    login = await client.get("/dashboard/login")
    form = {"token": user.token, "csrf_token": csrf_of(login.text)}
    assert (await client.post("/dashboard/login", data=form)).status_code == 303


async def levels_recorded(api: httpx.AsyncClient, users: Users, rid: str) -> list[str]:
    answer = await api.get(f"/cases/{rid}/history", headers=users.head_of_service.headers)
    return [h["details"]["level"] for h in answer.json()["history"] if h["event"] == EVENT]


async def test_a_form_sent_again_with_other_values_is_not_recorded_and_says_why(
    practitioner: httpx.AsyncClient, api: httpx.AsyncClient, users: Users, start_case: StartCase
) -> None:
    rid = (await start_case())["referral_id"]
    path = f"/dashboard/cases/{rid}/events/{EVENT}"
    form = await practitioner.get(path)
    [submission] = re.findall(r'name="submission" value="([^"]+)"', form.text)
    shown = {"csrf_token": csrf_of(form.text), "submission": submission}
    fields = {"note": "seen with older men", "raised_at": just_now()[:16]}

    first = await practitioner.post(path, data={**shown, **fields, "level": "low"})
    changed = await practitioner.post(path, data={**shown, **fields, "level": "high"})
    page = await practitioner.get(changed.headers["location"])

    assert first.headers["location"] == f"/dashboard/cases/{rid}"
    assert changed.headers["location"] == path  # back to the form, not on to the case
    assert page.status_code == 422
    assert "Not recorded." in page.text
    assert "had already been sent from this page with other values" in page.text
    assert "what you sent this time was not recorded" in page.text
    assert await levels_recorded(api, users, rid) == ["low"]

    csrf, [anew] = csrf_of(page.text), re.findall(r'name="submission" value="([^"]+)"', page.text)
    assert anew != submission
    sent = await practitioner.post(
        path, data={"csrf_token": csrf, "submission": anew, **fields, "level": "high"}
    )
    assert sent.headers["location"] == f"/dashboard/cases/{rid}"
    assert await levels_recorded(api, users, rid) == ["low", "high"]
