"""What a new case asks at its first moment: the policy it keeps, and which cases its
referral id already had (read through visibility).

The policy a case takes is the version in force on the day its referral was received among
those the worker's ledger had published when the case started; the answer is recorded in the
case's history, so every replay reads it from there and never from the files of the day.

A referral id has one case for ever (pathway.md section 7). Clients are asked to start cases
with REJECT_DUPLICATE + FAIL, but Temporal's own defaults let a new run start once a case has
closed; that run asks here, on its first moment, whether an earlier run of its workflow id
ever opened a case, and fails as a duplicate if one did, leaving the earlier case untouched.
A run is a case when it published its team and has not failed: a case never fails, while
runs refused at their start (invalid input, or a duplicate) always do.

Failures: a visibility store that cannot answer fails the attempt; Temporal retries it.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from pydantic import BaseModel
from temporalio import activity
from temporalio.client import Client
from temporalio.common import RetryPolicy

from domain.policy import Policy, PolicyBook
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


class OpeningRequest(BaseModel):
    workflow_id: str
    run_id: str  # the asking run, never counted
    received_at: datetime
    started_at: datetime  # versions published after the case started are not its


class Opening(BaseModel):
    """The policy the case keeps for life, and the earlier cases of its referral id."""

    policy: Policy
    earlier_run_ids: list[str]


class CaseRegistry:
    """Reads visibility through the worker's own client, and the worker's policy book."""

    def __init__(self, client: Client, book: PolicyBook) -> None:
        self.client = client
        self.book = book

    @activity.defn(name="open_case")
    async def open_case(self, request: OpeningRequest) -> Opening:
        policy = self.book.in_force_on(request.received_at, request.started_at)
        earlier = await self._earlier(request.workflow_id, request.run_id)
        return Opening(policy=policy, earlier_run_ids=earlier)

    @activity.defn(name="earlier_cases")
    async def earlier_cases(self, request: EarlierCasesRequest) -> EarlierCases:
        """What runs started before `open_case` ask (they replay with it)."""
        return EarlierCases(run_ids=await self._earlier(request.workflow_id, request.run_id))

    async def _earlier(self, workflow_id: str, asking_run_id: str) -> list[str]:
        runs = []
        async for run in self.client.list_workflows(f"WorkflowId = {quoted(workflow_id)}"):
            if run.run_id != asking_run_id and is_a_case(run):
                runs.append(run.run_id)
        return sorted(runs)
