"""How a dashboard form goes: shown (filled in again after a refusal), read back (CSRF
checked), validated by its model, and a refusal put beside the field it is about.

POST-redirect-GET: a refused form is kept in the session and the browser sent back to GET
it, so reloading a page never sends anything twice.
"""

from __future__ import annotations

import re
import secrets
from datetime import UTC, datetime
from typing import Any

from fastapi import Request, Response
from fastapi.responses import RedirectResponse
from pydantic import BaseModel, ValidationError

from api.dashboard.forms import (
    FORM_LEVEL,
    FormField,
    Values,
    field_problems,
    initial_values,
    rows_sent,
    submitted,
    values_of,
)
from api.dashboard.guard import api_error_of, check_csrf
from api.dashboard.rendering import render
from api.errors import ApiError
from api.idempotency import KEY_REUSED
from api.routes.events import IDEMPOTENCY_KEY

# The field a pathway rule is about, when the form has it; other refusals go at the top.
RULE_FIELDS: dict[str, tuple[str, ...]] = {
    "rationale_required": ("rationale",),
    "complex_case_chair": ("chair_role",),
    "nfa_needs_score_zero": ("outcome", "decision"),
    "nfa_with_high_concern": ("outcome", "decision"),
    "mase_needs_cris_number": ("cris_number",),
    "duplicate_referral": ("referral_id",),
    "mase_action_unknown": ("action_id",),
    "mase_action_already_completed": ("action_id",),
}
TIME_RULES = {"event_time_in_future", "event_time_before_referral"}
# One showing of a form sent again with other values (the Back button, edited, sent): its key
# already recorded the first values, so the second were not (api/idempotency.py).
SENT_AGAIN_CHANGED = (
    "This form had already been sent from this page with other values, and those are what "
    "the case holds (see its timeline): what you sent this time was not recorded. To record it "
    "as well, check the timeline, then send this form again."
)


def problems_of(refusal: ApiError, fields: list[FormField], time_field: str) -> dict[str, str]:
    """The API's refusal, each part under the form field it is about."""
    names = {c.name for f in fields for c in f.controls}
    if refusal.body.rule == KEY_REUSED:
        return {FORM_LEVEL: SENT_AGAIN_CHANGED}
    if refusal.body.errors:
        problems: dict[str, str] = {}
        for problem in refusal.body.errors:
            field = problem.field.removeprefix("body.")
            problems.setdefault(field if field in names else FORM_LEVEL, problem.message)
        return problems
    rule = refusal.body.rule or ""
    about = (time_field,) if rule in TIME_RULES else RULE_FIELDS.get(rule, ())
    field = next((name for name in about if name in names), FORM_LEVEL)
    return {field: refusal.body.detail}


def back_to_form(request: Request, key: str, values: Values, problems: dict[str, str]) -> Response:
    request.state.session.flash(key, {"values": values, "problems": problems})
    return RedirectResponse(request.url.path, status_code=303)


def form_page(request: Request, key: str, fields: list[FormField], **context: Any) -> Response:
    kept = request.state.session.take(key) or {}
    context |= {
        "fields": fields,
        "controls": [control for spec in fields for control in spec.controls],
        "values": kept.get("values") or initial_values(fields, datetime.now(UTC)),
        "problems": kept.get("problems") or {},
        "action": request.url.path,
        "submission": secrets.token_urlsafe(18),
    }
    return render(request, "form.html", context, status_code=422 if kept else 200)


async def submission_of(request: Request) -> str | None:
    """The form's own key, new each time the form is shown: the same form sent twice (a
    double click, a resend after a timeout) records its event once."""
    value = (await request.form()).get("submission")
    return value if isinstance(value, str) and re.fullmatch(IDEMPOTENCY_KEY, value) else None


async def read_form(request: Request, fields: list[FormField]) -> Values:
    form = await request.form()
    csrf = form.get("csrf_token")
    check_csrf(request.state.session, csrf if isinstance(csrf, str) else None)
    return values_of(form, fields)


def validated(model: type[BaseModel], values: Values, fields: list[FormField]) -> Any:
    """The model, or the problems to show (a dict) when the form does not make one."""
    try:
        return model.model_validate(submitted(values, fields))
    except ValidationError as err:
        return field_problems(err, rows_sent(values, fields))


def form_refusal(err: Exception, referral_id: str | None) -> ApiError:
    """The refusal to show on the form (409, 422); anything else goes on to an error page."""
    refusal = api_error_of(err, referral_id)
    if refusal is None:
        raise err
    if refusal.status_code not in (409, 422):
        raise refusal from None
    return refusal
