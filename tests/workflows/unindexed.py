"""A worker for cases started before the child index: its opening answers no index (as a
worker without CSE_INDEX_KEYS did, and as every opening recorded before the index reads),
while its `index_child` activity has the tests' key, or none (`keys=False`)."""

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from temporalio.client import Client
from temporalio.worker import Worker

from domain.policy import Policy, PolicyBook
from tests.conftest import Outbox, StandInRegistry, case_worker, earlier_cases


class UnkeyedRegistry(StandInRegistry):
    def __init__(self, book: PolicyBook) -> None:
        super().__init__(book)
        self.index_keys = ()


@asynccontextmanager
async def unindexed_worker(
    client: Client, task_queue: str, outbox: Outbox, keys: bool = True
) -> AsyncIterator[Worker]:
    book = PolicyBook(versions=[Policy()])
    indexer = StandInRegistry(book) if keys else UnkeyedRegistry(book)
    activities: list[Callable[..., Any]] = [outbox.notify, earlier_cases]
    activities += [UnkeyedRegistry(book).open_case, indexer.index_child]
    async with case_worker(client, task_queue, book, activities) as worker:
        yield worker
