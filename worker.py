"""The worker: wiring only. Reads settings, checks the policy, registers, runs."""

import asyncio
import sys

import structlog
from temporalio.client import Client
from temporalio.worker import Worker

from activities.config import CaseConfigSource
from activities.notify import Notifier, OutboxFile
from domain.policy import PolicyError, load_policy
from edge.client import connect
from edge.logs import configure_logging
from edge.search_attributes import ensure_search_attributes
from edge.settings import Settings
from workflows.referral import ReferralWorkflow

log = structlog.get_logger("cse.worker")


def build_worker(client: Client, settings: Settings) -> Worker:
    policy = load_policy(settings.policy_file)
    notifier = Notifier([OutboxFile(settings.outbox_file)], settings.public_url)
    config = CaseConfigSource(policy, settings.history_limit)
    return Worker(
        client,
        task_queue=settings.task_queue,
        workflows=[ReferralWorkflow],
        activities=[notifier.notify, config.load_case_config],
    )


async def main() -> int:
    settings = Settings()
    configure_logging(settings.log_level)
    try:
        load_policy(settings.policy_file)
    except PolicyError as err:
        log.error("policy refused", error=str(err))
        print(f"worker not started: {err}", file=sys.stderr)
        return 2
    client = await connect(settings)
    added = await ensure_search_attributes(client, settings.temporal_namespace)
    worker = build_worker(client, settings)
    log.info(
        "worker started",
        task_queue=settings.task_queue,
        address=settings.temporal_address,
        search_attributes_added=added,
    )
    await worker.run()
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
