"""An Idempotency-Key stands for one request body: the same key with another body is refused.

Every event is sent under the update id `<caller>/<event>/<key>` (api/routes/events.py), and
Temporal records an update id once per case run: a second request with the id is answered with
the first one's outcome, whatever its body. That is what makes a retry safe, and it also means
Temporal alone would answer "recorded" to a second, different event sent with a key already
used, and drop it. So once Temporal has answered, the body it recorded under the id (the
`WorkflowExecutionUpdateAccepted` event in the case's history, read back from the end) is
compared with the request's, canonically (as validated models, the actor being the caller):
the same, and the answer is the first's, as a retry's should be; another, and the request is
refused with 422 `idempotency_key_reused`, as the IETF Idempotency-Key draft says ("the same key
was used with a different request body"). Nothing is recorded twice (Temporal keeps the id
once, even for two requests racing on two replicas), nothing is dropped without the caller
being told, and no store but the case's own history is needed, on any replica, after restarts.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import Any

import structlog
from temporalio.api.common.v1 import Payload, WorkflowExecution
from temporalio.api.history.v1 import HistoryEvent
from temporalio.api.workflowservice.v1 import GetWorkflowExecutionHistoryReverseRequest
from temporalio.client import Client, WorkflowHandle

from api.errors import ApiError, FieldProblem
from domain.events import Event

log = structlog.get_logger("cse.api")

KEY_REUSED = "idempotency_key_reused"
PAGE = 100  # history events read back per call: an update just made is among the last few
RPC_TIMEOUT = timedelta(seconds=10)


class KeyReused(ApiError):
    """422: the key was used before, on this case, by this caller, for this event, with
    another body; that first request is the one recorded."""

    status_code = 422

    def __init__(self, key: str) -> None:
        super().__init__(
            f"Idempotency-Key {key} was already used with a different request body: this "
            "request was not recorded. The event first sent with the key is the one the case "
            "holds (see its history); to record this one too, send it with a new key",
            rule=KEY_REUSED,
            errors=[
                FieldProblem(
                    field="header.Idempotency-Key",
                    message="the same key was used with a different request body",
                )
            ],
        )


async def check_body_recorded(
    client: Client, handle: WorkflowHandle[Any, Any], update_id: str, key: str, event: Event
) -> None:
    """Raise KeyReused when the case recorded `update_id` with another body than `event`."""
    recorded = await _accepted_input(client, handle, update_id)
    if recorded is None:  # the run continued as new meanwhile: nothing left to compare with
        log.warning("update not found in the case's run", event=event.name)
        return
    [first] = await client.data_converter.decode(recorded, [type(event)])
    if canonical(first) != canonical(event):
        raise KeyReused(key)


def canonical(event: Event) -> Any:
    return event.model_dump(mode="json")


async def _accepted_input(
    client: Client, handle: WorkflowHandle[Any, Any], update_id: str
) -> Sequence[Payload] | None:
    """The payloads the case accepted under `update_id`, newest events first; None if its
    current run has no such update."""
    next_page = b""
    while True:
        request = GetWorkflowExecutionHistoryReverseRequest(
            namespace=client.namespace,
            execution=WorkflowExecution(workflow_id=handle.id, run_id=handle.run_id or ""),
            maximum_page_size=PAGE,
            next_page_token=next_page,
        )
        answer = await client.workflow_service.get_workflow_execution_history_reverse(
            request, retry=True, timeout=RPC_TIMEOUT
        )
        for event in answer.history.events:
            if _accepts(event, update_id):
                accepted = event.workflow_execution_update_accepted_event_attributes
                return accepted.accepted_request.input.args.payloads
        if not answer.next_page_token:
            return None
        next_page = answer.next_page_token


def _accepts(event: HistoryEvent, update_id: str) -> bool:
    if not event.HasField("workflow_execution_update_accepted_event_attributes"):
        return False
    accepted = event.workflow_execution_update_accepted_event_attributes
    return bool(accepted.accepted_request.meta.update_id == update_id)
