"""Scale-out, as docker-compose.yml runs it, on one dev server: two worker.py processes on one
task queue writing one outbox file, and two `python -m api` processes, every payload sealed.

Eight late referrals (their opening clocks already overdue, so each sends escalations as it
opens) are taken in and driven from referral to review through the HTTP API with bearer
tokens, each request going to the other API replica than the last. Once half the updates have
been answered, one worker is SIGKILLed while the others are in flight; the other worker carries
on alone. A request to a case whose worker has just died can answer 503 (the API's 10 s query
deadline meets the dead worker's 10 s sticky queue timeout): it is sent again, as a careful
practitioner would, only once the case shows it was not recorded.

Then, through the API: every case is at review with each of its eight events in its history
once, in order; every notification the cases say they sent is in the shared outbox file under one
id (a repeat of an id, the killed worker's delivery sent again, is counted, not refused);
no workflow task failed; and both workers and both API replicas did part of the work.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from domain.events import Event
from domain.vocabulary import Stage
from edge.client import connect
from edge.codec import new_key_item
from edge.settings import Settings
from tests.api.conftest import User, users_toml
from tests.browser.conftest import api_process
from tests.e2e.conftest import REPO, clean_env
from tests.faults.ledger import (
    PATHWAY,
    TEAM,
    due_notifications,
    eventually,
    late_referral,
    line_key,
    now,
    outbox_lines,
    workflow_task_failures,
)
from tests.faults.rig import Workers

pytestmark = pytest.mark.e2e

CASES = 8
UPDATES = CASES * len(PATHWAY)
RETRIES = 5
SETTLE_TIMEOUT = 30.0  # a notification cut off by the kill is retried after its activity timeout
EVENTS = [make("x", now()).name for make in PATHWAY]
INTAKE = User("intake@example.org", "intake", None, secrets.token_urlsafe(24))
HEAD_OF_SERVICE = User("hos@example.org", "head_of_service", None, secrets.token_urlsafe(24))
METRICS_TOKEN = secrets.token_urlsafe(24)


@dataclass
class Cluster:
    workers: list[Workers]
    apis: list[httpx.AsyncClient]
    outbox: Path
    settings: Settings
    answered: int = 0  # updates answered 200 so far
    unanswered: int = 0  # 503s met on the way (a case's worker had just died)

    def api(self, turn: int) -> httpx.AsyncClient:
        return self.apis[turn % len(self.apis)]


@pytest.fixture
async def cluster(temporal_server: str, tmp_path: Path) -> AsyncIterator[Cluster]:
    """Two worker.py and two `python -m api` on one task queue, started side by side; all
    stopped at the end, whatever the test did to them."""
    key = new_key_item("scale-out")
    task_queue = f"scale-{uuid.uuid4().hex[:10]}"
    users_file = tmp_path / "users.toml"
    users_file.write_text(users_toml([INTAKE, HEAD_OF_SERVICE]), encoding="utf-8")
    shared = clean_env(
        TEMPORAL_ADDRESS=temporal_server,
        CSE_TASK_QUEUE=task_queue,
        CSE_CODEC_KEYS=key,
        CSE_POLICY_DIR=str(REPO / "policies"),
        CSE_PANEL_SCHEDULE_ID=f"panel-{task_queue}",
    )
    outbox = tmp_path / "outbox.jsonl"  # one file for both, as compose's shared volume is
    workers = []
    for name in ("worker-a", "worker-b"):
        (tmp_path / name).mkdir()
        workers.append(Workers(shared | {"CSE_OUTBOX_FILE": str(outbox)}, tmp_path / name))
    # As compose gives them: sessions any replica reads, and each replica's own /metrics.
    api_env = shared | {
        "CSE_USERS_FILE": str(users_file),
        "CSE_SESSION_KEYS": new_key_item("sessions"),
        "CSE_METRICS_TOKEN": METRICS_TOKEN,
    }
    with contextlib.ExitStack() as stack:
        for worker in workers:
            stack.callback(worker.stop)
        urls, _ = await asyncio.gather(
            asyncio.gather(
                *(
                    asyncio.to_thread(stack.enter_context, api_process(api_env, tmp_path / log))
                    for log in ("api-1.log", "api-2.log")
                )
            ),
            asyncio.gather(*(asyncio.to_thread(worker.start) for worker in workers)),
        )
        settings = Settings(temporal_address=temporal_server, codec_keys=key, task_queue=task_queue)
        async with (
            httpx.AsyncClient(base_url=urls[0], timeout=60) as one,
            httpx.AsyncClient(base_url=urls[1], timeout=60) as two,
        ):
            yield Cluster(workers, [one, two], outbox, settings)


async def recorded(cluster: Cluster, turn: int, referral_id: str) -> list[str]:
    """The events in the case's history, as an API replica answers (none while it cannot)."""
    answer = await cluster.api(turn).get(f"/cases/{referral_id}", headers=HEAD_OF_SERVICE.headers)
    return [e["event"] for e in answer.json()["history"]] if answer.status_code == 200 else []


async def record(cluster: Cluster, turn: int, referral_id: str, event: Event) -> None:
    """POST one event as a careful practitioner does: on a 503 (Temporal did not answer in
    time, as while a dead worker's cases move to the other), look at the case and send it
    again only if it is not there (each of a case's eight events is of another kind). Fails
    on any other answer, or if it never gets through."""
    payload = event.model_dump(mode="json", exclude={"actor"})
    path = f"/cases/{referral_id}/events/{event.name}"
    for attempt in range(RETRIES):
        answer = await cluster.api(turn + attempt).post(
            path, json=payload, headers=HEAD_OF_SERVICE.headers
        )
        if answer.status_code == 200:
            return
        assert answer.status_code == 503, f"{referral_id} {event.name}: {answer.text}"
        cluster.unanswered += 1
        await asyncio.sleep(1)
        if event.name in await recorded(cluster, turn + attempt + 1, referral_id):
            return  # recorded, though the answer timed out
    raise AssertionError(f"{referral_id} {event.name}: 503 {RETRIES} times")


async def open_and_drive(cluster: Cluster, index: int, halfway: asyncio.Event) -> str:
    """One late referral through the API, then its eight events, alternating API replicas."""
    referral = late_referral("SCALE", index)
    body = referral.model_dump(mode="json")
    answer = await cluster.api(index).post("/referrals", json=body, headers=INTAKE.headers)
    assert answer.status_code == 201, answer.text
    for step, make in enumerate(PATHWAY):
        event = make("ignored", now())  # the API records the caller as actor
        await record(cluster, index + step + 1, referral.referral_id, event)
        cluster.answered += 1
        if cluster.answered >= UPDATES // 2:
            halfway.set()
        await asyncio.sleep(0.05)
    return referral.referral_id


async def kill_one_worker_at(cluster: Cluster, halfway: asyncio.Event) -> float:
    await halfway.wait()
    await asyncio.to_thread(cluster.workers[0].kill)
    return time.monotonic()


async def statuses(cluster: Cluster, referral_ids: list[str]) -> dict[str, dict[str, Any]]:
    """Each case's status as the API answers it, each from the replica its turn gives."""
    answers = await asyncio.gather(
        *(
            cluster.api(i).get(f"/cases/{rid}", headers=HEAD_OF_SERVICE.headers)
            for i, rid in enumerate(referral_ids)
        )
    )
    for answer in answers:
        assert answer.status_code == 200, answer.text
    return {rid: answer.json() for rid, answer in zip(referral_ids, answers, strict=True)}


def repeats(outbox: Path) -> int:
    ids = Counter(line["notification_id"] for line in outbox_lines(outbox))
    return sum(n - 1 for n in ids.values())


def outbox_problems(cases: dict[str, dict[str, Any]], outbox: Path) -> list[str]:
    """Every notification a case says it sent is in the shared outbox, under one id each;
    nothing else is. Delivery is at least once: a notification the killed worker had written
    but not yet reported done is written again by the other worker with the same id (what
    receivers drop it by: the email's Message-ID, the webhook's Idempotency-Key), so repeats
    of one id are counted apart, never as a second notification."""
    due: Counter[Any] = Counter()
    for status in cases.values():
        due += due_notifications(status)
    lines = outbox_lines(outbox)
    first_of_each = {line["notification_id"]: line for line in lines}.values()
    problems: list[str] = []
    recorded = Counter(line_key(line) for line in first_of_each)
    problems += [
        f"{k}: due {n}x, in the outbox {recorded[k]}x" for k, n in due.items() if recorded[k] != n
    ]
    problems += [f"{k}: in the outbox, never due" for k in recorded if k not in due]
    return problems


async def test_cases_carry_on_across_two_workers_and_two_api_replicas_when_one_worker_dies(
    cluster: Cluster,
) -> None:
    started = time.monotonic()
    halfway = asyncio.Event()
    killer = asyncio.create_task(kill_one_worker_at(cluster, halfway))
    referral_ids = await asyncio.gather(
        *(open_and_drive(cluster, i, halfway) for i in range(CASES))
    )
    killed_at = await killer
    driven = time.monotonic()

    cases = await statuses(cluster, referral_ids)
    for rid, status in cases.items():
        assert status["stage"] == Stage.review.value, rid
        assert [entry["event"] for entry in status["history"]] == EVENTS, rid
        assert status["team"] == TEAM

    async def outbox_settled() -> list[str]:
        return outbox_problems(await statuses(cluster, referral_ids), cluster.outbox)

    await eventually("every notification in the outbox, once each", outbox_settled, SETTLE_TIMEOUT)
    client = await connect(cluster.settings)
    failures = await workflow_task_failures(client, [f"referral-{r}" for r in referral_ids])
    failed = {wid: n["workflow task failed"] for wid, n in failures.items()}
    assert set(failed.values()) == {0}, failed
    # Both workers served cases: the one killed had delivered notifications before it died.
    killed_log = "".join(
        p.read_text(errors="replace") for p in cluster.workers[0].folder.glob("*.log")
    )
    assert '"notification"' in killed_log
    cluster.workers[1].assert_running()
    print(
        f"\n{CASES} cases, {UPDATES} updates through 2 API replicas: driven in "
        f"{driven - started:.1f} s (worker killed {killed_at - started:.1f} s in), "
        f"{cluster.unanswered} requests answered 503 and checked before sending again, "
        f"{len(outbox_lines(cluster.outbox))} outbox lines ({repeats(cluster.outbox)} of them "
        "a notification written again with its id), all settled in "
        f"{time.monotonic() - started:.1f} s"
    )
