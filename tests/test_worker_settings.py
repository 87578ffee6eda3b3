"""The worker's footprint is set from CSE_WORKER_* settings, read once at the edge."""

from __future__ import annotations

import pytest
from pydantic import ValidationError
from temporalio.testing import WorkflowEnvironment

from domain.policy import Policy, PolicyBook
from edge.settings import Settings
from worker import build_worker


async def test_the_worker_takes_its_cache_tasks_and_polls_from_the_settings(
    env: WorkflowEnvironment, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in {
        "CSE_WORKER_CACHED_CASES": "250",
        "CSE_WORKER_CONCURRENT_WORKFLOW_TASKS": "20",
        "CSE_WORKER_CONCURRENT_ACTIVITIES": "30",
        "CSE_WORKER_WORKFLOW_TASK_POLLS": "3",
        "CSE_WORKER_ACTIVITY_TASK_POLLS": "4",
    }.items():
        monkeypatch.setenv(name, value)
    settings = Settings(plaintext_payloads=True, task_queue="worker-settings")
    config = build_worker(env.client, settings, PolicyBook(versions=[Policy()])).config()
    assert config.get("max_cached_workflows") == 250
    assert config.get("max_concurrent_workflow_tasks") == 20
    assert config.get("max_concurrent_activities") == 30
    assert config.get("max_concurrent_workflow_task_polls") == 3
    assert config.get("max_concurrent_activity_task_polls") == 4


def test_a_cache_needs_two_workflow_task_polls() -> None:
    with pytest.raises(ValidationError, match="worker_workflow_task_polls"):
        Settings(worker_workflow_task_polls=1)
