"""The browser's sessions: the cookie holds only a random session id; the bearer token stays
on the server, in this process's memory (a restart signs everyone out; run one API process,
or put a shared store behind this class, before running several).

Two cookies, both HttpOnly and SameSite=Strict, and Secure as api/same_origin.py decides
(CSE_COOKIE_SECURE; unset, on unless the API listens on loopback):
- `cse_session`, once signed in: the session holding the token and the CSRF token of its forms;
- `cse_login`, only on the login page: an anonymous session whose CSRF token guards the login
  form itself. It has a name of its own so that opening the login page never overwrites a
  signed-in session the browser did not send (SameSite=Strict withholds it when a person
  arrives from a link in an email).
"""

from __future__ import annotations

import hmac
import secrets
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

from fastapi import Request, Response

from api.same_origin import secure_cookies

SESSION_COOKIE = "cse_session"
LOGIN_COOKIE = "cse_login"
IDLE_TIMEOUT = 8 * 3600.0  # seconds of inactivity before a signed-in session ends
LOGIN_TIMEOUT = 15 * 60.0  # seconds a login form stays valid
CAPACITY = 10_000  # sessions kept at most; the least recently used go first


@dataclass
class Session:
    id: str
    csrf_token: str
    token: str | None = None
    flashes: dict[str, Any] = field(default_factory=dict)
    last_seen: float = 0.0

    @property
    def signed_in(self) -> bool:
        return self.token is not None

    def csrf_matches(self, presented: str | None) -> bool:
        return presented is not None and hmac.compare_digest(presented, self.csrf_token)

    def flash(self, key: str, value: Any) -> None:
        """Keep `value` for the next page that asks for `key` (POST-redirect-GET)."""
        self.flashes[key] = value

    def take(self, key: str) -> Any:
        return self.flashes.pop(key, None)


class SessionStore:
    """Sessions by id, in memory, expiring after inactivity."""

    def __init__(self, capacity: int = CAPACITY) -> None:
        self._sessions: OrderedDict[str, Session] = OrderedDict()
        self._capacity = capacity

    def new(self, token: str | None = None) -> Session:
        session = Session(
            id=secrets.token_urlsafe(32),
            csrf_token=secrets.token_urlsafe(32),
            token=token,
            last_seen=time.monotonic(),
        )
        self._sessions[session.id] = session
        while len(self._sessions) > self._capacity:
            self._sessions.popitem(last=False)
        return session

    def get(self, session_id: str | None) -> Session | None:
        session = self._sessions.get(session_id or "")
        if session is None:
            return None
        timeout = IDLE_TIMEOUT if session.signed_in else LOGIN_TIMEOUT
        if time.monotonic() - session.last_seen > timeout:
            self.end(session)
            return None
        session.last_seen = time.monotonic()
        self._sessions.move_to_end(session.id)
        return session

    def end(self, session: Session) -> None:
        self._sessions.pop(session.id, None)


def store_of(request: Request) -> SessionStore:
    store: SessionStore = request.app.state.dashboard_sessions
    return store


def signed_in_session(request: Request) -> Session | None:
    session = store_of(request).get(request.cookies.get(SESSION_COOKIE))
    return session if session is not None and session.signed_in else None


def login_session(request: Request) -> Session | None:
    session = store_of(request).get(request.cookies.get(LOGIN_COOKIE))
    return session if session is not None and not session.signed_in else None


def set_cookie(response: Response, request: Request, name: str, session: Session) -> None:
    response.set_cookie(
        name,
        session.id,
        path="/dashboard",
        httponly=True,
        samesite="strict",
        secure=secure_cookies(request.app.state.settings),
    )


def clear_cookie(response: Response, request: Request, name: str) -> None:
    response.delete_cookie(
        name,
        path="/dashboard",
        httponly=True,
        samesite="strict",
        secure=secure_cookies(request.app.state.settings),
    )
