"""Practitioners' events: one route per update of the contract (docs/rules.md, Events).

The routes are generated from domain.events.EVENT_TYPES, each with its own body model: the
event's payload without `actor`, which is always the authenticated user. (A body that still
carries `actor`, as the contract's JSON for the temporal CLI does, is accepted and its
`actor` ignored.)

Every update the API sends has an update id: the caller's Idempotency-Key, else one the API
makes. The key is in every answer to the request (the `Idempotency-Key` header and the body's
`idempotency_key`, a 503 included), so a client that did not hear whether the event was
recorded sends the same request again with it, and Temporal records it once. The key stands for
one body: sent again with another, the request is refused with 422 and not recorded
(api/idempotency.py).
"""

import uuid
from typing import Annotated, Any, TypeAlias

from fastapi import APIRouter, Depends, Header, Request, Response
from pydantic import Field, ValidationError, create_model
from pydantic.json_schema import SkipJsonSchema

from api.auth import Identity, roles_recording
from api.case_access import ReferralId, open_case
from api.deps import TemporalClientDep, require_recording
from api.errors import IDEMPOTENCY_HEADER, FieldProblem, InvalidInput, documented
from api.idempotency import check_body_recorded
from api.schemas import EventRecorded
from domain.events import EVENT_TYPES, Event

router = APIRouter(tags=["events"])

IgnoredActor: TypeAlias = SkipJsonSchema[str | None]
IDEMPOTENCY_KEY = r"^[A-Za-z0-9_.:-]{8,128}$"
IdempotencyKey: TypeAlias = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        pattern=IDEMPOTENCY_KEY,
        description=(
            "Optional, 8-128 of A-Z a-z 0-9 _ . : -. The same key sent again with the same "
            "body (a retry after a timeout, a form sent twice) records the event once: the "
            "second answer is the first's. The same key with a different body is refused with "
            "422 (`rule: idempotency_key_reused`) and not recorded. Keys are kept per case run. "
            "Without one the API makes one; either way every answer returns it (header and "
            "`idempotency_key`)."
        ),
    ),
]


def new_idempotency_key() -> str:
    return uuid.uuid4().hex


async def idempotency_key_of(request: Request, idempotency_key: IdempotencyKey = None) -> str:
    """The request's key, the caller's or a new one; kept on the request so that every
    answer, an error's too (api/errors.py), returns it."""
    key = idempotency_key or new_idempotency_key()
    request.state.idempotency_key = key
    return key


# Resolved before the caller's identity and body, so even their refusals carry the key.
RequestKey = Annotated[str, Depends(idempotency_key_of)]


def update_id(user: Identity, event: str, key: str) -> str:
    """Temporal records an update id once per case run: the key, scoped to the caller and the
    event, so one user's key can never stand for another's event."""
    return f"{user.user_id}/{event}/{key}"


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
    """The endpoint recording one kind of event, for the roles that may record it."""
    may_record_it = Depends(require_recording(event_type.name))

    async def record(
        *,
        key: RequestKey,
        referral_id: ReferralId,
        body: Event,
        user: Identity = may_record_it,
        client: TemporalClientDep,
        request: Request,
        response: Response,
    ) -> EventRecorded:
        case = await open_case(client, referral_id, user, request)
        case.refuse_if_closed()
        event = as_recorded_by(event_type, body, user)
        # The update answers a receipt; the page and the caller want the whole picture.
        sent_as = update_id(user, event_type.name, key)
        await case.update(event, sent_as)
        await check_body_recorded(client, case.handle, sent_as, key, event)
        status = await case.status()
        response.headers[IDEMPOTENCY_HEADER] = key
        return EventRecorded(**status.model_dump(), idempotency_key=key)

    record.__annotations__["body"] = body_model(event_type)
    record.__name__ = f"record_{event_type.name}"
    return record


KEY_HEADER_DOC = {
    IDEMPOTENCY_HEADER: {
        "description": "The key to send the same request again with: recorded once",
        "schema": {"type": "string"},
    }
}
KEYED_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"headers": KEY_HEADER_DOC},
    **{
        code: answer | {"headers": KEY_HEADER_DOC}
        for code, answer in documented(400, 401, 403, 404, 409, 422, 503).items()
    },
}


def _who_may(event: str) -> str:
    roles = ", ".join(role.value for role in roles_recording(event))
    return f" Recorded by: {roles} (social workers and team managers on their own team's cases)."


for _name, _event_type in EVENT_TYPES.items():
    router.add_api_route(
        f"/cases/{{referral_id}}/events/{_name}",
        recorder(_event_type),
        methods=["POST"],
        response_model=EventRecorded,
        responses=KEYED_RESPONSES,
        summary=f"Record `{_name}`",
        description=(
            f"Records the `{_name}` event on the case and returns its new status. A refusal "
            "(409) names the pathway rule, and nothing about the case changes. Every answer "
            "carries the request's Idempotency-Key: send the same request again with it after "
            "a 503 or no answer, and the event is recorded once; the key with another body is "
            "refused (422, `idempotency_key_reused`) and not recorded." + _who_may(_name)
        ),
        operation_id=f"record_{_name}",
    )
