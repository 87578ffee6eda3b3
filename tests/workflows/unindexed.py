"""A worker for cases started before the child index: its opening answers no index (as a
worker without CSE_INDEX_KEYS did, and as every opening recorded before the index reads),
while its `index_child` activity has the tests' key, or none (`keys=False`)."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from temporalio.client import Client
from temporalio.worker import Worker

from domain.policy import Policy, PolicyBook
from tests.conftest import Outbox, StandInRegistry, earlier_cases, end_started_cases
from workflows import configuration
from workflows.referral import ReferralWorkflow
from workflows.sandbox import workflow_runner


class UnkeyedRegistry(StandInRegistry):
    def __init__(self, book: PolicyBook) -> None:
        super().__init__(book)
        self.index_keys = ()


@asynccontextmanager
async def unindexed_worker(
    client: Client, task_queue: str, outbox: Outbox, keys: bool = True
) -> AsyncIterator[Worker]:
    book = PolicyBook(versions=[Policy()])
    configuration.install(task_queue, book)
    indexer = StandInRegistry(book) if keys else UnkeyedRegistry(book)
    async with Worker(
        client,
        task_queue=task_queue,
        workflows=[ReferralWorkflow],
        activities=[
            outbox.notify,
            earlier_cases,
            UnkeyedRegistry(book).open_case,
            indexer.index_child,
        ],
        workflow_runner=workflow_runner(strict=True),
    ) as worker:
        try:
            yield worker
        finally:
            await end_started_cases(client)
