"""Which cases a referral id already has, read through visibility for the workflow.

A referral id has one case for ever (pathway.md section 7). Clients are asked to start cases
with REJECT_DUPLICATE + FAIL, but Temporal's own defaults let a new run start once a case has
closed; that run asks here, on its first moment, whether an earlier run of its workflow id
ever opened a case, and fails as a duplicate if one did, leaving the earlier case untouched.
A run is a case when it published its team and has not failed: a case never fails, while
runs refused at their start (invalid input, or a duplicate) always do.

Failures: a visibility store that cannot answer fails the attempt; Temporal retries it.
"""

from __future__ import annotations

from datetime import timedelta

from pydantic import BaseModel
from temporalio import activity
from temporalio.client import Client
from temporalio.common import RetryPolicy

from edge.visibility import is_a_case, quoted

EARLIER_CASES_TIMEOUT = timedelta(seconds=30)
EARLIER_CASES_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(minutes=1),
)


class EarlierCasesRequest(BaseModel):
    workflow_id: str
    run_id: str  # the asking run, never counted


class EarlierCases(BaseModel):
    run_ids: list[str]


class CaseRegistry:
    """Reads visibility through the worker's own client."""

    def __init__(self, client: Client) -> None:
        self.client = client

    @activity.defn(name="earlier_cases")
    async def earlier_cases(self, request: EarlierCasesRequest) -> EarlierCases:
        runs = []
        async for run in self.client.list_workflows(f"WorkflowId = {quoted(request.workflow_id)}"):
            if run.run_id != request.run_id and is_a_case(run):
                runs.append(run.run_id)
        return EarlierCases(run_ids=sorted(runs))
