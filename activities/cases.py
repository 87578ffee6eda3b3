"""What a new case asks at its first moment: the policy it keeps, and which cases its
referral id already had (read through visibility).

The policy a case takes is the version in force on the day its referral was received among
those the worker's ledger had published when the case started; the answer is recorded in the
case's history, so every replay reads it from there and never from the files of the day.

A referral id has one case for ever (docs/rules.md, Events; docs/api.md). Clients are asked to
start cases with REJECT_DUPLICATE + FAIL, but Temporal's own defaults let a new run start once
a case has closed; that run asks here, on its first moment, whether an earlier run of its
workflow id ever opened a case, and fails as a duplicate if one did, leaving the earlier case
untouched. A run is a case when it published its team and has not failed: a case never fails,
while runs refused at their start (invalid input, or a duplicate) always do.

The same answer says whether the case's team is one of the worker's teams (CSE_TEAMS) and its
placing and host authorities are in the worker's directory (with which of them are other
authorities, to be told of the case: domain/authorities.py), the case's keyed child index under
the writing key of CSE_INDEX_KEYS, and the child's earlier cases, found through that index
under every key (docs/rules.md, One child across referrals): each one's referral id (from its
workflow id), when it was received and its stage (its search attributes) and, once the pathway
has closed it, when its run ended. Without index keys nothing is linked. `index_child` answers
the same for a case started before the index, when an operator asks.

Failures: a visibility store that cannot answer fails the attempt; Temporal retries it.
"""

from __future__ import annotations

from collections.abc import Sequence

from temporalio import activity
from temporalio.client import Client, WorkflowExecution

from contract import search_attributes as sa
from contract.activities import (
    EARLIER_CASES,
    OPEN_CASE,
    EarlierCases,
    EarlierCasesRequest,
    Opening,
    OpeningRequest,
)
from contract.child_indexing import INDEX_CHILD, Indexing, IndexingRequest
from contract.visibility import RPC_TIMEOUT, cases_of_child, is_a_case, latest_case_run, quoted
from domain.authorities import authority_problems, named_authorities, other_authorities
from domain.child_index import IndexKey, child_index
from domain.policy import PolicyBook
from domain.referral import workflow_id_for
from domain.status import EarlierReferral
from domain.teams import team_problem
from domain.vocabulary import Stage


class CaseRegistry:
    """Reads visibility through the worker's own client, and the worker's policy book, teams,
    child index keys (the first writes, all are searched) and known authorities (the
    directory's, with our own code if it names it; none: any code)."""

    def __init__(
        self,
        client: Client,
        book: PolicyBook,
        teams: Sequence[str] = (),
        index_keys: Sequence[IndexKey] = (),
        authorities: Sequence[str] = (),
        own_authority: str | None = None,
    ) -> None:
        self.client = client
        self.book = book
        self.teams = tuple(teams)
        self.index_keys = tuple(index_keys)
        self.authorities = tuple(authorities)
        self.own_authority = own_authority

    @activity.defn(name=OPEN_CASE)
    async def open_case(self, request: OpeningRequest) -> Opening:
        policy = self.book.in_force_on(request.received_at, request.started_at)
        earlier = await self._earlier(request.workflow_id, request.run_id)
        problem = None if request.team is None else team_problem(request.team, self.teams)
        opening = Opening(policy=policy, earlier_run_ids=earlier, team_problem=problem)
        self._check_authorities(request, opening)
        if opening.authority_problem:
            problem = opening.authority_problem
        if request.child_ref is None or not self.index_keys or problem or earlier:
            return opening  # a refused start is not linked to the child
        opening.child_index = child_index(request.child_ref, self.index_keys[0])
        opening.earlier_referrals = await self._cases_of_child(
            request.child_ref, request.workflow_id
        )
        return opening

    @activity.defn(name=INDEX_CHILD)
    async def index_child(self, request: IndexingRequest) -> Indexing:
        """For a case started before the child index (an operator's `index_child`): its index
        under the writing key and the child's other cases, as `open_case` answers them."""
        if not self.index_keys:
            return Indexing()  # the case refuses: nothing to index with
        return Indexing(
            child_index=child_index(request.child_ref, self.index_keys[0]),
            earlier_referrals=await self._cases_of_child(request.child_ref, request.workflow_id),
        )

    def _check_authorities(self, request: OpeningRequest, opening: Opening) -> None:
        named = named_authorities(request.placing_authority, request.host_authority)
        problems = authority_problems(named, self.authorities)
        opening.authority_problem = "; ".join(f"{f}: {p}" for f, p in problems) or None
        opening.other_authorities = other_authorities(named, self.own_authority)

    @activity.defn(name=EARLIER_CASES)
    async def earlier_cases(self, request: EarlierCasesRequest) -> EarlierCases:
        """What runs started before `open_case` ask (they replay with it)."""
        return EarlierCases(run_ids=await self._earlier(request.workflow_id, request.run_id))

    async def _earlier(self, workflow_id: str, asking_run_id: str) -> list[str]:
        runs = []
        async for run in self.client.list_workflows(f"WorkflowId = {quoted(workflow_id)}"):
            if run.run_id != asking_run_id and is_a_case(run):
                runs.append(run.run_id)
        return sorted(runs)

    async def _cases_of_child(self, child_ref: str, own_workflow_id: str) -> list[EarlierReferral]:
        """The child's other cases, each as its referral's case run tells it (the latest run
        that opened a case: a reset keeps the index of the run it began from)."""
        query = f"{cases_of_child(child_ref, self.index_keys)} AND {NOT_CONTINUED}"
        runs: dict[str, list[WorkflowExecution]] = {}
        async for run in self.client.list_workflows(query, rpc_timeout=RPC_TIMEOUT):
            if run.id != own_workflow_id:
                runs.setdefault(run.id, []).append(run)
        found = []
        for workflow_id, its_runs in sorted(runs.items()):
            case = await latest_case_run(self.client, workflow_id, its_runs)
            referral = None if case is None else earlier_referral(case)
            if referral is not None:
                found.append(referral)
        return found


NOT_CONTINUED = "ExecutionStatus != 'ContinuedAsNew'"  # its case goes on in a later run
REFERRAL_PREFIX = workflow_id_for("")


def earlier_referral(run: WorkflowExecution) -> EarlierReferral | None:
    """What a case of the child says of itself in visibility; None for a run that is not
    a referral's case (no stage, or a workflow id of another kind)."""
    published = run.typed_search_attributes.get(sa.CSE_STAGE)
    if published is None or published not in Stage.__members__:
        return None
    if not run.id.startswith(REFERRAL_PREFIX):
        return None
    stage = Stage(published)
    received_at = run.typed_search_attributes.get(sa.CSE_RECEIVED_AT) or run.start_time
    return EarlierReferral(
        referral_id=run.id.removeprefix(REFERRAL_PREFIX),
        received_at=received_at,
        closed_at=run.close_time if stage == Stage.closed else None,
        stage=stage,
    )
