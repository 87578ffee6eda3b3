"""Why a case cannot answer, said as an operator can act on it: shared by the API and the CLI.

reason                what is wrong                               what the operator does
 nondeterminism       the workflow code or a policy file changed  restore them, or reset the case
                      under the case: its history replays into
                      other commands
 payload_key_missing  a payload is sealed with key K, which       give key K back to
                      CSE_CODEC_KEYS (the worker's, or this       CSE_CODEC_KEYS
                      service's) does not hold or cannot open
 worker_failing       the workflow task (or a closed case's       read the worker's log
                      replay) fails for another reason
 no_worker            nothing has polled the case's task queue    start a worker on that queue
                      lately
 terminated,          the case's run ended without the pathway    reset it to its last good
 timed_out, failed,   closing it (contract/visibility.py): nothing    point with Temporal's own
 canceled,            fires and nothing can be recorded; who      `temporal workflow reset`
 continued_as_new     ended it, when and why come from the event  (the command is given)
                      that closed the run

Where it is read: `describe()` (a pending workflow task on its second attempt or later keeps
failing; one scheduled and never started may have no worker), the history's last
WorkflowTaskFailed event (its cause and message), a query's failure (QueryFailedFailure, in
the RPC error the SDK raised it from) and the task queue's pollers. Failures' messages are
sealed like every payload: they are opened with the client's own codec.
"""

from __future__ import annotations

import re
import shlex
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from pydantic import BaseModel, ConfigDict
from temporalio.api.common.v1 import WorkflowExecution
from temporalio.api.enums.v1 import (
    PendingWorkflowTaskState,
    TaskQueueKind,
    TaskQueueType,
    WorkflowTaskFailedCause,
)
from temporalio.api.errordetails.v1 import QueryFailedFailure
from temporalio.api.failure.v1 import Failure
from temporalio.api.history.v1 import HistoryEvent
from temporalio.api.taskqueue.v1 import TaskQueue
from temporalio.api.workflowservice.v1 import (
    DescribeTaskQueueRequest,
    GetWorkflowExecutionHistoryReverseRequest,
)
from temporalio.client import (
    Client,
    RPCTimeoutOrCancelledError,
    WorkflowExecutionDescription,
    WorkflowExecutionStatus,
    WorkflowQueryFailedError,
    WorkflowQueryRejectedError,
    WorkflowUpdateRPCTimeoutOrCancelledError,
)
from temporalio.client import WorkflowExecution as Run
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode

from contract.visibility import last_event, out_of_sight, run_state
from edge.codec import PayloadSealError

RPC_TIMEOUT = timedelta(seconds=5)
UNSTARTED_FOR = timedelta(seconds=2)  # a task waiting longer than this may have no worker
POLLED_WITHIN = timedelta(minutes=2)  # a live worker polls again within about a minute
HISTORY_LOOKBACK = 100  # events read back from the end for the last failed workflow task
MESSAGE_CHARS = 300
NONDETERMINISM = re.compile(r"nondetermini", re.IGNORECASE)
SEALED_WITH = re.compile(r"sealed with key '([^']*)'")
NON_DETERMINISTIC = WorkflowTaskFailedCause.WORKFLOW_TASK_FAILED_CAUSE_NON_DETERMINISTIC_ERROR
# A client-side timeout arrives as CANCELLED ("Timeout expired").
TIMED_OUT = (RPCStatusCode.DEADLINE_EXCEEDED, RPCStatusCode.CANCELLED)


class Reason(StrEnum):
    nondeterminism = "nondeterminism"
    payload_key_missing = "payload_key_missing"
    worker_failing = "worker_failing"
    no_worker = "no_worker"
    # The case's run ended without the pathway closing it (contract/visibility.py's RunState).
    terminated = "terminated"
    timed_out = "timed_out"
    failed = "failed"
    canceled = "canceled"
    continued_as_new = "continued_as_new"


class Diagnosis(BaseModel):
    """What is wrong with a case that cannot answer, and what the operator should do."""

    model_config = ConfigDict(frozen=True)
    reason: Reason
    detail: str
    operator_action: str


def nondeterminism(message: str) -> Diagnosis:
    return Diagnosis(
        reason=Reason.nondeterminism,
        detail=f"its workflow task fails with a nondeterminism error ({message})",
        operator_action=(
            "the workflow code or a policy file changed under a running case: restore them "
            "(the code and policy files the case ran under) and restart the worker, or reset "
            "the case (temporal workflow reset); nothing recorded is lost meanwhile"
        ),
    )


def payload_key_missing(message: str, where: str = "the worker's") -> Diagnosis:
    """`where`: whose CSE_CODEC_KEYS lacks the key (the worker's, or the reader's own)."""
    found = SEALED_WITH.search(message)
    key = f"key {found.group(1)!r}" if found else "the key it was sealed with"
    return Diagnosis(
        reason=Reason.payload_key_missing,
        detail=f"a payload of the case cannot be opened with {where} keys ({message})",
        operator_action=(
            f"give {key} back to CSE_CODEC_KEYS (after the key that seals) of the worker and the "
            "API, and restart them; nothing recorded is lost meanwhile"
        ),
    )


def worker_failing(message: str) -> Diagnosis:
    return Diagnosis(
        reason=Reason.worker_failing,
        detail=f"the worker fails to run it ({message})",
        operator_action=(
            "read the worker's log lines for this case's run and fix what they name; the case "
            "carries on by itself once its workflow task succeeds"
        ),
    )


def no_worker(task_queue: str) -> Diagnosis:
    return Diagnosis(
        reason=Reason.no_worker,
        detail=f"no worker has polled its task queue {task_queue!r} lately",
        operator_action=f"start a worker (worker.py) with CSE_TASK_QUEUE={task_queue}",
    )


def of_failure(failure_type: str, message: str, cause: int | None = None) -> Diagnosis:
    """A failed workflow task or query, by its cause, its failure's type and its message."""
    message = short(message)
    if cause == NON_DETERMINISTIC or NONDETERMINISM.search(message):
        return nondeterminism(message)
    if failure_type == PayloadSealError.__name__ or SEALED_WITH.search(message):
        return payload_key_missing(message)
    return worker_failing(message)


def short(message: str) -> str:
    line = message.strip().splitlines()[0] if message.strip() else "no message"
    return line if len(line) <= MESSAGE_CHARS else line[: MESSAGE_CHARS - 3] + "..."


async def opened(client: Client, failure: Failure) -> tuple[str, str]:
    """A failure's type and message, opened with the client's codec when it can."""
    raw = (failure.application_failure_info.type, failure.message)
    try:
        error = await client.data_converter.decode_failure(failure)
    except PayloadSealError as err:  # sealed with a key this client lacks: say so instead
        return PayloadSealError.__name__, str(err)
    if isinstance(error, ApplicationError):
        return error.type or raw[0], error.message
    return raw[0], str(error)


# ---- reading what Temporal knows ---------------------------------------------------------


async def why_stuck(client: Client, described: WorkflowExecutionDescription) -> Diagnosis | None:
    """What describe() already shows: a workflow task that keeps failing, or one waiting on a
    task queue no worker polls. None when nothing is known to be wrong."""
    if described.status != WorkflowExecutionStatus.RUNNING:
        return None
    raw = described.raw_description
    if not raw.HasField("pending_workflow_task"):
        return None
    pending = raw.pending_workflow_task
    if pending.attempt > 1:
        return await last_task_failure(client, described)
    scheduled = pending.state == PendingWorkflowTaskState.PENDING_WORKFLOW_TASK_STATE_SCHEDULED
    waited = datetime.now(UTC) - pending.scheduled_time.ToDatetime(UTC)
    if scheduled and waited > UNSTARTED_FOR:
        return await unpolled(client, described.task_queue)
    return None


async def why_failed(
    client: Client, workflow_id: str, run_id: str | None, err: Exception, reader: str
) -> Diagnosis | None:
    """Why a query or an update of the case failed with `err`; None when `err` says nothing
    about the case (the caller raises it on). `reader` names the client, as in "this API's"."""
    if isinstance(err, WorkflowQueryFailedError | WorkflowQueryRejectedError):
        return await why_query_failed(client, err)
    if isinstance(err, PayloadSealError):  # the answer is sealed with a key the reader lacks
        return payload_key_missing(str(err), reader)
    if isinstance(err, RPCError) and err.status == RPCStatusCode.FAILED_PRECONDITION:
        # "Unable to query workflow due to Workflow Task in failed state"
        return await why_no_answer(client, workflow_id, run_id) or worker_failing(err.message)
    if isinstance(err, RPCTimeoutOrCancelledError | WorkflowUpdateRPCTimeoutOrCancelledError) or (
        isinstance(err, RPCError) and err.status in TIMED_OUT
    ):
        return await why_no_answer(client, workflow_id, run_id)
    return None


async def why_no_answer(client: Client, workflow_id: str, run_id: str | None) -> Diagnosis | None:
    """After a query or an update timed out or was refused: describe the case again (its task
    may have failed meanwhile), else ask whether any worker polls its task queue."""
    handle = client.get_workflow_handle(workflow_id, run_id=run_id)
    described = await handle.describe(rpc_timeout=RPC_TIMEOUT)
    pending = described.raw_description.pending_workflow_task
    if described.status == WorkflowExecutionStatus.RUNNING and pending.attempt > 1:
        return await last_task_failure(client, described)
    return await unpolled(client, described.task_queue)


async def last_task_failure(client: Client, described: WorkflowExecutionDescription) -> Diagnosis:
    """The case's last WorkflowTaskFailed event, read back from the end of its history."""
    request = GetWorkflowExecutionHistoryReverseRequest(
        namespace=client.namespace,
        execution=WorkflowExecution(workflow_id=described.id, run_id=described.run_id),
        maximum_page_size=HISTORY_LOOKBACK,
    )
    answer = await client.workflow_service.get_workflow_execution_history_reverse(
        request, retry=True, timeout=RPC_TIMEOUT
    )
    for event in answer.history.events:  # newest first, back to the last task that worked
        if event.HasField("workflow_task_failed_event_attributes"):
            failed = event.workflow_task_failed_event_attributes
            failure_type, message = await opened(client, failed.failure)
            return of_failure(failure_type, message, failed.cause)
        if event.HasField("workflow_task_completed_event_attributes"):
            break
    return await unpolled(client, described.task_queue) or worker_failing(
        "its workflow task keeps timing out: the worker stops or takes too long"
    )


async def unpolled(client: Client, task_queue: str) -> Diagnosis | None:
    """`no_worker` when nothing has polled the task queue for workflow tasks lately."""
    request = DescribeTaskQueueRequest(
        namespace=client.namespace,
        task_queue=TaskQueue(name=task_queue, kind=TaskQueueKind.TASK_QUEUE_KIND_NORMAL),
        task_queue_type=TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
    )
    answer = await client.workflow_service.describe_task_queue(
        request, retry=True, timeout=RPC_TIMEOUT
    )
    since = datetime.now(UTC) - POLLED_WITHIN
    polled = [p for p in answer.pollers if p.last_access_time.ToDatetime(UTC) >= since]
    return None if polled else no_worker(task_queue)


async def why_query_failed(client: Client, err: Exception) -> Diagnosis:
    """A query the worker failed (WorkflowQueryFailedError): its failure travels in the RPC
    error the SDK raised it from, sealed; the SDK keeps only its outer message."""
    rpc = err.__context__
    if isinstance(rpc, RPCError):
        for detail in rpc.grpc_status.details:
            if detail.Is(QueryFailedFailure.DESCRIPTOR):
                found = QueryFailedFailure()
                detail.Unpack(found)
                return of_failure(*await opened(client, found.failure))
    return of_failure("", str(err))


# ---- a case whose run ended without the pathway closing it ---------------------------------

RESET_REASON = "bring the case back: its run ended without the pathway closing it"


def reset_command(namespace: str, workflow_id: str, run_id: str) -> str:
    """Temporal's own reset of the case's run to its last completed workflow task."""
    return shlex.join(
        [
            *("temporal", "workflow", "reset", "--namespace", namespace),
            *("--workflow-id", workflow_id, "--run-id", run_id),
            *("--type", "LastWorkflowTask", "--reason", RESET_REASON),
        ]
    )


def run_ended(reason: Reason, what: str, command: str) -> Diagnosis:
    """A case out of sight: `what` ended its run, and the command that brings it back."""
    return Diagnosis(
        reason=reason,
        detail=(
            f"{what}, without the pathway closing the case: its clocks no longer fire and "
            "nothing can be recorded"
        ),
        operator_action=(
            f"bring it back with Temporal's own reset to its last good point: `{command}` "
            "(with TEMPORAL_ADDRESS, or --address, as for any temporal command). The case "
            "goes on from its last completed workflow task: its clocks catch up at once, "
            "firing what fell due meanwhile, and nothing recorded is lost. A run that failed "
            "fails again unless what failed is fixed first (the worker's log says what); to "
            "go back further, give --event-id an earlier WorkflowTaskCompleted event's id "
            "(temporal workflow show) instead of --type"
        ),
    )


def what_ended(
    event: HistoryEvent, failure: tuple[str, str] | None = None
) -> tuple[Reason, str] | None:
    """What the event that closed a run says: who or what ended it, when and why. `failure`:
    a failed run's failure type and message, opened with the reader's codec."""
    when = f"at {event.event_time.ToDatetime(UTC):%Y-%m-%d %H:%M:%S} UTC"
    if event.HasField("workflow_execution_terminated_event_attributes"):
        ended = event.workflow_execution_terminated_event_attributes
        by = f" by {short(ended.identity)}" if ended.identity else ""
        why = f" (reason given: {short(ended.reason)})" if ended.reason else " (no reason given)"
        return Reason.terminated, f"its run was terminated {when}{by}{why}"
    if event.HasField("workflow_execution_timed_out_event_attributes"):
        return Reason.timed_out, f"its run timed out {when} (a client started it with a timeout)"
    if event.HasField("workflow_execution_failed_event_attributes"):
        kind, message = failure or ("", "no message")
        return Reason.failed, f"its run failed {when}: {kind + ': ' if kind else ''}{message}"
    if event.HasField("workflow_execution_canceled_event_attributes"):
        return Reason.canceled, f"its run was canceled {when} (a client asked Temporal to)"
    if event.HasField("workflow_execution_continued_as_new_event_attributes"):
        new_run = event.workflow_execution_continued_as_new_event_attributes.new_execution_run_id
        return Reason.continued_as_new, f"its run continued {when} into run {new_run}, not a case"
    return None


async def why_ended(client: Client, run: Run) -> Diagnosis | None:
    """Why a case's run (contract/visibility.py's latest_case_run) ended without the pathway
    closing it, from the event that closed it; None when the case is open or closed."""
    if not out_of_sight(run):
        return None
    command = reset_command(client.namespace, run.id, run.run_id)
    event = await last_event(client, run.id, run.run_id)
    failure = None
    if event is not None and event.workflow_execution_failed_event_attributes.HasField("failure"):
        kind, message = await opened(
            client, event.workflow_execution_failed_event_attributes.failure
        )
        failure = (kind, short(message))
    said = what_ended(event, failure) if event is not None else None
    state = run_state(run.status)
    return run_ended(*(said or (Reason(state.value), f"its run ended ({state.value})")), command)
