"""`cse reindex`: give the open cases started before the child index (or by a worker without
CSE_INDEX_KEYS) their index, so a later referral of the child finds them (docs/rules.md,
"One child across referrals"; how to run it: docs/encryption.md, "The child index").

It lists, through visibility, the running cases of the task queue that have no
`CseChildIndex` and sends each the operator's `index_child` update
(contract/child_indexing.py): the case asks the worker's index keys and the child's earlier
referrals once, in an activity kept in its history. A case refuses, before anything is
recorded, when it was indexed meanwhile, has closed, is still opening, or its worker has no
index keys. It prints counts and refusal reasons only: never a referral id or child data.
Run it again at any time: an indexed case is no longer listed.
"""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import timedelta

from temporalio.client import Client, WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError

from contract import search_attributes as sa
from contract.child_indexing import INDEX_CHILD, ChildIndexed, IndexChild
from contract.visibility import RPC_TIMEOUT, cases_on, quoted
from domain.vocabulary import Stage

AT_ONCE = 4  # updates in flight: each asks visibility once, on a worker shared with cases
UPDATE_TIMEOUT = timedelta(seconds=60)


def unindexed_cases(task_queue: str) -> str:
    """The visibility query: running cases of the task queue (a case publishes its team at
    once) that are not closed and have no child index."""
    return cases_on(
        task_queue,
        "ExecutionStatus = 'Running'",
        f"{sa.CSE_TEAM.name} IS NOT NULL",
        f"{sa.CSE_STAGE.name} != {quoted(Stage.closed.value)}",
        f"{sa.CSE_CHILD_INDEX.name} IS NULL",
    )


@dataclass
class Tally:
    """What a run of the command did, in counts only."""

    unindexed: int = 0
    indexed: int = 0
    re_referrals: int = 0
    refused: Counter[str] = field(default_factory=Counter)
    not_answered: int = 0

    def lines(self) -> list[str]:
        said = [
            f"open cases without a child index: {self.unindexed}",
            f"indexed: {self.indexed} (re-referrals among them: {self.re_referrals})",
            f"refused: {sum(self.refused.values())}",
        ]
        said += [f"  {count} {why}" for why, count in sorted(self.refused.items())]
        return [*said, f"not answered: {self.not_answered}"]

    def as_json(self) -> str:
        return json.dumps({**asdict(self), "refused": dict(self.refused)})


async def reindex(client: Client, task_queue: str, actor: str, dry_run: bool = False) -> Tally:
    """Send `index_child` to every unindexed open case of the task queue (none: dry run)."""
    workflow_ids = [
        run.id
        async for run in client.list_workflows(unindexed_cases(task_queue), rpc_timeout=RPC_TIMEOUT)
    ]
    tally = Tally(unindexed=len(workflow_ids))
    if dry_run:
        return tally
    room = asyncio.Semaphore(AT_ONCE)

    async def one(workflow_id: str) -> None:
        async with room:
            await _index_one(client, workflow_id, IndexChild(actor=actor), tally)

    await asyncio.gather(*(one(workflow_id) for workflow_id in workflow_ids))
    return tally


async def _index_one(client: Client, workflow_id: str, asked: IndexChild, tally: Tally) -> None:
    handle = client.get_workflow_handle(workflow_id)
    try:
        answer = await asyncio.wait_for(
            handle.execute_update(INDEX_CHILD, asked, result_type=ChildIndexed),
            UPDATE_TIMEOUT.total_seconds(),
        )
    except WorkflowUpdateFailedError as failed:
        cause = failed.cause
        why = cause.message if isinstance(cause, ApplicationError) else type(cause).__name__
        tally.refused[why] += 1
    except RPCError as err:  # e.g. its run ended since it was listed
        tally.refused[f"not running: {err.status.name.lower()}"] += 1
    except TimeoutError:
        tally.not_answered += 1
    else:
        tally.indexed += 1
        tally.re_referrals += answer.re_referral
