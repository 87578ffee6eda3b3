"""`strings` on the store (issue 19, "Done when"): an indexed case, started through worker.py
with sealed payloads on a dev server persisted to its SQLite file, leaves in the database's
bytes neither its child_ref (as given or normalised) nor an unkeyed SHA-256 of it, while its
keyed index, `<key id>:<HMAC hex>`, is there: what visibility searches on."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from contract import search_attributes as sa
from domain.child_index import IndexKey, child_index, normalised
from edge.client import connect
from edge.codec import new_key_item
from edge.settings import Settings
from tests.e2e.conftest import REPO, clean_env, iso, seconds
from tests.e2e.conftest import worker_process as service_worker_process
from tests.e2e.test_sealed_store import open_store, start_once, store_bytes

pytestmark = pytest.mark.e2e

CODEC_KEYS = new_key_item("sealed-index")
INDEX_KEY_ITEM = new_key_item("index-sealed")
KEY_ID, SECRET = INDEX_KEY_ITEM.split(":", 1)
INDEX_KEY = IndexKey(KEY_ID, base64.b64decode(SECRET))
CHILD = f"Person-Strings-{uuid.uuid4().hex[:8].upper()}"


@pytest.fixture
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    with open_store(tmp_path_factory) as running:
        yield running


async def start_an_indexed_case(address: str, folder: Path) -> bytes:
    """One case through worker.py (sealed, with an index key) and the project's client; the
    store's bytes once visibility lists the case under its child's index."""
    task_queue = f"strings-{uuid.uuid4().hex[:8]}"
    env = clean_env(
        TEMPORAL_ADDRESS=address,
        CSE_TASK_QUEUE=task_queue,
        CSE_OUTBOX_FILE=str(folder / "outbox.jsonl"),
        CSE_POLICY_DIR=str(REPO / "policies"),
        CSE_PANEL_SCHEDULE_ID=f"panel-{task_queue}",
        CSE_CODEC_KEYS=CODEC_KEYS,
        CSE_INDEX_KEYS=INDEX_KEY_ITEM,
    )
    with service_worker_process(env, folder / "worker.log"):
        settings = Settings(temporal_address=address, task_queue=task_queue, codec_keys=CODEC_KEYS)
        client = await connect(settings)
        rid = f"STRINGS-{uuid.uuid4().hex[:8]}"
        referral = {
            "referral_id": rid,
            "received_at": iso(seconds(datetime.now(UTC) - timedelta(hours=1))),
            "child_ref": f" {CHILD} ",
            "team": "RAI-2",
            "referrer_agency": "school",
            "concerns": ["running_away"],
            "significant_harm_suspected": False,
            "summary": "summary of the strings test",
        }
        handle = await start_once(client, referral, task_queue)

        async def indexed() -> bool:
            attributes = (await handle.describe()).typed_search_attributes
            return attributes.get(sa.CSE_CHILD_INDEX) is not None

        for _ in range(150):
            if await indexed():
                break
            await asyncio.sleep(0.1)
        assert await indexed(), "the case was never indexed"
        query = f"{sa.CSE_CHILD_INDEX.name} = '{child_index(CHILD, INDEX_KEY)}'"
        for _ in range(150):  # listed: the visibility row is written
            if [run async for run in client.list_workflows(query)]:
                break
            await asyncio.sleep(0.1)
    return store_bytes(folder)


def forms_of_the_child() -> list[str]:
    return sorted({CHILD, CHILD.lower(), CHILD.upper(), normalised(CHILD), f" {CHILD} "})


async def test_the_store_holds_the_keyed_index_and_neither_the_child_nor_its_plain_hash(
    store: tuple[str, Path],
) -> None:
    address, folder = store
    stored = await start_an_indexed_case(address, folder)

    assert b"binary/encrypted" in stored, "no sealed payloads in the store: wrong file?"
    assert child_index(CHILD, INDEX_KEY).encode() in stored
    for form in forms_of_the_child():
        assert form.encode() not in stored
        digest = hashlib.sha256(form.encode()).hexdigest()
        assert digest.encode() not in stored
        assert digest.upper().encode() not in stored
        assert hashlib.sha256(form.encode()).digest() not in stored
    assert CHILD.lower().encode() not in (folder / "worker.log").read_bytes().lower()
