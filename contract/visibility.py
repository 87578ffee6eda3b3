"""Reading cases through Temporal's visibility: query literals, which runs are cases, and
which case is out of sight (its run ended without the pathway closing it).

A referral's workflow id may hold several runs: the case, runs a raw client started and the
workflow refused (invalid input, a second case of the id), runs an operator's reset began.
The case is its latest run that opened a case, latest by being open or by closing last (a
reset run keeps its base run's start time). That run says how the case stands:

 run state          the run                            the case
  running           open                               alive
  closed            completed (the pathway closed it)  closed
  terminated        terminated (CLI, Web UI, a raw     out of sight: nothing fires or is
  timed_out          start with TERMINATE_EXISTING),   recorded until an operator brings it
  failed             timed out, failed, canceled, or   back (edge/diagnosis.py says how);
  canceled           continued into a run that is not  a run that ended after the pathway
  continued_as_new   a case                            closed the case is simply closed
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable, Sequence
from datetime import timedelta
from enum import StrEnum

from temporalio.api.common.v1 import WorkflowExecution as RunRef
from temporalio.api.history.v1 import HistoryEvent
from temporalio.api.workflowservice.v1 import GetWorkflowExecutionHistoryReverseRequest
from temporalio.client import Client, WorkflowExecution, WorkflowExecutionStatus

from contract import search_attributes as sa
from contract.workflows import REFERRAL_WORKFLOW
from domain.child_index import IndexKey, child_indexes
from domain.errors import CASE_NOT_OPEN, DUPLICATE_REFERRAL, INVALID_INPUT
from domain.vocabulary import Stage

RPC_TIMEOUT = timedelta(seconds=10)
REFUSED_AT_START = frozenset({INVALID_INPUT, CASE_NOT_OPEN, DUPLICATE_REFERRAL})
RUNS_KEPT = 10_000  # closed runs whose refusal is remembered (a closed run never changes)


class RunState(StrEnum):
    running = "running"
    closed = "closed"
    terminated = "terminated"
    timed_out = "timed_out"
    failed = "failed"
    canceled = "canceled"
    continued_as_new = "continued_as_new"


_STATES = {
    WorkflowExecutionStatus.RUNNING: RunState.running,
    WorkflowExecutionStatus.COMPLETED: RunState.closed,
    WorkflowExecutionStatus.TERMINATED: RunState.terminated,
    WorkflowExecutionStatus.TIMED_OUT: RunState.timed_out,
    WorkflowExecutionStatus.FAILED: RunState.failed,
    WorkflowExecutionStatus.CANCELED: RunState.canceled,
    WorkflowExecutionStatus.CONTINUED_AS_NEW: RunState.continued_as_new,
}
ENDED = frozenset(_STATES.values()) - {RunState.running, RunState.closed}

# The runs a visibility query should list: live or closed cases (`LIVE_OR_CLOSED`), and the
# candidates for "out of sight" (`ENDED_UNCLOSED`), which `latest_case_run` then confirms.
# A continued-as-new run is never listed: its case goes on in the run it continued into.
_STAGE, _TEAM = sa.CSE_STAGE.name, sa.CSE_TEAM.name
_CLOSED = f"{_STAGE} = '{Stage.closed.value}'"
LIVE_OR_CLOSED = (
    "(ExecutionStatus = 'Running' OR ExecutionStatus = 'Completed' OR "
    f"({_CLOSED} AND ExecutionStatus IN ('Terminated', 'TimedOut', 'Canceled')))"
)
ENDED_UNCLOSED = (
    "(ExecutionStatus IN ('Terminated', 'TimedOut', 'Canceled') OR "
    f"(ExecutionStatus = 'Failed' AND {_TEAM} IS NOT NULL)) "
    f"AND ({_STAGE} IS NULL OR {_STAGE} != '{Stage.closed.value}')"
)


def cases_on(task_queue: str, *clauses: str) -> str:
    """The visibility query for the referral cases of one task queue that match every clause
    (e.g. ENDED_UNCLOSED, or the listing's LIVE_OR_CLOSED and a stage)."""
    on = [f"WorkflowType = {quoted(REFERRAL_WORKFLOW)}", f"TaskQueue = {quoted(task_queue)}"]
    return " AND ".join([*on, *clauses])


def quoted(value: str) -> str:
    """A string literal of Temporal's visibility query language (quotes cannot break out)."""
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def cases_of_child(child_ref: str, keys: Sequence[IndexKey]) -> str:
    """The visibility query for the runs indexed as this child's, under any of the keys (a
    case keeps the index its key wrote when it started). AND it with LIVE_OR_CLOSED to list
    cases. Without keys nothing is indexed: ask nothing (ValueError says so)."""
    if not keys:
        raise ValueError("no CSE_INDEX_KEYS: cases are not linked, so none can be found")
    values = ", ".join(quoted(index) for index in child_indexes(child_ref, keys))
    return f"{sa.CSE_CHILD_INDEX.name} IN ({values})"


def is_a_case(run: WorkflowExecution) -> bool:
    """Did this run of `referral-<id>` open a case, as far as visibility tells? A case
    publishes its team at once; runs refused at their start fail. `opened_a_case` also
    tells a case that failed from a refused start."""
    opened = run.typed_search_attributes.get(sa.CSE_TEAM) is not None
    return opened and run.status != WorkflowExecutionStatus.FAILED


def run_state(status: WorkflowExecutionStatus | None) -> RunState:
    return _STATES.get(status or WorkflowExecutionStatus.RUNNING, RunState.running)


def out_of_sight(run: WorkflowExecution) -> bool:
    """Did this case's run end without the pathway closing the case?"""
    stage = run.typed_search_attributes.get(sa.CSE_STAGE)
    return run_state(run.status) in ENDED and stage != Stage.closed.value


async def last_event(client: Client, workflow_id: str, run_id: str) -> HistoryEvent | None:
    """The last event of a run's history: for a closed run, the event that closed it."""
    request = GetWorkflowExecutionHistoryReverseRequest(
        namespace=client.namespace,
        execution=RunRef(workflow_id=workflow_id, run_id=run_id),
        maximum_page_size=1,
    )
    answer = await client.workflow_service.get_workflow_execution_history_reverse(
        request, retry=True, timeout=RPC_TIMEOUT
    )
    return answer.history.events[0] if answer.history.events else None


class _Refusals:
    """Which failed runs were refused at their start: read once from the event that closed
    each (its failure's type is never sealed), then remembered."""

    def __init__(self) -> None:
        self._known: OrderedDict[str, bool] = OrderedDict()

    async def refused(self, client: Client, run: WorkflowExecution) -> bool:
        if run.run_id not in self._known:
            event = await last_event(client, run.id, run.run_id)
            failed = event.workflow_execution_failed_event_attributes if event else None
            kind = failed.failure.application_failure_info.type if failed else ""
            self._known[run.run_id] = kind in REFUSED_AT_START
            while len(self._known) > RUNS_KEPT:
                self._known.popitem(last=False)
        return self._known[run.run_id]


_refusals = _Refusals()


async def opened_a_case(client: Client, run: WorkflowExecution) -> bool:
    """Is this run a case? An open run is (or is about to say it is not). A failed one is if
    it published its team and failed as a case, not as a refused start. Any other is: one
    ended before its first answer published its team (terminated at once) is taken for a
    case, so that it is not lost; a reset brings it back, or has it refused after all."""
    if run.status != WorkflowExecutionStatus.FAILED:
        return True
    if run.typed_search_attributes.get(sa.CSE_TEAM) is None:
        return False
    return not await _refusals.refused(client, run)


def _latest_first(run: WorkflowExecution) -> tuple[bool, float]:
    closed = run.close_time.timestamp() if run.close_time else float("inf")
    return (run.status == WorkflowExecutionStatus.RUNNING, closed)


async def latest_case_run(
    client: Client, workflow_id: str, runs: Iterable[WorkflowExecution] | None = None
) -> WorkflowExecution | None:
    """The run that is the referral's case (None if no run ever opened one); `runs`: the
    workflow id's runs, if already listed."""
    if runs is None:
        query = f"WorkflowId = {quoted(workflow_id)}"
        runs = [run async for run in client.list_workflows(query, rpc_timeout=RPC_TIMEOUT)]
    for run in sorted(runs, key=_latest_first, reverse=True):
        if await opened_a_case(client, run):
            return run
    return None


async def cases_out_of_sight(client: Client, query: str) -> list[WorkflowExecution]:
    """The case runs among those `query` lists (it should narrow to ENDED_UNCLOSED) that are
    still their referral's case: not superseded by a later run (a reset), not a refusal."""
    candidates = {run.id async for run in client.list_workflows(query, rpc_timeout=RPC_TIMEOUT)}
    ids = sorted(candidates)
    found = []
    for start in range(0, len(ids), 100):
        chunk = ", ".join(quoted(i) for i in ids[start : start + 100])
        runs: dict[str, list[WorkflowExecution]] = {}
        listing = client.list_workflows(f"WorkflowId IN ({chunk})", rpc_timeout=RPC_TIMEOUT)
        async for run in listing:
            runs.setdefault(run.id, []).append(run)
        for workflow_id, its_runs in sorted(runs.items()):
            case = await latest_case_run(client, workflow_id, its_runs)
            if case is not None and out_of_sight(case):
                found.append(case)
    return found
