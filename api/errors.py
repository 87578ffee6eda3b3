"""Every way the API says no, in one place, and the one mapping from Temporal's errors.

ApiError                  every error body is an ErrorBody saying what was wrong
 ├── Unauthenticated      401  no bearer token, or one the service does not accept
 ├── Forbidden            403  the user's role or team may not do this
 ├── CaseNotFound         404  no case has this referral id
 ├── DocumentNotFound     404  no panel document of that run and name
 ├── EncryptionOff        404  the codec server, when CSE_PLAINTEXT_PAYLOADS=true seals nothing
 ├── Refused              409  the pathway refused the event (`rule` names the rule), the
 │                             referral id already has a case, or the case is closed
 ├── CaseGone             410  no case can answer for this referral: its start was refused
 ├── InvalidInput         422  each bad field named in `errors`
 └── Unavailable          503  Temporal did not answer in time, or cannot be reached
     └── CaseStuck             the case cannot answer, open or closed: `reason` says why
                               (edge/diagnosis.py: nondeterminism, payload_key_missing,
                               worker_failing, no_worker) and `operator_action` what to do

Every answer to an event (api/routes/events.py) also carries its `idempotency_key`, in the
body and the `Idempotency-Key` header, refusals and 503s included: sent again with it, the
event is recorded once.

From Temporal (mapped here, nowhere else): an update refused by the workflow arrives as
WorkflowUpdateFailedError whose cause is an ApplicationError typed RuleBroken,
EventNotAllowed or InvalidEventTime (409) or InvalidInput (422); RPCError NOT_FOUND is an
unknown case (404), or a case whose workflow has completed because it is closed (409);
timeouts and an unreachable server are 503. FastAPI's own validation errors become 422
bodies in the same shape, and its 400 (a body that is not JSON at all) an ErrorBody too.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException
from temporalio.client import (
    RPCTimeoutOrCancelledError,
    WorkflowUpdateFailedError,
    WorkflowUpdateRPCTimeoutOrCancelledError,
)
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode

from domain.errors import INVALID_INPUT, PATHWAY_REFUSAL_TYPES
from edge.diagnosis import Diagnosis

log = structlog.get_logger("cse.api")
IDEMPOTENCY_HEADER = "Idempotency-Key"


class FieldProblem(BaseModel):
    field: str
    message: str


class ErrorBody(BaseModel):
    """What went wrong: `detail` in words, the pathway `rule` refused, or each bad field; for
    a 503, the `reason` and what the operator should do."""

    detail: str
    rule: str | None = None
    errors: list[FieldProblem] = []
    reason: str | None = Field(
        None,
        description="503 only: nondeterminism, payload_key_missing, worker_failing, "
        "no_worker or temporal_unavailable; for a case whose run ended without the pathway "
        "closing it: terminated, timed_out, failed, canceled or continued_as_new",
    )
    operator_action: str | None = Field(None, description="503 only: what the operator does")
    idempotency_key: str | None = Field(
        None, description="Events only: send the same request again with this key to retry it"
    )


class ApiError(Exception):
    status_code = 500

    def __init__(
        self,
        detail: str,
        rule: str | None = None,
        errors: list[FieldProblem] | None = None,
        reason: str | None = None,
        operator_action: str | None = None,
    ) -> None:
        super().__init__(detail)
        self.body = ErrorBody(
            detail=detail,
            rule=rule,
            errors=errors or [],
            reason=reason,
            operator_action=operator_action,
        )

    def headers(self) -> dict[str, str] | None:
        return None


class Unauthenticated(ApiError):
    status_code = 401

    def headers(self) -> dict[str, str]:
        return {"WWW-Authenticate": "Bearer"}


class Forbidden(ApiError):
    status_code = 403


class CaseNotFound(ApiError):
    status_code = 404

    def __init__(self, referral_id: str) -> None:
        super().__init__(f"there is no case for referral {referral_id}")


class DocumentNotFound(ApiError):
    status_code = 404

    def __init__(self, run_date: str, name: str) -> None:
        super().__init__(f"the panel run of {run_date} has no document {name}")


class EncryptionOff(ApiError):
    status_code = 404

    def __init__(self) -> None:
        super().__init__(
            "payload encryption is off (CSE_PLAINTEXT_PAYLOADS=true): payloads are plain JSON "
            "and need no codec server"
        )


class Refused(ApiError):
    status_code = 409


class CaseClosed(Refused):
    def __init__(self, referral_id: str) -> None:
        super().__init__(
            f"the case for referral {referral_id} is closed: nothing more can be recorded",
            rule="case_closed",
        )


class CaseGone(ApiError):
    status_code = 410

    def __init__(self, referral_id: str, why: str) -> None:
        super().__init__(f"the case for referral {referral_id} cannot be read: {why}")


class InvalidInput(ApiError):
    status_code = 422

    def __init__(self, problems: list[FieldProblem]) -> None:
        lines = "; ".join(f"{p.field}: {p.message}" for p in problems)
        super().__init__(f"invalid input: {lines}", errors=problems)


TEMPORAL_UNAVAILABLE = "temporal_unavailable"
TRY_AGAIN = "try again shortly; if it persists, check that Temporal and the worker are running"


class Unavailable(ApiError):
    status_code = 503

    def __init__(
        self, detail: str, reason: str = TEMPORAL_UNAVAILABLE, operator_action: str = TRY_AGAIN
    ) -> None:
        super().__init__(detail, reason=reason, operator_action=operator_action)


class CaseStuck(Unavailable):
    def __init__(self, referral_id: str, trouble: Diagnosis) -> None:
        super().__init__(
            f"the case for referral {referral_id} cannot answer: {trouble.detail}; the "
            "operator must act (operator_action says how)",
            reason=trouble.reason.value,
            operator_action=trouble.operator_action,
        )


ERROR_DESCRIPTIONS = {
    400: "The body could not be parsed (send JSON, UTF-8)",
    401: "No bearer token, or one the service does not accept",
    403: "Your role or team may not do this",
    404: "No case has this referral id",
    409: "Refused: the rule is named; nothing about the case changed",
    410: "No case can answer for this referral id: its start was refused",
    422: "Invalid input: each bad field is named",
    503: "Temporal did not answer in time, or the case cannot answer: `reason` says why and "
    "`operator_action` what the operator should do",
}


def documented(*codes: int) -> dict[int | str, dict[str, Any]]:
    """The OpenAPI `responses` entry for these error statuses, all with an ErrorBody."""
    return {code: {"model": ErrorBody, "description": ERROR_DESCRIPTIONS[code]} for code in codes}


# ---- the one mapping from Temporal -------------------------------------------------------


def from_update_failure(err: WorkflowUpdateFailedError) -> ApiError | None:
    cause = err.cause
    if not isinstance(cause, ApplicationError):
        return None
    details = [str(d) for d in cause.details]
    if cause.type == INVALID_INPUT:
        fallback = [FieldProblem(field="body", message=cause.message)]
        return InvalidInput([_problem(d) for d in details] or fallback)
    if cause.type in PATHWAY_REFUSAL_TYPES:
        return Refused(cause.message, rule=details[0] if details else cause.type)
    return None


def from_rpc_error(err: RPCError, referral_id: str | None) -> ApiError | None:
    if err.status == RPCStatusCode.NOT_FOUND and referral_id is not None:
        if "already completed" in err.message:
            return CaseClosed(referral_id)
        return CaseNotFound(referral_id)
    # A client-side timeout arrives as CANCELLED ("Timeout expired").
    if err.status in (
        RPCStatusCode.DEADLINE_EXCEEDED,
        RPCStatusCode.CANCELLED,
        RPCStatusCode.UNAVAILABLE,
    ):
        return Unavailable(f"Temporal did not answer: {err.message}")
    return None


def _problem(detail: str) -> FieldProblem:
    field, _, message = detail.partition(": ")
    return FieldProblem(field=f"body.{field}", message=message or detail)


def validation_problems(err: RequestValidationError) -> list[FieldProblem]:
    return [
        FieldProblem(field=".".join(str(p) for p in e["loc"]) or "(request)", message=e["msg"])
        for e in err.errors()
    ]


# ---- handlers, installed once on the app -----------------------------------------------------


def _respond(request: Request, error: ApiError) -> JSONResponse:
    return _answer(request, error.body, error.status_code, error.headers())


def _answer(
    request: Request, body: ErrorBody, status_code: int, headers: Mapping[str, str] | None
) -> JSONResponse:
    """The error's JSON; on an event's route, with the idempotency key to retry it with."""
    key: str | None = getattr(request.state, "idempotency_key", None)
    if key is not None:
        body = body.model_copy(update={"idempotency_key": key})
        headers = {**(headers or {}), IDEMPOTENCY_HEADER: key}
    return JSONResponse(body.model_dump(mode="json"), status_code=status_code, headers=headers)


def _referral_id(request: Request) -> str | None:
    value = request.path_params.get("referral_id")
    return str(value) if value is not None else None


async def _on_api_error(request: Request, err: Exception) -> JSONResponse:
    assert isinstance(err, ApiError)
    return _respond(request, err)


async def _on_validation(request: Request, err: Exception) -> JSONResponse:
    assert isinstance(err, RequestValidationError)
    return _respond(request, InvalidInput(validation_problems(err)))


async def _on_http(request: Request, err: Exception) -> JSONResponse:
    assert isinstance(err, StarletteHTTPException)
    return _answer(request, ErrorBody(detail=str(err.detail)), err.status_code, err.headers)


async def _on_update_failed(request: Request, err: Exception) -> JSONResponse:
    assert isinstance(err, WorkflowUpdateFailedError)
    mapped = from_update_failure(err)
    if mapped is None:
        raise err
    return _respond(request, mapped)


async def _on_rpc_error(request: Request, err: Exception) -> JSONResponse:
    assert isinstance(err, RPCError)
    mapped = from_rpc_error(err, _referral_id(request))
    if mapped is None:
        raise err
    if type(mapped) is Unavailable:
        mapped = _unanswered(request, mapped.body.detail)
    return _respond(request, mapped)


async def _on_timeout(request: Request, err: Exception) -> JSONResponse:
    log.warning("temporal timed out", route=request.url.path, error=type(err).__name__)
    return _respond(request, _unanswered(request, "Temporal did not answer in time"))


def _unanswered(request: Request, detail: str) -> Unavailable:
    """Temporal did not answer: for an event, how to send it again without recording twice."""
    if getattr(request.state, "idempotency_key", None) is None:
        return Unavailable(detail)
    return Unavailable(
        f"{detail}. The event may yet be recorded: send the same request again with the "
        "Idempotency-Key this answer gives, and it is recorded once"
    )


async def _on_unexpected(request: Request, err: Exception) -> JSONResponse:
    """A failure nothing above maps: logged (type and route only), and said plainly."""
    log.error("unexpected failure", route=request.url.path, error=type(err).__name__)
    body = ErrorBody(detail=f"the service failed unexpectedly ({type(err).__name__}); it is logged")
    return _answer(request, body, 500, None)


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(ApiError, _on_api_error)
    app.add_exception_handler(RequestValidationError, _on_validation)
    app.add_exception_handler(StarletteHTTPException, _on_http)
    app.add_exception_handler(WorkflowUpdateFailedError, _on_update_failed)
    app.add_exception_handler(RPCError, _on_rpc_error)
    app.add_exception_handler(WorkflowUpdateRPCTimeoutOrCancelledError, _on_timeout)
    app.add_exception_handler(RPCTimeoutOrCancelledError, _on_timeout)
    app.add_exception_handler(Exception, _on_unexpected)
