"""Cases that cannot answer, made on the real dev server as an operator meets them: the
workflow code changed under a running case (nondeterminism), a payload sealed with a key the
worker lacks (open and closed cases), and a task queue no worker polls.

Each case runs a small stand-in registered as "ReferralWorkflow" (it publishes its team as a
case does) on a task queue of its own, with in-process workers and the project's own sealed
data converter, so what breaks is exactly what the test names. Readers (the API, `cse case`)
find a case by its workflow id, whatever its task queue.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta

from temporalio import workflow
from temporalio.client import Client, WorkflowHandle
from temporalio.worker import Worker

from contract import search_attributes as sa
from edge.codec import CodecKeys
from edge.converter import sealed_data_converter
from tests.polling import eventually

WAIT = 20.0


@dataclass(frozen=True)
class StuckCase:
    referral_id: str
    task_queue: str

    @property
    def workflow_id(self) -> str:
        return f"referral-{self.referral_id}"


@workflow.defn(name="ReferralWorkflow", sandboxed=False)
class CaseAsFirstDeployed:
    """Publishes its team, then waits for a nudge (a signal, so the next task comes on cue)."""

    def __init__(self) -> None:
        self.nudged = False

    @workflow.run
    async def run(self, referral: dict[str, str]) -> None:
        workflow.upsert_search_attributes([sa.CSE_TEAM.value_set(referral["team"])])
        await workflow.wait_condition(lambda: self.nudged)

    @workflow.signal
    def nudge(self) -> None:
        self.nudged = True

    @workflow.query
    def status(self) -> dict[str, str]:
        return {"stage": "referral_received"}


@workflow.defn(name="ReferralWorkflow", sandboxed=False)
class CaseAsChangedSince(CaseAsFirstDeployed):
    """The same case after a change of code: it now starts a timer before publishing its
    team, so replaying the first version's history is a nondeterminism error."""

    @workflow.run
    async def run(self, referral: dict[str, str]) -> None:
        await workflow.sleep(timedelta(minutes=1))
        await super().run(referral)


async def sealed_client(address: str, keys: str) -> Client:
    converter = sealed_data_converter(CodecKeys.parse(keys))
    return await Client.connect(address, data_converter=converter)


def new_case(prefix: str) -> StuckCase:
    tag = uuid.uuid4().hex[:10]
    return StuckCase(referral_id=f"{prefix}-{tag}", task_queue=f"stuck-{tag}")


async def started(client: Client, case: StuckCase, team: str) -> WorkflowHandle[None, None]:
    """The case (its referral id and `team`) started on its own task queue."""
    return await client.start_workflow(
        "ReferralWorkflow",
        {"referral_id": case.referral_id, "team": team},
        id=case.workflow_id,
        task_queue=case.task_queue,
        result_type=type(None),
    )


async def until(what: str, probe: Callable[[], Awaitable[bool]]) -> None:
    await eventually(what, probe, WAIT)


async def failing_attempt(handle: WorkflowHandle[None, None]) -> bool:
    """Its workflow task has failed and is being tried again."""
    described = await handle.describe()
    return described.raw_description.pending_workflow_task.attempt > 1


async def published_team(handle: WorkflowHandle[None, None]) -> bool:
    described = await handle.describe()
    return described.typed_search_attributes.get(sa.CSE_TEAM) is not None


@contextlib.asynccontextmanager
async def case_under_changed_code(address: str, keys: str, team: str) -> AsyncIterator[StuckCase]:
    """A running case whose workflow code changed after its first task: from its next task on
    every workflow task fails with a nondeterminism error, while the changed worker runs."""
    client = await sealed_client(address, keys)
    case = new_case("NONDET")
    async with Worker(client, task_queue=case.task_queue, workflows=[CaseAsFirstDeployed]):
        handle = await started(client, case, team)
        await until("the case's first task", lambda: published_team(handle))
    async with Worker(client, task_queue=case.task_queue, workflows=[CaseAsChangedSince]):
        await handle.signal("nudge")  # a new task, run by the changed code from a fresh replay
        await until("a failing task", lambda: failing_attempt(handle))
        yield case


@contextlib.asynccontextmanager
async def case_sealed_with_a_lost_key(
    address: str, keys: str, lost_keys: str, team: str
) -> AsyncIterator[StuckCase]:
    """A running case started by a client sealing with `lost_keys`, served by a worker that
    holds only `keys`: its first workflow task cannot open the referral."""
    client = await sealed_client(address, keys)
    stranger = await sealed_client(address, lost_keys)
    case = new_case("LOSTKEY")
    async with Worker(client, task_queue=case.task_queue, workflows=[CaseAsFirstDeployed]):
        handle = await started(stranger, case, team)
        await until("a failing task", lambda: failing_attempt(handle))
        yield case


@contextlib.asynccontextmanager
async def closed_case_whose_key_was_dropped(
    address: str, keys: str, dropped_keys: str, team: str
) -> AsyncIterator[StuckCase]:
    """A case run to its end under `dropped_keys`, then served by a worker holding only
    `keys` (the key it was sealed with taken out of CSE_CODEC_KEYS): replaying it for a
    query cannot open its payloads."""
    before = await sealed_client(address, dropped_keys)
    case = new_case("DROPPED")
    async with Worker(before, task_queue=case.task_queue, workflows=[CaseAsFirstDeployed]):
        handle = await started(before, case, team)
        await until("the case's first task", lambda: published_team(handle))
        await handle.signal("nudge")
        await handle.result()
    after = await sealed_client(address, keys)
    async with Worker(after, task_queue=case.task_queue, workflows=[CaseAsFirstDeployed]):
        yield case


async def case_nobody_serves(address: str, keys: str, team: str) -> StuckCase:
    """A case started on a task queue no worker has ever polled, waited on long enough for a
    reader to suspect it."""
    client = await sealed_client(address, keys)
    case = new_case("NOWORKER")
    await started(client, case, team)
    await asyncio.sleep(2.5)  # edge/diagnosis.py suspects a task left unstarted beyond 2 s
    return case
