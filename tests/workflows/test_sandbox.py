"""The workers pass the workflow modules through the sandbox (fast); every in-process test
runs them inside it (strict), so a non-deterministic call in workflow code fails a test."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from temporalio import workflow
from temporalio.client import WorkflowFailureError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from workflows.sandbox import workflow_runner


@workflow.defn(sandboxed=True)
class ReadsTheWallClock:
    """Stands for a workflow module that calls something non-deterministic."""

    @workflow.run
    async def run(self) -> str:
        import datetime  # imported in the run, as a careless change might

        return datetime.datetime.now(datetime.UTC).isoformat()


def test_the_workers_runner_passes_the_workflow_modules_through_and_the_strict_one_not() -> None:
    fast = workflow_runner().restrictions.passthrough_modules
    strict = workflow_runner(strict=True).restrictions.passthrough_modules

    assert "workflows" in fast
    assert "workflows" not in strict
    assert {"domain", "pydantic", "statemachine", "holidays"} <= strict


async def test_the_strict_sandbox_refuses_a_wall_clock_read(env: WorkflowEnvironment) -> None:
    queue = f"sandbox-{uuid.uuid4()}"
    async with Worker(
        env.client,
        task_queue=queue,
        workflows=[ReadsTheWallClock],
        workflow_runner=workflow_runner(strict=True),
        workflow_failure_exception_types=[Exception],
    ):
        with pytest.raises(WorkflowFailureError) as failure:
            await env.client.execute_workflow(
                ReadsTheWallClock.run,
                id=f"probe-{uuid.uuid4()}",
                task_queue=queue,
                execution_timeout=timedelta(seconds=30),
            )
    assert "datetime.datetime.now" in str(failure.value.cause)
