"""Children's data never reaches the engine's store in plaintext: a whole case, run with the
embedded default (a dev server on its SQLite file, worker.py with CSE_CODEC_KEYS), leaves
none of its child_ref, summary, concerns, rationale or notes in any file of the store, not in
inputs, updates, results, queries' answers, activities nor failures."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from temporalio.client import Client, WorkflowHandle, WorkflowUpdateFailedError
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy

from edge.client import connect
from edge.codec import new_key_item
from edge.settings import Settings
from tests.e2e.conftest import (
    REPO,
    clean_env,
    dev_server,
    iso,
    seconds,
    worker_process,
)

MARKERS = {
    "child_ref": "PERSON-SEALTEST-7731",
    "summary": "summary-sealtest-disclosed-at-school",
    "concern": "unexplained_gifts_or_money",
    "rationale": "rationale-sealtest-threshold-met",
    "note": "note-sealtest-older-boyfriend",
    "reason": "reason-sealtest-moved-away",
}


@pytest.fixture
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    with open_store(tmp_path_factory) as running:
        yield running


@contextlib.contextmanager
def open_store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """A dev server persisted to a SQLite file of its own, as scripts/run.sh runs it."""
    folder = tmp_path_factory.mktemp("store")
    with dev_server(folder, db_file=folder / "temporal.db") as address:
        yield address, folder


async def start_once(
    client: Client, referral: dict[str, Any], task_queue: str
) -> WorkflowHandle[Any, Any]:
    """Start the case under its referral's workflow id, never reused, as intake does."""
    return await client.start_workflow(
        "ReferralWorkflow",
        referral,
        id=f"referral-{referral['referral_id']}",
        task_queue=task_queue,
        id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
        id_conflict_policy=WorkflowIDConflictPolicy.FAIL,
    )


async def drive_a_whole_case(client: Client, task_queue: str) -> str:
    received = seconds(datetime.now(UTC) - timedelta(hours=2))
    rid = f"SEAL-{uuid.uuid4().hex[:8]}"
    referral = {
        "referral_id": rid,
        "received_at": iso(received),
        "child_ref": MARKERS["child_ref"],
        "team": "RAI-2",
        "referrer_agency": "school",
        "concerns": [MARKERS["concern"]],
        "significant_harm_suspected": False,
        "summary": MARKERS["summary"],
    }
    handle = await start_once(client, referral, task_queue)

    def at(minutes: int) -> str:
        return iso(received + timedelta(minutes=minutes))

    sw = {"actor": "sw-seal"}
    steps: list[tuple[str, dict[str, Any]]] = [
        ("decide", {"decision": "assess", "decided_at": at(5), "reason": "harm", **sw}),
        ("record_screening", {"score": 1, "professional_concern": "low", "screened_at": at(6)}),
        ("raise_professional_concern", {"level": "medium", "note": MARKERS["note"]}),
        ("complete_assessment", {"outcome": "cin", "rationale": MARKERS["rationale"]}),
        ("close", {"reason": MARKERS["reason"], "closed_at": at(9), "actor": "tm-seal"}),
    ]
    times = {"raise_professional_concern": "raised_at", "complete_assessment": "completed_at"}
    for minute, (name, payload) in enumerate(steps, start=6):
        if name == "close":  # first a refusal: its failure is sealed as well
            with pytest.raises(WorkflowUpdateFailedError):
                await handle.execute_update(
                    "decide", {"decision": "nfa", "decided_at": at(8), **sw}
                )
        body = {**sw, **payload}
        if name in times:
            body[times[name]] = at(minute)
        await handle.execute_update(name, body)
        await handle.query("status")  # a query's answer is sealed too
    await handle.result()
    return handle.id


async def run_a_case(address: str, folder: Path, payloads: dict[str, str]) -> bytes:
    """A whole case through worker.py and the project's client; the store's bytes after."""
    task_queue = f"store-{uuid.uuid4().hex[:8]}"
    env = clean_env(
        TEMPORAL_ADDRESS=address,
        CSE_TASK_QUEUE=task_queue,
        CSE_OUTBOX_FILE=str(folder / f"{task_queue}.jsonl"),
        CSE_POLICY_DIR=str(REPO / "policies"),
        CSE_PANEL_SCHEDULE_ID=f"panel-{task_queue}",
        **payloads,
    )
    with worker_process(env, folder / f"{task_queue}.log"):
        keys = payloads.get("CSE_CODEC_KEYS")
        settings = Settings(
            temporal_address=address,
            task_queue=task_queue,
            codec_keys=keys,
            plaintext_payloads=keys is None,
        )
        await drive_a_whole_case(await connect(settings), task_queue)
    return store_bytes(folder)


def store_bytes(folder: Path) -> bytes:
    """Every file of the SQLite store (the database, its WAL and shared memory)."""
    return b"".join(p.read_bytes() for p in sorted(folder.glob("temporal.db*")))


def plaintext_in(stored: bytes) -> list[str]:
    return sorted(name for name, value in MARKERS.items() if value.encode() in stored)


async def test_a_whole_case_leaves_no_child_data_in_the_engines_store(
    store: tuple[str, Path],
) -> None:
    address, folder = store
    stored = await run_a_case(address, folder, {"CSE_CODEC_KEYS": new_key_item("store-test")})
    assert b"binary/encrypted" in stored, "the store holds no sealed payloads: wrong file?"
    assert plaintext_in(stored) == []
    for log in folder.glob("store-*.log"):
        assert MARKERS["summary"].encode() not in log.read_bytes()


async def test_the_same_case_in_plaintext_mode_is_readable_in_the_store(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    """The control: what CSE_PLAINTEXT_PAYLOADS=true stores is exactly what sealing hides,
    so the check above would see plaintext if any were there."""
    with open_store(tmp_path_factory) as (address, folder):
        stored = await run_a_case(address, folder, {"CSE_PLAINTEXT_PAYLOADS": "true"})
    assert plaintext_in(stored) == sorted(MARKERS)
