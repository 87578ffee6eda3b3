"""The one mapping from Temporal's errors to the API's (api/errors.py), case by case."""

from __future__ import annotations

from temporalio.client import WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode

from api.errors import (
    CaseClosed,
    CaseNotFound,
    FieldProblem,
    InvalidInput,
    Refused,
    Unavailable,
    from_rpc_error,
    from_update_failure,
)


def refused_update(message: str, *details: str, kind: str) -> WorkflowUpdateFailedError:
    return WorkflowUpdateFailedError(ApplicationError(message, *details, type=kind))


def test_a_pathway_refusal_is_409_with_its_rule() -> None:
    for kind in ("RuleBroken", "EventNotAllowed", "InvalidEventTime"):
        mapped = from_update_failure(
            refused_update("no further action needs ...", "nfa", kind=kind)
        )

        assert isinstance(mapped, Refused)
        assert mapped.body.rule == "nfa"
        assert mapped.body.detail == "no further action needs ..."


def test_invalid_input_from_the_workflow_is_422_naming_each_field() -> None:
    failure = refused_update(
        "invalid input: score: too big; held_at: missing",
        "score: too big",
        "held_at: missing",
        kind="InvalidInput",
    )

    mapped = from_update_failure(failure)

    assert isinstance(mapped, InvalidInput)
    assert mapped.body.errors == [
        FieldProblem(field="body.score", message="too big"),
        FieldProblem(field="body.held_at", message="missing"),
    ]


def test_an_update_failing_for_another_reason_is_not_dressed_up_as_a_refusal() -> None:
    assert from_update_failure(refused_update("boom", kind="SomethingElse")) is None
    assert from_update_failure(WorkflowUpdateFailedError(RuntimeError("boom"))) is None


def test_rpc_errors_map_to_404_409_and_503() -> None:
    def rpc(message: str, status: RPCStatusCode) -> RPCError:
        return RPCError(message, status, b"")

    missing = from_rpc_error(
        rpc("workflow not found for ID: referral-R-1", RPCStatusCode.NOT_FOUND), "R-1"
    )
    done = from_rpc_error(
        rpc("workflow execution already completed", RPCStatusCode.NOT_FOUND), "R-1"
    )
    slow = from_rpc_error(rpc("Timeout expired", RPCStatusCode.CANCELLED), None)

    assert isinstance(missing, CaseNotFound)
    assert missing.body.detail == "there is no case for referral R-1"
    assert isinstance(done, CaseClosed)
    assert done.body.rule == "case_closed"
    assert isinstance(slow, Unavailable)
    assert from_rpc_error(rpc("nope", RPCStatusCode.PERMISSION_DENIED), "R-1") is None
