"""A case that cannot answer is explained truly (issue 15, item 2): the API and the dashboard
say what the worker meets (nondeterminism, a payload key missing, no worker) and what the
operator should do, as a 503 naming `reason` and `operator_action`, at once when describe()
already shows it. The cases are made on the real dev server (tests/e2e/stuck_cases.py)."""

from __future__ import annotations

import time

import httpx
import pytest
from fastapi import FastAPI

from edge.codec import new_key_item
from edge.diagnosis import NON_DETERMINISTIC, Reason, of_failure
from edge.settings import Settings
from tests.api.conftest import TEAM_A, StartCase, Users, eventually, just_now, start_raw
from tests.e2e.conftest import E2E_CODEC_KEYS
from tests.e2e.stuck_cases import (
    case_nobody_serves,
    case_under_changed_code,
    closed_case_whose_key_was_dropped,
    sealed_client,
)

pytestmark = pytest.mark.slow  # waits out the API's query deadline on stuck cases

FAST = 5.0  # seconds: well under the 10 s a query waits before Temporal gives up
DROPPED_KEY = "dropped-1"
LOST_KEY = "not-the-service-key"


# ---- what a failure says, classified --------------------------------------------------------


def test_a_nondeterminism_failure_is_told_as_changed_code_or_policy() -> None:
    by_cause = of_failure("", "Timer machine does not handle this event", NON_DETERMINISTIC)
    by_words = of_failure("", "[TMPRL1100] Nondeterminism error: Timer machine does not ...")

    for found in (by_cause, by_words):
        assert found.reason == Reason.nondeterminism
        assert "the workflow code or a policy file changed" in found.operator_action
        assert "restore them" in found.operator_action
        assert "reset the case" in found.operator_action


def test_a_payload_sealed_with_a_missing_key_names_the_key_and_the_setting() -> None:
    found = of_failure(
        "PayloadSealError",
        "a payload is sealed with key 'k-2024', which CSE_CODEC_KEYS does not hold",
    )

    assert found.reason == Reason.payload_key_missing
    assert "give key 'k-2024' back to CSE_CODEC_KEYS" in found.operator_action


def test_any_other_failure_points_at_the_worker_log_and_keeps_one_line() -> None:
    found = of_failure("ZeroDivisionError", "division by zero\n  File ...\n" + "x" * 500)

    assert found.reason == Reason.worker_failing
    assert "division by zero" in found.detail
    assert "File" not in found.detail
    assert "worker's log" in found.operator_action


# ---- the API, on the real dev server ---------------------------------------------------------


async def timed_get(
    api: httpx.AsyncClient, path: str, users: Users
) -> tuple[httpx.Response, float]:
    started = time.monotonic()
    answer = await api.get(path, headers=users.head_of_service.headers)
    return answer, time.monotonic() - started


def missing_episode() -> dict[str, str]:
    return {"went_missing_at": just_now(), "returned_at": just_now()}


async def test_a_case_whose_code_changed_is_a_fast_503_naming_nondeterminism(
    api: httpx.AsyncClient, users: Users, api_settings: Settings
) -> None:
    async with case_under_changed_code(
        api_settings.temporal_address, E2E_CODEC_KEYS, TEAM_A
    ) as case:
        answer, took = await timed_get(api, f"/cases/{case.referral_id}", users)
        event = await api.post(
            f"/cases/{case.referral_id}/events/record_missing_episode",
            json=missing_episode(),
            headers=users.social_worker_a.headers,
        )

    assert answer.status_code == 503, answer.text
    assert took < FAST
    body = answer.json()
    assert body["reason"] == "nondeterminism"
    assert "nondeterminism error" in body["detail"]
    assert "CSE_CODEC_KEYS" not in answer.text
    assert (
        "the workflow code or a policy file changed under a running case"
        in (body["operator_action"])
    )
    assert event.status_code == 503, event.text
    assert event.json()["reason"] == "nondeterminism"
    assert event.json()["idempotency_key"] == event.headers["Idempotency-Key"]


async def test_a_case_sealed_with_a_key_the_worker_lacks_names_the_key(
    api: httpx.AsyncClient, users: Users, api_settings: Settings
) -> None:
    """The service's own worker (worker.py) meets a referral sealed under another key."""
    stranger = await sealed_client(api_settings.temporal_address, new_key_item(LOST_KEY))
    case = await start_raw(stranger, api_settings.task_queue)

    async def explained() -> httpx.Response | None:
        answer = await api.get(
            f"/cases/{case['referral_id']}", headers=users.head_of_service.headers
        )
        return answer if answer.json().get("reason") == "payload_key_missing" else None

    answer = await eventually("the case to be explained", explained)
    assert answer.status_code == 503
    assert f"'{LOST_KEY}'" in answer.json()["detail"]
    assert f"give key '{LOST_KEY}' back to CSE_CODEC_KEYS" in answer.json()["operator_action"]


async def test_a_closed_case_whose_key_was_dropped_is_503_naming_the_key_not_410(
    api: httpx.AsyncClient, users: Users, api_settings: Settings
) -> None:
    dropped = new_key_item(DROPPED_KEY)
    async with closed_case_whose_key_was_dropped(
        api_settings.temporal_address, E2E_CODEC_KEYS, dropped, TEAM_A
    ) as case:
        answers = [
            await api.get(route, headers=users.head_of_service.headers)
            for route in (
                f"/cases/{case.referral_id}",
                f"/cases/{case.referral_id}/history",
                f"/cases/{case.referral_id}/diagram",
            )
        ]

    for answer in answers:
        assert answer.status_code == 503, answer.text
        assert answer.json()["reason"] == "payload_key_missing"
        assert (
            f"give key '{DROPPED_KEY}' back to CSE_CODEC_KEYS" in (answer.json()["operator_action"])
        )


async def test_a_case_no_worker_serves_says_start_a_worker_on_its_queue(
    api: httpx.AsyncClient, users: Users, api_settings: Settings
) -> None:
    case = await case_nobody_serves(api_settings.temporal_address, E2E_CODEC_KEYS, TEAM_A)

    answer, took = await timed_get(api, f"/cases/{case.referral_id}", users)

    assert answer.status_code == 503, answer.text
    assert took < FAST
    assert answer.json()["reason"] == "no_worker"
    assert case.task_queue in answer.json()["detail"]
    assert (
        f"start a worker (worker.py) with CSE_TASK_QUEUE={case.task_queue}"
        in (answer.json()["operator_action"])
    )


# ---- the dashboard ---------------------------------------------------------------------------

CSRF_FIELD = 'name="csrf_token" value="'


async def sign_in(browser: httpx.AsyncClient, token: str) -> None:
    login = await browser.get("/dashboard/login")
    csrf = login.text.split(CSRF_FIELD, 1)[1].split('"', 1)[0]
    answer = await browser.post(
        "/dashboard/login",
        data={"token": token, "csrf_token": csrf},
        headers={"Origin": "http://api"},
    )
    assert answer.status_code == 303, answer.text


async def test_the_case_page_and_its_forms_say_why_the_case_is_stuck_and_what_to_do(
    app: FastAPI, users: Users, api_settings: Settings
) -> None:
    transport = httpx.ASGITransport(app=app)
    async with (
        httpx.AsyncClient(transport=transport, base_url="http://api") as browser,
        case_under_changed_code(api_settings.temporal_address, E2E_CODEC_KEYS, TEAM_A) as case,
    ):
        await sign_in(browser, users.manager_a.token)
        page = await browser.get(f"/dashboard/cases/{case.referral_id}")
        form = await browser.get(f"/dashboard/cases/{case.referral_id}/events/close")

    for shown in (page, form):
        assert shown.status_code == 503, shown.text
        assert "This case is stuck" in shown.text
        assert "nondeterminism error" in shown.text
        assert "What to do:" in shown.text
        assert "restore them" in shown.text
        assert "Temporal is not answering" not in shown.text


@pytest.mark.parametrize("route", ["", "/history"])
async def test_a_readable_case_still_answers_200(
    api: httpx.AsyncClient, users: Users, route: str, start_case: StartCase
) -> None:
    """The checks a read now makes (describe's pending task) leave a healthy case alone."""
    case = await start_case()
    answer = await api.get(f"/cases/{case['referral_id']}{route}", headers=users.manager_a.headers)
    assert answer.status_code == 200, answer.text
