"""Practitioners' events: one route per update of the contract (pathway.md section 7).

The routes are generated from domain.events.EVENT_TYPES, each with its own body model: the
event's payload without `actor`, which is always the authenticated user. (A body that still
carries `actor`, as the contract's JSON for the temporal CLI does, is accepted and its
`actor` ignored.)
"""

from typing import Annotated, Any, TypeAlias

from fastapi import APIRouter, Header, Request
from pydantic import Field, ValidationError, create_model
from pydantic.json_schema import SkipJsonSchema

from api.auth import PERMISSIONS, Identity, permission_to_record
from api.case_access import UPDATE_TIMEOUT, ReferralId, open_case
from api.deps import CaseWorker, TemporalClientDep, check_permission
from api.errors import FieldProblem, InvalidInput, documented
from domain.events import EVENT_TYPES, Event
from domain.status import CaseStatus, Receipt

router = APIRouter(tags=["events"])

IgnoredActor: TypeAlias = SkipJsonSchema[str | None]
IDEMPOTENCY_KEY = r"^[A-Za-z0-9_.:-]{8,128}$"
IdempotencyKey: TypeAlias = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        pattern=IDEMPOTENCY_KEY,
        description=(
            "Optional, 8-128 of A-Z a-z 0-9 _ . : -. The same key sent again (a retry after a "
            "timeout, a form sent twice) records the event once: the second answer is the "
            "first's. Keys are kept per case run."
        ),
    ),
]


def update_id(user: Identity, event: str, key: str | None) -> str | None:
    """Temporal records an update id once per case run: a caller's key, scoped to the caller
    and the event, so one user's key can never stand for another's event."""
    return None if key is None else f"{user.user_id}/{event}/{key}"


def body_model(event_type: type[Event]) -> type[Event]:
    """The request body of an event's route: its payload, with `actor` ignored."""
    body: type[Event] = create_model(
        f"{event_type.__name__}Body",
        __base__=event_type,
        __doc__=f"The `{event_type.name}` event; the actor is the authenticated user.",
        actor=(IgnoredActor, Field(None, description="Ignored")),
    )
    return body


def as_recorded_by(event_type: type[Event], body: Event, user: Identity) -> Event:
    """The contract's payload, with the authenticated user as actor."""
    try:
        return event_type.model_validate(body.model_dump() | {"actor": user.user_id})
    except ValidationError as err:
        raise InvalidInput(
            [
                FieldProblem(field=".".join(map(str, ("body", *e["loc"]))), message=e["msg"])
                for e in err.errors()
            ]
        ) from None


def recorder(event_type: type[Event]) -> Any:
    """The endpoint recording one kind of event."""
    needs = permission_to_record(event_type.name)

    async def record(
        referral_id: ReferralId,
        body: Event,
        user: CaseWorker,
        client: TemporalClientDep,
        request: Request,
        idempotency_key: IdempotencyKey = None,
    ) -> CaseStatus:
        if needs is not None:
            check_permission(request, user, needs)
        case = await open_case(client, referral_id, user, request)
        case.refuse_if_closed()
        event = as_recorded_by(event_type, body, user)
        # The update answers a receipt; the page and the caller want the whole picture.
        await case.handle.execute_update(
            event_type.name,
            event,
            id=update_id(user, event_type.name, idempotency_key),
            result_type=Receipt,
            rpc_timeout=UPDATE_TIMEOUT,
        )
        return await case.status()

    record.__annotations__["body"] = body_model(event_type)
    record.__name__ = f"record_{event_type.name}"
    return record


def _who_may(event: str) -> str:
    needs = permission_to_record(event)
    if needs is None:
        return ""
    roles = " or ".join(role.value for role, allowed in PERMISSIONS.items() if needs in allowed)
    return f" Only a {roles} may record it ({needs.value})."


for _name, _event_type in EVENT_TYPES.items():
    router.add_api_route(
        f"/cases/{{referral_id}}/events/{_name}",
        recorder(_event_type),
        methods=["POST"],
        response_model=CaseStatus,
        responses=documented(400, 401, 403, 404, 409, 422, 503),
        summary=f"Record `{_name}`",
        description=(
            f"Records the `{_name}` event on the case and returns its new status. A refusal "
            "(409) names the pathway rule, and nothing about the case changes." + _who_may(_name)
        ),
        operation_id=f"record_{_name}",
    )
