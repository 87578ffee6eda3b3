"""What a raw Temporal client can no longer do to a case, seen through the API (issue 7's
breakages 1 and 5), on the real dev server with the sealed worker. The raw client is the
SDK with its defaults (no reuse policy), holding the service's key, as an outside client
would."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
import pytest
from pydantic import SecretStr
from temporalio.client import Client, WorkflowFailureError
from temporalio.exceptions import ApplicationError

from edge.client import connect
from edge.codec import new_key_item
from edge.settings import Settings
from tests.api.conftest import StartCase, Users, eventually, just_now, referral, start_raw


@pytest.fixture
async def raw_client(api_settings: Settings) -> Client:
    return await connect(api_settings)


async def failure_of(client: Client, workflow_id: str, run_id: str) -> ApplicationError:
    handle = client.get_workflow_handle(workflow_id, run_id=run_id)
    with pytest.raises(WorkflowFailureError) as failure:
        await handle.result(rpc_timeout=timedelta(seconds=20))
    cause = failure.value.cause
    assert isinstance(cause, ApplicationError)
    return cause


async def test_a_second_start_after_the_case_closed_is_refused_and_the_record_still_shown(
    api: httpx.AsyncClient,
    users: Users,
    start_case: StartCase,
    raw_client: Client,
    api_settings: Settings,
) -> None:
    case = await start_case()
    rid = case["referral_id"]
    closed = await api.post(
        f"/cases/{rid}/events/close",
        json={"reason": "moved out of the area", "closed_at": just_now()},
        headers=users.manager_a.headers,
    )
    assert closed.status_code == 200, closed.text

    # The SDK's defaults allow a new run once the case has closed.
    stray = await raw_client.start_workflow(
        "ReferralWorkflow", case, id=f"referral-{rid}", task_queue=api_settings.task_queue
    )
    refusal = await failure_of(raw_client, stray.id, stray.result_run_id or "")
    assert refusal.type == "DuplicateReferral"

    shown = await api.get(f"/cases/{rid}", headers=users.social_worker_a.headers)
    assert shown.status_code == 200, shown.text
    assert shown.json()["stage"] == "closed"
    assert shown.json()["closed_reason"] == "moved out of the area"
    again = await api.post(
        f"/cases/{rid}/events/decide",
        json={"decision": "assess", "decided_at": just_now()},
        headers=users.social_worker_a.headers,
    )
    assert again.status_code == 409
    assert again.json()["rule"] == "case_closed"


@pytest.mark.parametrize(
    "args",
    [[None], [], [{"referral_id": "x"}, {}]],
    ids=["null", "no argument", "two arguments"],
)
async def test_a_refused_start_is_a_clear_410_on_every_route_never_a_500(
    api: httpx.AsyncClient,
    users: Users,
    raw_client: Client,
    api_settings: Settings,
    args: list[Any],
) -> None:
    rid = referral()["referral_id"]
    handle = await raw_client.start_workflow(
        "ReferralWorkflow", args=args, id=f"referral-{rid}", task_queue=api_settings.task_queue
    )
    refusal = await failure_of(raw_client, handle.id, handle.result_run_id or "")
    assert refusal.type == "InvalidInput"

    reader = users.head_of_service.headers
    for route in (f"/cases/{rid}", f"/cases/{rid}/history", f"/cases/{rid}/diagram"):
        answer = await api.get(route, headers=reader)
        assert answer.status_code == 410, (route, answer.text)
        assert "no case was ever opened" in answer.json()["detail"]
    event = await api.post(
        f"/cases/{rid}/events/decide",
        json={"decision": "assess", "decided_at": just_now()},
        headers=reader,
    )
    assert event.status_code == 410, event.text


@pytest.mark.slow  # waits out the API's query deadline
async def test_a_stuck_case_is_a_clear_503_never_a_500(
    api: httpx.AsyncClient, users: Users, api_settings: Settings
) -> None:
    """A case its worker cannot run (sealed with a key the service does not hold) answers
    nothing; the API says so, and that an operator must act."""
    stranger = await connect(api_settings.model_copy(update={"codec_keys": foreign_key()}))
    case = await start_raw(stranger, api_settings.task_queue)
    path = f"/cases/{case['referral_id']}"

    async def refused_as_stuck() -> httpx.Response | None:
        answer = await api.get(path, headers=users.head_of_service.headers)
        return answer if "cannot answer" in answer.text else None

    answer = await eventually("the case to be seen stuck", refused_as_stuck)
    assert answer.status_code == 503, answer.text
    assert "the operator must act" in answer.json()["detail"]


def foreign_key() -> SecretStr:
    return SecretStr(new_key_item("not-the-service-key"))
