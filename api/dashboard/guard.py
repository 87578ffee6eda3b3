"""Who is at the browser, and how the dashboard says no: the API's own rules, shown as pages.

The signed-in user is the session's, looked up again as the API knows its users
(api.dashboard.sessions.session_user), and held to the same permissions
(api.deps.check_permission). Each page seals the session back into its cookie.
Every refusal is one of the API's errors (api/errors.py); Temporal's errors are mapped by the
API's own functions. `DashboardRoute` turns them into pages: 401 back to the login form,
anything else an error page with the API's words. It also refuses every state-changing request
whose `Origin` (or `Referer`) is not this service's own (api/same_origin.py), before the CSRF
token is even read.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Coroutine
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import Depends, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import RedirectResponse
from fastapi.routing import APIRoute
from temporalio.client import (
    RPCTimeoutOrCancelledError,
    WorkflowUpdateFailedError,
    WorkflowUpdateRPCTimeoutOrCancelledError,
)
from temporalio.service import RPCError

from api.auth import Identity, Permission
from api.dashboard.rendering import render
from api.dashboard.sessions import Session, keep, session_user, signed_in_session
from api.deps import check_permission
from api.errors import (
    ApiError,
    Forbidden,
    InvalidInput,
    Unauthenticated,
    Unavailable,
    from_rpc_error,
    from_update_failure,
    validation_problems,
)
from api.same_origin import check_same_origin

SECURITY_HEADERS = {
    # No script at all, styles only from our own stylesheet, forms only to ourselves.
    "Content-Security-Policy": "default-src 'none'; style-src 'self'; img-src 'self'; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    "X-Content-Type-Options": "nosniff",
    # Not no-referrer: under it browsers send `Origin: null` with our own form posts, which
    # check_same_origin must refuse. same-origin still keeps case ids from other sites' logs.
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}


class PageNotFound(ApiError):
    status_code = 404


class LoginRequired(Exception):
    """No signed-in session: the browser is sent to the login form."""


async def current_session(request: Request) -> Session:
    session = signed_in_session(request)
    if session is None:
        raise LoginRequired
    request.state.session = session
    return session


SignedIn = Annotated[Session, Depends(current_session)]


async def dashboard_user(request: Request, session: SignedIn) -> Identity:
    """The session's user, as the API's users file (or the OIDC token signed in with) says."""
    user = session_user(request, session)
    request.state.user = user
    return user


DashboardUser = Annotated[Identity, Depends(dashboard_user)]


def permitted(permission: Permission) -> Callable[[Request, Identity], Awaitable[Identity]]:
    async def check(request: Request, user: DashboardUser) -> Identity:
        check_permission(request, user, permission)
        return user

    return check


CaseReaderUser = Annotated[Identity, Depends(permitted(Permission.read_case))]
IntakeUser = Annotated[Identity, Depends(permitted(Permission.create_referral))]
ForecasterUser = Annotated[Identity, Depends(permitted(Permission.forecast))]


def check_csrf(session: Session, presented: str | None) -> None:
    if not session.csrf_matches(presented):
        raise Forbidden(
            "this form has expired or did not come from this dashboard: reload the page and "
            "send it again"
        )


def api_error_of(err: Exception, referral_id: str | None) -> ApiError | None:
    """`err` as the API would answer it (api/errors.py's own mapping); None if unknown."""
    if isinstance(err, ApiError):
        return err
    if isinstance(err, RequestValidationError):
        return InvalidInput(validation_problems(err))
    if isinstance(err, WorkflowUpdateFailedError):
        return from_update_failure(err)
    if isinstance(err, RPCError):
        return from_rpc_error(err, referral_id)
    if isinstance(err, RPCTimeoutOrCancelledError | WorkflowUpdateRPCTimeoutOrCancelledError):
        return Unavailable("Temporal did not answer in time: open the case again before retrying")
    return None


def to_login(request: Request, reason: str | None = None) -> RedirectResponse:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    url = f"/dashboard/login?next={quote(target, safe='')}"
    if reason:
        url += f"&reason={quote(reason, safe='')}"
    return RedirectResponse(url, status_code=303)


class DashboardRoute(APIRoute):
    """Pages, not JSON: refusals become error pages, and every answer carries the headers."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def page(request: Request) -> Response:
            try:
                check_same_origin(request)
                response = await handler(request)
            except LoginRequired:
                response = to_login(request)
            except Unauthenticated as err:  # e.g. an OIDC token that has expired since
                end_session(request)
                response = to_login(request, err.body.detail)
            except Exception as err:
                refusal = api_error_of(err, request.path_params.get("referral_id"))
                if refusal is None:
                    raise
                response = error_page(request, refusal)
            session: Session | None = getattr(request.state, "session", None)
            if session is not None:
                keep(response, request, session)
            for name, value in SECURITY_HEADERS.items():
                response.headers.setdefault(name, value)
            return response

        return page


def end_session(request: Request) -> None:
    session: Session | None = getattr(request.state, "session", None)
    if session is not None:
        session.ended = True


HEADINGS = {
    403: "Not permitted",
    404: "Not found",
    409: "Refused",
    422: "Not understood",
    503: "Temporal is not answering",
}


def error_page(request: Request, err: ApiError) -> Response:
    context = {"error": err.body, "heading": HEADINGS.get(err.status_code, "Not done")}
    return render(request, "error.html", context, status_code=err.status_code)
