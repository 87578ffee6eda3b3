"""Retries that cannot double-record (issue 15, item 3): every update the API sends has an
update id, the caller's Idempotency-Key or one the API makes, and every answer to an event
returns the key (header and body, a 503's too), so the same request sent again is recorded
once. On the real dev server with the project's worker.py."""

from __future__ import annotations

import signal
import subprocess
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractContextManager
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from temporalio.client import Client

from api.app import create_app
from contract import search_attributes as sa
from edge.client import connect
from edge.settings import Settings
from tests.api.conftest import Users, eventually, just_now, referral
from tests.e2e.conftest import REPO, clean_env, worker_process

pytestmark = pytest.mark.e2e

KEY = "Idempotency-Key"
StartWorker = Callable[[], AbstractContextManager[subprocess.Popen[bytes]]]


@pytest.fixture
def task_queue() -> str:
    return f"update-ids-{uuid.uuid4().hex[:10]}"


@pytest.fixture
def start_worker(api_settings: Settings, task_queue: str, tmp_path: Path) -> StartWorker:
    """`with start_worker() as process:` runs worker.py on this test's own task queue, sealed
    with the API's keys, for the block."""
    assert api_settings.codec_keys is not None
    env = clean_env(
        TEMPORAL_ADDRESS=api_settings.temporal_address,
        CSE_TASK_QUEUE=task_queue,
        CSE_OUTBOX_FILE=str(tmp_path / "outbox.jsonl"),
        CSE_POLICY_DIR=str(REPO / "policies"),
        CSE_PANEL_SCHEDULE_ID=f"panel-{task_queue}",
        CSE_CODEC_KEYS=api_settings.codec_keys.get_secret_value(),
    )
    return lambda: worker_process(env, tmp_path / "worker.log")


@pytest.fixture
async def own_api(api_settings: Settings, task_queue: str) -> AsyncIterator[httpx.AsyncClient]:
    """An API whose cases start on this test's task queue."""
    app: FastAPI = create_app(api_settings.model_copy(update={"task_queue": task_queue}))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://api", timeout=60) as c:
            yield c


def missing_episode() -> dict[str, str]:
    return {"went_missing_at": just_now(), "returned_at": just_now()}


async def settled(client: Client, workflow_id: str) -> bool:
    """The case has opened (its team published) and has nothing in hand."""
    described = await client.get_workflow_handle(workflow_id).describe()
    raw = described.raw_description
    opened = described.typed_search_attributes.get(sa.CSE_TEAM) is not None
    return opened and not raw.pending_activities and not raw.HasField("pending_workflow_task")


async def history_of(api: httpx.AsyncClient, users: Users, referral_id: str) -> list[str]:
    """The events the case has recorded (none while it cannot answer)."""
    answer = await api.get(f"/cases/{referral_id}", headers=users.head_of_service.headers)
    if answer.status_code != 200:
        return []
    return [entry["event"] for entry in answer.json()["history"]]


async def test_an_event_answered_503_and_sent_again_with_the_returned_key_is_recorded_once(
    own_api: httpx.AsyncClient,
    users: Users,
    start_worker: StartWorker,
    monkeypatch: pytest.MonkeyPatch,
    api_settings: Settings,
) -> None:
    """The worker is held still (SIGSTOP) with the update's task in hand, so the API gives up
    (503) and the worker, let go, records the event after all: the caller's retry with the
    key the 503 gave is answered from that, not recorded a second time."""
    client = await connect(api_settings)
    case = referral()
    rid = case["referral_id"]
    path = f"/cases/{rid}/events/record_missing_episode"
    body = missing_episode()
    with start_worker() as worker:
        started = await own_api.post("/referrals", json=case, headers=users.intake.headers)
        assert started.status_code == 201, started.text
        await eventually("the case to settle", lambda: settled(client, f"referral-{rid}"))

        monkeypatch.setattr("api.case_access.UPDATE_TIMEOUT", timedelta(seconds=2))
        worker.send_signal(signal.SIGSTOP)
        try:
            unanswered = await own_api.post(path, json=body, headers=users.social_worker_a.headers)
        finally:
            worker.send_signal(signal.SIGCONT)
        monkeypatch.undo()
        assert unanswered.status_code == 503, unanswered.text
        key = unanswered.headers[KEY]
        assert unanswered.json()["idempotency_key"] == key
        assert "send the same request again with the Idempotency-Key" in unanswered.json()["detail"]

        await eventually(
            "the event to be recorded after all", lambda: history_of(own_api, users, rid)
        )
        retried = await own_api.post(
            path, json=body, headers=users.social_worker_a.headers | {KEY: key}
        )

        assert retried.status_code == 200, retried.text
        assert retried.headers[KEY] == retried.json()["idempotency_key"] == key
        assert await history_of(own_api, users, rid) == ["record_missing_episode"]


async def test_every_answer_to_an_event_carries_its_key_the_callers_or_a_new_one(
    api: httpx.AsyncClient, users: Users
) -> None:
    case = referral()
    started = await api.post("/referrals", json=case, headers=users.intake.headers)
    assert started.status_code == 201, started.text
    path = f"/cases/{case['referral_id']}/events/"
    worker = users.social_worker_a.headers

    made = await api.post(path + "record_missing_episode", json=missing_episode(), headers=worker)
    given = await api.post(
        path + "record_missing_episode",
        json=missing_episode(),
        headers=worker | {KEY: "caller-key-0001"},
    )
    again = await api.post(
        path + "record_missing_episode",
        json=missing_episode(),
        headers=worker | {KEY: "caller-key-0001"},
    )
    refused = await api.post(
        path + "agree_cin_plan", json={"agreed_at": just_now()}, headers=worker
    )
    invalid = await api.post(path + "record_missing_episode", json={}, headers=worker)
    unknown = await api.post(
        "/cases/NO-SUCH-CASE/events/record_missing_episode", json=missing_episode(), headers=worker
    )

    assert made.status_code == 200, made.text
    assert len(made.headers[KEY]) >= 8
    assert made.json()["idempotency_key"] == made.headers[KEY]
    assert given.headers[KEY] == given.json()["idempotency_key"] == "caller-key-0001"
    assert again.status_code == 200
    assert [e["event"] for e in again.json()["history"]].count("record_missing_episode") == 2
    for answer, status in ((refused, 409), (invalid, 422), (unknown, 404)):
        assert answer.status_code == status, answer.text
        assert answer.json()["idempotency_key"] == answer.headers[KEY]
    assert len({made.headers[KEY], refused.headers[KEY], invalid.headers[KEY]}) == 3
