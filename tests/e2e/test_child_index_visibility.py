"""The child index in Temporal's visibility (issue 19, item 1), on the real dev server: the
search attribute `CseChildIndex` is registered with the others, and `cases_of_child` finds a
child's cases under every index key (one written before a rotation too), whatever the spacing
or case of its child_ref, and no other child's. The attribute holds neither the child_ref nor
its unkeyed hash."""

from __future__ import annotations

import asyncio
import hashlib
import os
import uuid

import pytest
from temporalio.client import Client, WorkflowHandle
from temporalio.common import SearchAttributePair, TypedSearchAttributes

from contract.search_attributes import CSE_CHILD_INDEX
from contract.visibility import cases_of_child
from domain.child_index import IndexKey, child_index
from edge.search_attributes import cli_flags

pytestmark = pytest.mark.e2e

OLD_KEY = IndexKey("index-1", os.urandom(32))
NEW_KEY = IndexKey("index-2", os.urandom(32))
KEYS = [NEW_KEY, OLD_KEY]  # after a rotation: the new key writes, both are searched
CHILD = f"PERSON-{uuid.uuid4().hex[:8]}"


@pytest.fixture
async def client(temporal_server: str) -> Client:
    return await Client.connect(temporal_server)


async def indexed_run(client: Client, index: str, queue: str) -> WorkflowHandle[None, None]:
    """A run carrying `index` as its CseChildIndex (on a queue no worker polls: only its
    visibility record matters here)."""
    attributes = TypedSearchAttributes([SearchAttributePair(CSE_CHILD_INDEX, index)])
    return await client.start_workflow(
        "ReferralWorkflow",
        id=f"child-index-{uuid.uuid4().hex[:12]}",
        task_queue=queue,
        search_attributes=attributes,
    )


async def listed(client: Client, query: str, expected: int) -> set[str]:
    for _ in range(100):
        found = {run.id async for run in client.list_workflows(query)}
        if len(found) >= expected:
            return found
        await asyncio.sleep(0.1)
    return found


def test_the_child_index_is_registered_as_a_keyword_with_the_case_attributes() -> None:
    assert "CseChildIndex=Keyword" in cli_flags()


async def test_a_child_s_cases_are_found_under_every_key_and_no_one_else_s(
    client: Client,
) -> None:
    queue = f"nobody-{uuid.uuid4().hex[:8]}"
    before = await indexed_run(client, child_index(CHILD, OLD_KEY), queue)
    after = await indexed_run(client, child_index(f" {CHILD.lower()} ", NEW_KEY), queue)
    other = await indexed_run(client, child_index(f"{CHILD}-2", NEW_KEY), queue)
    try:
        query = f"{cases_of_child(CHILD + ' ', KEYS)} AND TaskQueue = '{queue}'"

        found = await listed(client, query, expected=2)

        assert found == {before.id, after.id}
        assert other.id not in found
    finally:
        for handle in (before, after, other):
            await handle.terminate()


async def test_the_attribute_holds_neither_the_child_ref_nor_its_plain_hash(
    client: Client,
) -> None:
    handle = await indexed_run(client, child_index(CHILD, NEW_KEY), f"nobody-{uuid.uuid4()}")
    try:
        stored = (await handle.describe()).typed_search_attributes.get(CSE_CHILD_INDEX) or ""
    finally:
        await handle.terminate()

    assert stored.startswith("index-2:")
    for plain in (CHILD, CHILD.lower()):
        assert plain.lower() not in stored.lower()
        assert hashlib.sha256(plain.encode()).hexdigest() not in stored


def test_without_index_keys_there_is_nothing_to_ask() -> None:
    with pytest.raises(ValueError, match="cases are not linked"):
        cases_of_child(CHILD, [])
