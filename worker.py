"""The worker: wiring only. Reads settings, checks the policy, registers, runs."""

import asyncio
import sys

import structlog
from temporalio.client import Client
from temporalio.worker import Worker

from activities.notify import Notifier, OutboxFile
from domain.policy import PolicyBook, PolicyError, load_policy_book
from edge.client import connect
from edge.logs import configure_logging
from edge.search_attributes import ensure_search_attributes
from edge.settings import Settings
from workflows import configuration
from workflows.referral import ReferralWorkflow
from workflows.sandbox import workflow_runner

log = structlog.get_logger("cse.worker")


def build_worker(client: Client, settings: Settings, book: PolicyBook) -> Worker:
    """The worker for one task queue, with the policy book its cases start under."""
    configuration.install(settings.task_queue, book)
    notifier = Notifier([OutboxFile(settings.outbox_file)], settings.public_url)
    return Worker(
        client,
        task_queue=settings.task_queue,
        workflows=[ReferralWorkflow],
        activities=[notifier.notify],
        workflow_runner=workflow_runner(),
    )


async def main() -> int:
    settings = Settings()
    configure_logging(settings.log_level)
    try:
        book = load_policy_book(settings.policy_dir)
    except PolicyError as err:
        log.error("policy refused", error=str(err))
        print(f"worker not started: {err}", file=sys.stderr)
        return 2
    client = await connect(settings)
    added = await ensure_search_attributes(client, settings.temporal_namespace)
    worker = build_worker(client, settings, book)
    log.info(
        "worker started",
        task_queue=settings.task_queue,
        address=settings.temporal_address,
        search_attributes_added=added,
        policy_versions=[p.version for p in book.versions],
    )
    await worker.run()
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
