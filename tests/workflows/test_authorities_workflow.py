"""The workflow's own start check of the authorities a referral names, and the notices to
another authority (docs/rules.md, Who is told), on the time-skipping server: the opening answer,
kept in the history, says which codes are refused and which authorities are told."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from domain.events import Close
from domain.notifications import NotificationKind
from domain.policy import Policy, PolicyBook
from tests.conftest import Outbox, StandInRegistry, case_worker, earlier_cases
from tests.workflows.helpers import eventually, invalid_input, now, start

OURS, ONE = "E99000099", "E99000001"  # invented codes


@asynccontextmanager
async def worker_knowing(client: Client, queue: str, outbox: Outbox) -> AsyncIterator[None]:
    """A worker whose directory lists one other authority and names our own."""
    book = PolicyBook(versions=[Policy()])
    registry = StandInRegistry(book)
    registry.authorities, registry.own_authority = (ONE, OURS), OURS
    async with case_worker(client, queue, book, [outbox.notify, earlier_cases, registry.open_case]):
        yield


async def test_an_unknown_authority_fails_the_run_naming_the_field_and_the_list(
    env: WorkflowEnvironment, task_queue: str
) -> None:
    async with worker_knowing(env.client, task_queue, Outbox()):
        handle = await start(env, task_queue, looked_after=True, host_authority="E99000777")
        cause = await invalid_input(handle)

    assert cause.message.startswith("invalid input: host_authority: 'E99000777' is not a")
    assert f"give one of {ONE}, {OURS}" in cause.message


async def test_a_case_placed_here_tells_the_placing_authority_when_it_closes(
    env: WorkflowEnvironment, task_queue: str
) -> None:
    outbox = Outbox()
    async with worker_knowing(env.client, task_queue, outbox):
        handle = await start(
            env, task_queue, looked_after=True, placing_authority=ONE, host_authority=OURS
        )
        closed_at = await now(env)
        close = Close(reason="moved on", closed_at=closed_at, actor="tm-1")
        await handle.execute_update("close", close)
        await eventually(handle, lambda s: s.stage == "closed")
        await handle.result()

    told = [n for n in outbox.sent if n.kind == NotificationKind.authority_informed]
    assert [(n.authorities, n.roles) for n in told] == [([ONE], [])]
    assert "moved on" not in told[0].model_dump_json()
    assert "PERSON-TEST-0001" not in told[0].model_dump_json()
    assert told[0].subject.endswith("case closed")
