"""Signing in with a bearer token, and out again.

The token is checked exactly as the API checks one (api.deps.get_current_user); on success a
new session holds it on the server and the browser gets only the new session's id.
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Form, Query, Request, Response
from fastapi.responses import RedirectResponse
from fastapi.security import HTTPAuthorizationCredentials

from api.auth import ApiRole, Identity
from api.dashboard.guard import DashboardRoute, SignedIn, check_csrf
from api.dashboard.rendering import render
from api.dashboard.sessions import (
    LOGIN_COOKIE,
    SESSION_COOKIE,
    clear_cookie,
    login_session,
    set_cookie,
    signed_in_session,
    store_of,
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
    return "/dashboard/referrals/new" if user.role == ApiRole.intake else HOME


@router.get("/login")
async def login_form(request: Request, next: NextPage = "", reason: str = "") -> Response:
    signed_in = signed_in_session(request)
    target = safe_next(next)
    if signed_in is not None:
        return RedirectResponse(target or HOME, status_code=303)
    session = login_session(request) or store_of(request).new()
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
        return RedirectResponse(again, status_code=303)
    store = store_of(request)
    store.end(session)
    signed_in = store.new(token=token.strip())
    response = RedirectResponse(safe_next(next) or landing(user), status_code=303)
    set_cookie(response, request, SESSION_COOKIE, signed_in)
    clear_cookie(response, request, LOGIN_COOKIE)
    return response


@router.post("/logout")
async def log_out(
    request: Request, session: SignedIn, csrf_token: Annotated[str, Form(max_length=200)] = ""
) -> Response:
    check_csrf(session, csrf_token)
    store_of(request).end(session)
    response = RedirectResponse("/dashboard/login", status_code=303)
    clear_cookie(response, request, SESSION_COOKIE)
    return response
