"""What routes depend on, named as types: `TemporalClientDep`, `CurrentUser`, `CaseReader`...

Refusals are logged here with the user id and the route template (never a child's details)
and raised as the API's own errors (api/errors.py).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated

import structlog
from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from temporalio.client import Client

from api.auth import (
    RECORDS_ONLY,
    Authenticator,
    Identity,
    Permission,
    TokenRefused,
    permission_to_record,
)
from api.errors import Forbidden, Unauthenticated
from edge.settings import Settings

log = structlog.get_logger("cse.api")

bearer = HTTPBearer(
    auto_error=False,
    description="A token from the users file (CSE_USERS_FILE) or, with OIDC, a signed JWT",
)


def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def get_client(request: Request) -> Client:
    client: Client = request.app.state.client
    return client


SettingsDep = Annotated[Settings, Depends(get_settings)]
TemporalClientDep = Annotated[Client, Depends(get_client)]


def route_of(request: Request) -> str:
    """The route template (`/cases/{referral_id}`), falling back to the path."""
    route = request.scope.get("route")
    return str(getattr(route, "path", request.url.path))


async def get_current_user(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> Identity:
    if credentials is None:
        reason = "a bearer token is required: send `Authorization: Bearer <token>`"
    else:
        authenticator: Authenticator = request.app.state.authenticator
        try:
            return authenticator.identify(credentials.credentials)
        except TokenRefused as err:
            reason = str(err)
    log.warning("unauthenticated", route=route_of(request), method=request.method, reason=reason)
    raise Unauthenticated(reason)


CurrentUser = Annotated[Identity, Depends(get_current_user)]


def forbidden(request: Request, user: Identity, reason: str) -> Forbidden:
    """The refusal to raise, logged with who asked and where."""
    log.warning(
        "forbidden",
        user=user.user_id,
        role=user.role.value,
        route=route_of(request),
        method=request.method,
        reason=reason,
    )
    return Forbidden(reason)


def check_permission(request: Request, user: Identity, permission: Permission) -> None:
    if not user.may(permission):
        raise forbidden(request, user, f"a {user.role.value} may not {_WORDS[permission]}")


def check_may_record(request: Request, user: Identity, event: str) -> None:
    """403 unless the user's role may record `event` (api/auth.py: `may_record`)."""
    if user.may_record(event):
        return
    only = RECORDS_ONLY.get(user.role)
    if only is not None:
        named = " and ".join(f"`{name}`" for name in sorted(only)) or "no event yet"
        raise forbidden(request, user, f"a {user.role.value} may record only {named}")
    check_permission(request, user, Permission.record_event)
    needs = permission_to_record(event)
    if needs is not None:
        check_permission(request, user, needs)


def require_recording(event: str) -> Callable[[Request, Identity], Awaitable[Identity]]:
    async def permitted(request: Request, user: CurrentUser) -> Identity:
        check_may_record(request, user, event)
        return user

    return permitted


def require(permission: Permission) -> Callable[[Request, Identity], Awaitable[Identity]]:
    async def permitted(request: Request, user: CurrentUser) -> Identity:
        check_permission(request, user, permission)
        return user

    return permitted


_WORDS = {
    Permission.create_referral: "start cases: that is intake's",
    Permission.list_cases: "list cases",
    Permission.read_case: "open a case",
    Permission.record_event: "record events on a case",
    Permission.close_case: "close a case: `close` is a manager's event",
    Permission.forecast: "see the forecast",
    Permission.read_panel_agenda: "read the panel agenda",
    Permission.read_oversight_report: "read the oversight report",
    Permission.decode_payloads: "decode payloads",
}

Intake = Annotated[Identity, Depends(require(Permission.create_referral))]
CaseLister = Annotated[Identity, Depends(require(Permission.list_cases))]
CaseReader = Annotated[Identity, Depends(require(Permission.read_case))]
Forecaster = Annotated[Identity, Depends(require(Permission.forecast))]
