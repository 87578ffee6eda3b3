"""The baseline's worker process: the bare workflows, in the same sandbox as the project's
worker, sealed with the same client factory, on one task queue.

    CSE_CODEC_KEYS=... TEMPORAL_ADDRESS=... CSE_TASK_QUEUE=... python -m bench.minimal_worker

Run by `python -m bench` beside `worker.py`, so that a worker process's own CPU time and
memory can be set against what Temporal alone costs.
"""

import asyncio
import sys

from temporalio.worker import Worker

from bench.activities import BareOutbox
from bench.bare_workflow import BareAlarmWorkflow, BareWorkflow
from edge.client import connect
from edge.settings import Settings
from workflows.sandbox import workflow_runner


async def main() -> int:
    settings = Settings()
    client = await connect(settings)
    worker = Worker(
        client,
        task_queue=settings.task_queue,
        workflows=[BareWorkflow, BareAlarmWorkflow],
        activities=[BareOutbox(settings.outbox_file).notify],
        workflow_runner=workflow_runner(),
        # The project worker's footprint settings (CSE_WORKER_*), so both are tuned alike.
        max_cached_workflows=settings.worker_cached_cases,
        max_concurrent_workflow_tasks=settings.worker_concurrent_workflow_tasks,
        max_concurrent_activities=settings.worker_concurrent_activities,
        max_concurrent_workflow_task_polls=settings.worker_workflow_task_polls,
        max_concurrent_activity_task_polls=settings.worker_activity_task_polls,
    )
    print(f"worker started on {settings.task_queue}", flush=True)
    await worker.run()
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
