"""Pages from Jinja2 templates: everything escaped, times shown in Europe/London."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import jinja2
from fastapi import Request, Response
from fastapi.templating import Jinja2Templates

from api.auth import ApiRole, Identity, Permission
from domain.calendar import LONDON

HERE = Path(__file__).parent
STATIC = HERE / "static"


def london(moment: datetime | None) -> str:
    if moment is None:
        return "—"
    return moment.astimezone(LONDON).strftime("%a %d %b %Y %H:%M")


def duration(span: timedelta | None) -> str:
    if span is None:
        return ""
    hours = int(span.total_seconds() // 3600)
    days, hours = divmod(hours, 24)
    if days:
        return f"{days} d {hours} h"
    return f"{hours} h" if hours else f"{int(span.total_seconds() // 60)} min"


ACRONYMS = {"cse": "CSE", "mase": "MASE", "cin": "CIN", "cp": "CP", "cris": "CRIS", "spoc": "SPOC"}


def words(name: object) -> str:
    """`record_strategy_discussion` as `Record strategy discussion`; `cse_models`: `CSE models`."""
    text = " ".join(ACRONYMS.get(word, word) for word in str(name).split("_"))
    return text[:1].upper() + text[1:]


CASELOAD = "/dashboard/"


def home_of(user: Identity) -> str:
    """Where a user's dashboard starts: intake's form, the caseload, or the panel's documents
    for the panel's members who read no caseload."""
    if user.role == ApiRole.intake:
        return "/dashboard/referrals/new"
    if user.may(Permission.list_cases):
        return CASELOAD
    return "/dashboard/panel"


def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(HERE / "templates"),
        autoescape=True,  # every template, whatever its name: case data is never markup
        undefined=jinja2.StrictUndefined,
    )
    env.filters.update(london=london, duration=duration, words=words)
    env.globals.update(Permission=Permission, home_of=home_of)
    return env


templates = Jinja2Templates(env=_environment())


def render(
    request: Request, name: str, context: dict[str, Any], status_code: int = 200
) -> Response:
    """The page `name`, with who is signed in and their session's CSRF token for its forms."""
    session = getattr(request.state, "session", None)
    common = {
        "user": getattr(request.state, "user", None),
        "csrf_token": session.csrf_token if session is not None else "",
    }
    return templates.TemplateResponse(request, name, common | context, status_code=status_code)
