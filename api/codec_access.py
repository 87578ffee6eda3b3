"""Who may use the codec server: the caller, by bearer token or dashboard session, held to a
rule of its own.

A payload says nothing in cleartext about the case or team it belongs to, and Temporal's codec
protocol does not say either (only the namespace). So no team check can be made on what is
decoded, and the codec server serves only roles that may open every team's cases and every
panel document (head_of_service, `decode_payloads`): a social worker, team manager, specialist
lead or MASE chair reads their cases on the dashboard; intake, analysts and the police
contact never read a case. Refusals are logged (user, role, route, reason), never a
payload.

Credentials, in this order: `Authorization: Bearer <token>` (the `temporal` CLI's
`--codec-auth`), else the dashboard's session cookie, which the browser sends only to paths
under /dashboard and only when the Web UI asks it to include credentials; a cookie is honoured
only from the Web UI's origin (CSE_CODEC_CORS_ORIGIN), so another page cannot use it.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Header, Request
from fastapi.security import HTTPAuthorizationCredentials

from api.auth import Identity, Permission
from api.dashboard.sessions import session_user, signed_in_session
from api.deps import bearer, check_permission, forbidden, get_current_user, log, route_of
from api.errors import Unauthenticated
from api.same_origin import origin_of
from edge.settings import Settings

NO_CREDENTIALS = (
    "a bearer token is required (`--codec-auth 'Bearer <token>'`), or, from the Temporal Web "
    "UI, a dashboard session: sign in to the dashboard and let the UI include credentials"
)
FROM_ELSEWHERE = "a dashboard session is honoured here only from the Temporal Web UI's origin"
EVERY_TEAM = (
    "a payload does not say which case or team it belongs to, so the codec server decodes "
    "only for roles that may open every team's cases and every panel document; read your "
    "cases on the dashboard"
)


async def codec_caller(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> Identity:
    """The caller by bearer token, else by the dashboard session (from the Web UI's origin)."""
    if credentials is not None:
        return await get_current_user(request, credentials)
    session = signed_in_session(request)
    if session is None:
        raise refused(request, NO_CREDENTIALS)
    if not from_web_ui(request):
        raise refused(request, FROM_ELSEWHERE)
    return session_user(request, session)


def refused(request: Request, reason: str) -> Unauthenticated:
    log.warning("unauthenticated", route=route_of(request), method=request.method, reason=reason)
    return Unauthenticated(reason)


def from_web_ui(request: Request) -> bool:
    settings: Settings = request.app.state.settings
    origin = request.headers.get("origin")
    web_ui = origin_of(settings.codec_cors_origin)
    return origin is not None and web_ui is not None and origin_of(origin) == web_ui


async def codec_user(
    request: Request,
    user: Annotated[Identity, Depends(codec_caller)],
    namespace: Annotated[
        str | None,
        Header(
            alias="X-Namespace",
            description="The Temporal namespace (sent by the CLI and the Web UI); only the "
            "service's own is served. Absent: the service's own.",
        ),
    ] = None,
) -> Identity:
    """The caller, if they may decode: 403 for a role that may not read every team's cases,
    and for another namespace than the service's."""
    check_permission(request, user, Permission.read_case)
    if not user.may(Permission.decode_payloads):
        raise forbidden(request, user, EVERY_TEAM)
    settings: Settings = request.app.state.settings
    if namespace is not None and namespace != settings.temporal_namespace:
        raise forbidden(
            request, user, f"this codec server serves namespace {settings.temporal_namespace}"
        )
    return user


CodecUser = Annotated[Identity, Depends(codec_user)]
