"""Forms for every practitioner event and for intake, sent through the API's own routes
(api/routes/events.py, api/routes/referrals.py): the same validation, roles and refusals.

A recorded event goes on to the case page with a notice; a refused one back to its form,
filled in as sent, each problem beside the field it concerns (api/dashboard/form_flow.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from functools import cache

from fastapi import APIRouter, Request, Response
from fastapi.responses import RedirectResponse
from fastapi.routing import APIRoute

from api.case_access import ReferralId, open_case
from api.dashboard.case_page import stuck_page
from api.dashboard.form_flow import (
    back_to_form,
    form_page,
    form_refusal,
    problems_of,
    read_form,
    submission_of,
    validated,
)
from api.dashboard.forms import FormField, Widget, form_fields
from api.dashboard.guard import DashboardRoute, DashboardUser, IntakeUser, PageNotFound, SignedIn
from api.dashboard.rendering import london, words
from api.deps import SettingsDep, TemporalClientDep, check_may_record
from api.errors import CaseStuck
from api.routes import events, referrals
from domain.authorities import AUTHORITY_FIELDS
from domain.events import EVENT_TYPES, Event
from domain.referral import Referral
from domain.status import CaseStatus, ClockState, MaseAction
from domain.teams import TEAM_FIELD

router = APIRouter(route_class=DashboardRoute)

RECORDERS = {
    route.path.rsplit("/", 1)[1]: route.endpoint
    for route in events.router.routes
    if isinstance(route, APIRoute)
}


@cache
def event_body(name: str) -> type[Event]:
    return events.body_model(EVENT_TYPES[name])


def event_type_of(name: str) -> type[Event]:
    if name not in EVENT_TYPES:
        raise PageNotFound(f"there is no event called {name}")
    return EVENT_TYPES[name]


# ---- practitioners' events ------------------------------------------------------------------


@router.get("/cases/{referral_id}/events/{event}")
async def event_form(
    referral_id: ReferralId,
    event: str,
    request: Request,
    session: SignedIn,
    user: DashboardUser,
    client: TemporalClientDep,
) -> Response:
    event_type = event_type_of(event)
    check_may_record(request, user, event)
    try:
        case = await open_case(client, referral_id, user, request)
        status = await case.status()
    except CaseStuck as err:
        return stuck_page(request, err)
    return form_page(
        request,
        f"form:{referral_id}:{event}",
        with_case_choices(form_fields(event_type), status),
        title=f"{words(event)}: case {referral_id}",
        case=status,
        cancel=f"/dashboard/cases/{referral_id}",
        notice=None,
    )


@router.post("/cases/{referral_id}/events/{event}")
async def record_event(
    referral_id: ReferralId,
    event: str,
    request: Request,
    session: SignedIn,
    user: DashboardUser,
    client: TemporalClientDep,
) -> Response:
    event_type = event_type_of(event)
    check_may_record(request, user, event)
    fields = form_fields(event_type)
    values = await read_form(request, fields)
    key = f"form:{referral_id}:{event}"
    body = validated(event_body(event), values, fields)
    if isinstance(body, dict):
        return back_to_form(request, key, values, body)
    try:
        status = await RECORDERS[event](
            key=await submission_of(request) or events.new_idempotency_key(),
            referral_id=referral_id,
            body=body,
            user=user,
            client=client,
            request=request,
            response=Response(),
        )
    except CaseStuck as err:
        return stuck_page(request, err)
    except Exception as err:
        problems = problems_of(form_refusal(err, referral_id), fields, event_type.time_field)
        return back_to_form(request, key, values, problems)
    session.flash(
        f"notice:{referral_id}",
        f"{words(event)} recorded: the case is now in {words(status.stage.value).lower()}.",
    )
    return RedirectResponse(f"/dashboard/cases/{referral_id}", status_code=303)


def with_case_choices(fields: list[FormField], case: CaseStatus) -> list[FormField]:
    """An action to complete is chosen from the case's open MASE actions, not typed (the
    model still checks what is sent, so a stale choice is refused beside the field)."""
    actions = [a for a in case.mase.actions if a.completed_at is None and a.state in _UNDONE]
    return [
        replace(
            f,
            widget=Widget.select,
            options=tuple(a.action_id for a in actions),
            option_labels=tuple(_action_choice(a) for a in actions),
        )
        if f.name == ACTION_ID_FIELD
        else f
        for f in fields
    ]


ACTION_ID_FIELD = "action_id"
_UNDONE = (ClockState.open, ClockState.breached)


def _action_choice(action: MaseAction) -> str:
    due = london(action.due_at)
    return f"{action.action_id}: {action.action} ({words(action.owner_role.value)}, due {due})"


# ---- intake ----------------------------------------------------------------------------------

REFERRAL_FIELDS = form_fields(Referral, omit=frozenset())


def referral_fields(
    teams: Sequence[str], authorities: dict[str, str] | None = None
) -> list[FormField]:
    """The intake form: with CSE_TEAMS, `team` is a choice of those teams, as written; with
    authorities in the directory, each authority field a choice of them (code and name)."""
    return [_as_choice(f, teams, authorities or {}) for f in REFERRAL_FIELDS]


def _as_choice(field: FormField, teams: Sequence[str], authorities: dict[str, str]) -> FormField:
    if field.name == TEAM_FIELD and teams:
        return replace(field, widget=Widget.select, options=tuple(teams), verbatim_options=True)
    if field.name in AUTHORITY_FIELDS and authorities:
        labels = tuple(f"{code}: {name}" for code, name in authorities.items())
        return replace(
            field, widget=Widget.select, options=tuple(authorities), option_labels=labels
        )
    return field


@router.get("/referrals/new")
async def referral_form(
    request: Request, session: SignedIn, user: IntakeUser, settings: SettingsDep
) -> Response:
    return form_page(
        request,
        "form:referral",
        referral_fields(settings.teams, request.app.state.authorities),
        title="New referral",
        case=None,
        cancel=None,
        notice=session.take("notice:referral"),
    )


@router.post("/referrals/new")
async def start_referral(
    request: Request,
    session: SignedIn,
    user: IntakeUser,
    client: TemporalClientDep,
    settings: SettingsDep,
) -> Response:
    fields = referral_fields(settings.teams, request.app.state.authorities)
    values = await read_form(request, fields)
    referral = validated(Referral, values, fields)
    if isinstance(referral, dict):
        return back_to_form(request, "form:referral", values, referral)
    try:
        status = await referrals.create_referral(
            referral=referral, user=user, client=client, settings=settings, request=request
        )
    except Exception as err:
        refusal = form_refusal(err, None)
        problems = problems_of(refusal, fields, "received_at")
        return back_to_form(request, "form:referral", values, problems)
    stage = words(status.stage.value).lower()
    notice = f"Referral {status.referral_id} started: its case is in stage {stage}."
    session.flash("notice:referral", notice)
    return RedirectResponse(request.url.path, status_code=303)
