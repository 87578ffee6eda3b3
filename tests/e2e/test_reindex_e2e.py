"""`cse reindex` on the real dev server (issue 19, item 2): a case started by a worker that
had no child index keys is listed as unindexed; while its worker still has none, the case
refuses and nothing changes; once worker.py runs with CSE_INDEX_KEYS, the command indexes it,
and a later referral of the same child finds it. The command prints counts, never a
referral id or the child."""

from __future__ import annotations

import base64
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from domain.child_index import IndexKey, child_index
from edge.codec import new_key_item
from tests.e2e.conftest import (
    REPO,
    TemporalCli,
    clean_env,
    iso,
    run_python,
    seconds,
    wait_until,
    worker_process,
)

pytestmark = pytest.mark.e2e

INDEX_KEY_ITEM = new_key_item("index-reindex")
KEY_ID, SECRET = INDEX_KEY_ITEM.split(":", 1)
INDEX_KEY = IndexKey(KEY_ID, base64.b64decode(SECRET))


@pytest.fixture
def queue_env(temporal_server: str, tmp_path: Path) -> dict[str, str]:
    """One task queue's settings, for its workers (one after another) and the command."""
    task_queue = f"e2e-reindex-{uuid.uuid4().hex[:8]}"
    return clean_env(
        TEMPORAL_ADDRESS=temporal_server,
        CSE_TASK_QUEUE=task_queue,
        CSE_OUTBOX_FILE=str(tmp_path / "outbox.jsonl"),
        CSE_POLICY_DIR=str(REPO / "policies"),
        CSE_POLICY_LEDGER=str(tmp_path / "policy-ledger.json"),
        CSE_PANEL_SCHEDULE_ID=f"panel-{task_queue}",
    )


def worker(env: dict[str, str], log: Path, **more: str) -> Any:
    return worker_process({**env, **more}, log)


def reindex(env: dict[str, str], *flags: str) -> str:
    proc = run_python("-m", "cli", "reindex", *flags, env=env, timeout=120)
    assert proc.returncode == 0, proc.stderr + proc.stdout
    return proc.stdout + proc.stderr


def listed_unindexed(env: dict[str, str]) -> Callable[[], bool]:
    return lambda: "open cases without a child index: 1" in reindex(env, "--dry-run")


def test_a_case_from_a_worker_without_keys_is_indexed_and_then_found(
    temporal: TemporalCli,
    queue_env: dict[str, str],
    tmp_path: Path,
    make_referral: Callable[..., dict[str, Any]],
) -> None:
    child = f"PERSON-REINDEX-{uuid.uuid4().hex[:8].upper()}"
    task_queue = queue_env["CSE_TASK_QUEUE"]
    received = seconds(datetime.now(UTC) - timedelta(days=30))
    first = make_referral(child_ref=child, received_at=iso(received))
    first_wid = f"referral-{first['referral_id']}"
    said: list[str] = []

    with worker(queue_env, tmp_path / "unkeyed.log"):
        temporal.start(task_queue, first)
        temporal.wait_listed(f"CseTeam IS NOT NULL AND WorkflowId = '{first_wid}'", first_wid)
        wait_until("the case to be listed unindexed", listed_unindexed(queue_env), 15)
        said.append(reindex(queue_env))

    assert "refused: 1" in said[-1]
    assert "the worker has no child index keys (CSE_INDEX_KEYS)" in said[-1]

    with worker(queue_env, tmp_path / "keyed.log", CSE_INDEX_KEYS=INDEX_KEY_ITEM):
        said.append(reindex(queue_env))
        index = child_index(child, INDEX_KEY)
        temporal.wait_listed(f"CseChildIndex = '{index}'", first_wid)
        wait_until("no case to be left unindexed", lambda: "index: 0" in reindex(queue_env), 15)
        again = make_referral(child_ref=f"{child.lower()} ")
        again_wid = f"referral-{again['referral_id']}"
        temporal.start(task_queue, again)
        temporal.wait_listed(f"CseChildIndex = '{index}' AND WorkflowId = '{again_wid}'", again_wid)
        status = temporal.status(again_wid)

    assert "indexed: 1 (re-referrals among them: 0)" in said[-1]
    assert [e["referral_id"] for e in status["earlier_referrals"]] == [first["referral_id"]]
    assert status["re_referral"] is True
    for output in said:
        assert child.lower() not in output.lower()
        assert first["referral_id"] not in output
