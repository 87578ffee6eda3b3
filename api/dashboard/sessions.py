"""The browser's sessions, kept in the browser itself: a cookie sealed with AES-256-GCM.

A session says who is signed in (user id, role, team: never a bearer token), when it was last
used, the CSRF token of its forms and the flashes of POST-redirect-GET. The cookie is the
session, sealed with a key of CSE_SESSION_KEYS (`<key id>:<base64 of 32 bytes>`, comma-
separated: the first seals, all open), so any API replica reads what another wrote, and a
restart signs nobody out. AES-GCM both hides the session (flashes may carry what was typed
into a form) and signs it: a cookie altered, made up or sealed with another key opens as no
session at all. The cookie's name is sealed in too, so one kind cannot stand for the other.

Each page a signed-in browser opens seals the session again with the time it was last used,
so it ends after IDLE_TIMEOUT of inactivity, and in any case SIGNED_IN_FOR after signing in
(or when an OIDC token it was made from expires). Signing out clears the cookie; since no
server keeps sessions, a copy of the cookie taken before (HttpOnly and Secure make that hard)
would open until one of those limits. A user taken out of the users file, or given another
role or team, is signed out at their next page: the session's user is checked each time against
the file as it is now (api/auth.py's ReloadingUsersFile follows it on every replica).

Two cookies, both HttpOnly and SameSite=Strict, and Secure as api/same_origin.py decides
(CSE_COOKIE_SECURE; unset, on unless the API listens on loopback):
- `cse_session`, once signed in;
- `cse_login`, only on the login page: an anonymous session whose CSRF token guards the login
  form itself. It has a name of its own so that opening the login page never overwrites a
  signed-in session the browser did not send (SameSite=Strict withholds it when a person
  arrives from a link in an email).

Without CSE_SESSION_KEYS the API starts only on loopback, with a key of its own that ends
every session when it stops (scripts/run.sh makes data/session-keys instead); elsewhere it
refuses to start, naming the setting.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import json
import os
import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

import structlog
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from fastapi import Request, Response
from pydantic import ValidationError

from api.auth import ApiRole, Identity, StartupError
from api.deps import log as api_log
from api.deps import route_of
from api.errors import Unauthenticated
from api.same_origin import is_loopback, secure_cookies
from edge.codec import CodecKeyError, CodecKeys
from edge.settings import Settings

SESSION_COOKIE = "cse_session"
LOGIN_COOKIE = "cse_login"
IDLE_TIMEOUT = 8 * 3600.0  # seconds of inactivity before a signed-in session ends
SIGNED_IN_FOR = 12 * 3600.0  # seconds after signing in that a session ends anyway
LOGIN_TIMEOUT = 15 * 60.0  # seconds a login form stays valid
COOKIE_LIMIT = 3800  # bytes of a cookie's value: browsers drop cookies over about 4096
NONCE_BYTES = 12
SETTING = "CSE_SESSION_KEYS"

log = structlog.get_logger("cse.api")


@dataclass
class Session:
    csrf_token: str
    started: float
    last_seen: float
    user: Identity | None = None
    until: float | None = None  # when the token it was made from expires (OIDC), if sooner
    flashes: dict[str, Any] = field(default_factory=dict)
    ended: bool = False

    @property
    def signed_in(self) -> bool:
        return self.user is not None

    def csrf_matches(self, presented: str | None) -> bool:
        return presented is not None and hmac.compare_digest(presented, self.csrf_token)

    def flash(self, key: str, value: Any) -> None:
        """Keep `value` for the next page that asks for `key` (POST-redirect-GET)."""
        self.flashes[key] = value

    def take(self, key: str) -> Any:
        return self.flashes.pop(key, None)

    def expired(self, now: float) -> bool:
        if not self.signed_in:
            return now - self.started > LOGIN_TIMEOUT
        limits = [self.last_seen + IDLE_TIMEOUT, self.started + SIGNED_IN_FOR]
        return now > min([*limits, *([self.until] if self.until is not None else [])])

    def fields(self) -> dict[str, Any]:
        user = self.user
        return {
            "c": self.csrf_token,
            "s": self.started,
            "l": self.last_seen,
            "u": None if user is None else [user.user_id, user.role.value, user.team],
            "x": self.until,
            "f": self.flashes,
        }

    @classmethod
    def from_fields(cls, fields: Mapping[str, Any]) -> Session:
        user = fields["u"]
        return cls(
            csrf_token=str(fields["c"]),
            started=float(fields["s"]),
            last_seen=float(fields["l"]),
            user=None
            if user is None
            else Identity(user_id=user[0], role=ApiRole(user[1]), team=user[2]),
            until=None if fields["x"] is None else float(fields["x"]),
            flashes=dict(fields["f"]),
        )


class SessionSealer:
    """Seals sessions into cookie values and opens them: the first key seals, all open."""

    def __init__(self, keys: CodecKeys) -> None:
        self._sealing_id = keys.sealing_id
        self._ciphers = {key_id: AESGCM(key) for key_id, key in keys.keys.items()}

    def seal(self, session: Session, cookie: str) -> str:
        value = self._sealed(session.fields(), cookie)
        if len(value) > COOKIE_LIMIT and session.flashes:
            # A long form kept for its refusal: keep the refusal, not what was typed.
            kept = {k: _without_values(v) for k, v in session.flashes.items()}
            value = self._sealed(session.fields() | {"f": kept}, cookie)
        if len(value) > COOKIE_LIMIT:
            value = self._sealed(session.fields() | {"f": {}}, cookie)
        return value

    def _sealed(self, fields: dict[str, Any], cookie: str) -> str:
        nonce = os.urandom(NONCE_BYTES)
        plain = json.dumps(fields, separators=(",", ":")).encode()
        sealed = self._ciphers[self._sealing_id].encrypt(nonce, plain, cookie.encode())
        return f"{self._sealing_id}.{base64.urlsafe_b64encode(nonce + sealed).decode()}"

    def open(self, value: str | None, cookie: str) -> Session | None:
        """The session in `value`; None for no cookie, or one that does not open."""
        key_id, _, data = (value or "").partition(".")
        cipher = self._ciphers.get(key_id)
        if cipher is None:
            return None
        try:
            raw = base64.urlsafe_b64decode(data)
            plain = cipher.decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], cookie.encode())
            return Session.from_fields(json.loads(plain))
        except (InvalidTag, binascii.Error, ValueError, KeyError, TypeError, ValidationError):
            return None


def _without_values(flash: Any) -> Any:
    return flash | {"values": {}} if isinstance(flash, dict) and "values" in flash else flash


def session_keys(settings: Settings) -> CodecKeys:
    """CSE_SESSION_KEYS; on loopback alone, a key of this process if it is not set."""
    text = settings.session_keys.get_secret_value() if settings.session_keys else ""
    if text.strip():
        try:
            return CodecKeys.parse(text, SETTING)
        except CodecKeyError as err:
            raise StartupError(str(err)) from None
    if not is_loopback(settings.api_host):
        raise StartupError(
            f"{SETTING} is not set: dashboard sessions are sealed with it so that every API "
            "replica reads them and a restart signs nobody out; give the same "
            "`<key id>:<base64 of 32 bytes>` to every replica"
        )
    log.warning(
        "dashboard sessions sealed with a key of this process",
        setting=SETTING,
        effect="a restart signs everyone out, and another API process cannot read them",
    )
    return CodecKeys(sealing_id="process", keys={"process": os.urandom(32)})


def sealer_of(request: Request) -> SessionSealer:
    sealer: SessionSealer = request.app.state.dashboard_sessions
    return sealer


def new_session(user: Identity | None = None, until: float | None = None) -> Session:
    now = time.time()
    return Session(
        csrf_token=secrets.token_urlsafe(32), started=now, last_seen=now, user=user, until=until
    )


def _opened(request: Request, cookie: str) -> Session | None:
    session = sealer_of(request).open(request.cookies.get(cookie), cookie)
    now = time.time()
    if session is None or session.expired(now):
        return None
    session.last_seen = now
    return session


def signed_in_session(request: Request) -> Session | None:
    session = _opened(request, SESSION_COOKIE)
    return session if session is not None and session.signed_in else None


def login_session(request: Request) -> Session | None:
    session = _opened(request, LOGIN_COOKIE)
    return session if session is not None and not session.signed_in else None


@runtime_checkable
class UserDirectory(Protocol):
    def user(self, user_id: str) -> Identity | None:
        """The user of this id as the users file says now; None if it no longer has them."""
        ...


def session_user(request: Request, session: Session) -> Identity:
    """Who the session is for, as the API's users are now: a user the users file no longer
    has (or has with another role or team) is signed out. With OIDC, the identity the token
    carried, until the token expires (Session.until)."""
    user = session.user
    directory = request.app.state.authenticator
    if isinstance(directory, UserDirectory) and user and directory.user(user.user_id) != user:
        user = None
    if user is None:
        reason = "your sign-in is no longer valid: sign in again"
        api_log.warning(
            "unauthenticated", route=route_of(request), method=request.method, reason=reason
        )
        raise Unauthenticated(reason)
    return user


def keep(response: Response, request: Request, session: Session) -> None:
    """The session back to the browser: sealed again (last used now, flashes as they are),
    or cleared once it has ended."""
    if session.ended:
        clear_cookie(response, request, SESSION_COOKIE)
    else:
        set_cookie(response, request, SESSION_COOKIE, session)


def set_cookie(response: Response, request: Request, name: str, session: Session) -> None:
    response.set_cookie(
        name,
        sealer_of(request).seal(session, name),
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
