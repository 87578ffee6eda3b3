"""Signing in with a bearer token, and out again.

The token is checked exactly as the API checks one (api.deps.get_current_user); on success a
new session names the user it identified (never the token) and the browser keeps it, sealed
(api/dashboard/sessions.py). A session made from an OIDC token ends when the token would.
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Form, Query, Request, Response
from fastapi.responses import RedirectResponse
from fastapi.security import HTTPAuthorizationCredentials
from jwt import PyJWTError
from jwt import decode as jwt_claims

from api.auth import Identity
from api.dashboard.guard import DashboardRoute, SignedIn, check_csrf
from api.dashboard.rendering import home_of, render
from api.dashboard.sessions import (
    LOGIN_COOKIE,
    SESSION_COOKIE,
    clear_cookie,
    login_session,
    new_session,
    set_cookie,
    signed_in_session,
)
from api.deps import get_current_user
from api.errors import Forbidden, Unauthenticated

router = APIRouter(route_class=DashboardRoute)

HOME = "/dashboard/"
NextPage = Annotated[str, Query(alias="next", max_length=2000)]


def safe_next(target: str | None) -> str | None:
    """Only a page of this dashboard: never another site (`//host`, `/\\host`)."""
    if target and target.startswith("/dashboard/") and "//" not in target and "\\" not in target:
        return target
    return None


def landing(user: Identity) -> str:
    return home_of(user)


@router.get("/login")
async def login_form(request: Request, next: NextPage = "", reason: str = "") -> Response:
    signed_in = signed_in_session(request)
    target = safe_next(next)
    if signed_in is not None:
        return RedirectResponse(target or HOME, status_code=303)
    session = login_session(request) or new_session()
    context = {
        "login_csrf": session.csrf_token,
        "next": target or "",
        "problem": session.take("login") or reason[:300],
    }
    response = render(request, "login.html", context)
    set_cookie(response, request, LOGIN_COOKIE, session)
    return response


@router.post("/login")
async def log_in(
    request: Request,
    token: Annotated[str, Form(max_length=4096)] = "",
    csrf_token: Annotated[str, Form(max_length=200)] = "",
    next: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    session = login_session(request)
    if session is None:
        raise Forbidden("this login form has expired: open the login page again")
    check_csrf(session, csrf_token)
    credentials = HTTPAuthorizationCredentials(scheme="Bearer", credentials=token.strip())
    try:
        user = await get_current_user(request, credentials)
    except Unauthenticated as err:
        session.flash("login", f"Not signed in: {err.body.detail}")
        target = safe_next(next)
        again = "/dashboard/login" + (f"?next={quote(target, safe='')}" if target else "")
        response = RedirectResponse(again, status_code=303)
        set_cookie(response, request, LOGIN_COOKIE, session)
        return response
    signed_in = new_session(user, until=token_expiry(token.strip()))
    response = RedirectResponse(safe_next(next) or landing(user), status_code=303)
    set_cookie(response, request, SESSION_COOKIE, signed_in)
    clear_cookie(response, request, LOGIN_COOKIE)
    return response


@router.post("/logout")
async def log_out(
    request: Request, session: SignedIn, csrf_token: Annotated[str, Form(max_length=200)] = ""
) -> Response:
    check_csrf(session, csrf_token)
    session.ended = True  # its cookie is cleared on the way out (api/dashboard/guard.py)
    return RedirectResponse("/dashboard/login", status_code=303)


def token_expiry(token: str) -> float | None:
    """When a token that has just been accepted expires: an OIDC JWT's `exp` (its signature
    was checked a moment ago); None for a users-file token, which does not expire."""
    try:
        claims = jwt_claims(token, options={"verify_signature": False})
    except PyJWTError:
        return None
    expiry = claims.get("exp")
    return float(expiry) if isinstance(expiry, int | float) else None
