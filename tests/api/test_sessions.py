"""Dashboard sessions sealed in their cookie (api/dashboard/sessions.py): what the cookie holds
and does not, who can open it, when it ends, and the setting that keys it."""

from __future__ import annotations

import base64
import re
import secrets
import subprocess
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from pydantic import SecretStr

from api.app import create_app
from api.auth import ApiRole, Identity, StartupError, token_digest
from api.dashboard import sessions
from api.dashboard.sessions import LOGIN_COOKIE, SESSION_COOKIE, SessionSealer, new_session
from edge.codec import CodecKeys, new_key_item
from edge.settings import Settings
from tests.e2e.conftest import PYTHON, REPO, clean_env

USER = Identity(user_id="sw-a@example.org", role=ApiRole.social_worker, team="TEAM-A")
KEY_1, KEY_2 = new_key_item("session-1"), new_key_item("session-2")


def sealer(keys: str) -> SessionSealer:
    return SessionSealer(CodecKeys.parse(keys))


def test_a_session_opens_on_any_replica_with_the_key_and_holds_no_token() -> None:
    session = new_session(USER)
    session.flash("notice:R-1", "Decide recorded")
    cookie = sealer(KEY_1).seal(session, SESSION_COOKIE)

    opened = sealer(KEY_1).open(cookie, SESSION_COOKIE)  # another process, the same key

    assert opened is not None
    assert (opened.user, opened.csrf_token) == (USER, session.csrf_token)
    assert opened.take("notice:R-1") == "Decide recorded"
    assert cookie.startswith("session-1.")
    sealed = base64.urlsafe_b64decode(cookie.partition(".")[2])
    for clear in (b"sw-a", b"TEAM-A", b"Decide", session.csrf_token.encode()):
        assert clear not in sealed  # encrypted, not only signed


def test_an_altered_cookie_another_key_or_the_other_cookies_name_opens_nothing() -> None:
    cookie = sealer(KEY_1).seal(new_session(USER), SESSION_COOKIE)
    key_id, _, data = cookie.partition(".")
    raw = bytearray(base64.urlsafe_b64decode(data))
    raw[-1] ^= 1
    altered = f"{key_id}.{base64.urlsafe_b64encode(bytes(raw)).decode()}"
    same_id_other_key = new_key_item("session-1")

    assert sealer(KEY_1).open(altered, SESSION_COOKIE) is None
    assert sealer(same_id_other_key).open(cookie, SESSION_COOKIE) is None
    assert sealer(KEY_2).open(cookie, SESSION_COOKIE) is None
    assert sealer(KEY_1).open(cookie, LOGIN_COOKIE) is None  # a login cookie cannot stand in
    for junk in (None, "", "session-1", "session-1.!!!", "session-1.YWJj", "x.y.z"):
        assert sealer(KEY_1).open(junk, SESSION_COOKIE) is None


def test_rotation_the_first_key_seals_and_every_key_opens() -> None:
    old = sealer(KEY_1).seal(new_session(USER), SESSION_COOKIE)
    rotated = sealer(f"{KEY_2},{KEY_1}")

    assert rotated.open(old, SESSION_COOKIE) is not None
    assert rotated.seal(new_session(USER), SESSION_COOKIE).startswith("session-2.")


def test_sessions_end_after_inactivity_a_working_day_or_their_tokens_expiry() -> None:
    login, signed_in = new_session(), new_session(USER)
    start = signed_in.started

    assert login.expired(start + sessions.LOGIN_TIMEOUT + 1)
    assert not signed_in.expired(start + sessions.LOGIN_TIMEOUT + 1)
    assert signed_in.expired(start + sessions.IDLE_TIMEOUT + 1)
    signed_in.last_seen = start + sessions.IDLE_TIMEOUT  # in use all day
    assert not signed_in.expired(start + sessions.IDLE_TIMEOUT + 1)
    assert signed_in.expired(start + sessions.SIGNED_IN_FOR + 1)
    oidc = new_session(USER, until=start + 600)
    assert oidc.expired(start + 601)


def test_a_form_too_long_for_a_cookie_keeps_its_refusal_not_what_was_typed() -> None:
    session = new_session(USER)
    session.flash("form:referral", {"values": {"summary": "x" * 5000}, "problems": {"a": "b"}})

    cookie = sealer(KEY_1).seal(session, SESSION_COOKIE)

    assert len(cookie) <= sessions.COOKIE_LIMIT
    opened = sealer(KEY_1).open(cookie, SESSION_COOKIE)
    assert opened is not None
    assert opened.take("form:referral") == {"values": {}, "problems": {"a": "b"}}


def settings(**values: Any) -> Settings:
    base: dict[str, Any] = {
        "users_file": REPO / "config" / "users.example.toml",
        "policy_dir": REPO / "policies",
        "plaintext_payloads": True,
    }
    return Settings(**(base | values))


def test_beyond_loopback_the_api_refuses_to_start_without_session_keys() -> None:
    with pytest.raises(StartupError, match="CSE_SESSION_KEYS is not set"):
        create_app(settings(api_host="0.0.0.0"))
    with pytest.raises(StartupError, match="CSE_SESSION_KEYS item 1"):
        create_app(settings(api_host="10.1.2.3", session_keys=SecretStr("session-1:short")))
    assert create_app(settings(api_host="10.1.2.3", session_keys=SecretStr(KEY_1)))
    assert create_app(settings(api_host="127.0.0.1"))  # loopback: a key of its own


def test_python_m_api_exits_2_naming_the_setting() -> None:
    env = clean_env(CSE_API_HOST="0.0.0.0", CSE_POLICY_DIR=str(REPO / "policies"))
    proc = subprocess.run(
        [str(PYTHON), "-m", "api"], cwd=REPO, env=env, capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 2
    assert "api not started: CSE_SESSION_KEYS is not set" in proc.stderr


# ---- the user is looked up again on every page ------------------------------------------------

INTAKE_TOKEN = secrets.token_urlsafe(24)


def users_file(tmp_path: Path, name: str, role: str | None) -> Path:
    path = tmp_path / name
    digest = token_digest(INTAKE_TOKEN)
    entry = f'[users."mash@example.org"]\nrole = "{role}"\ntoken_sha256 = "{digest}"\n'
    other = f'[users."hos@example.org"]\nrole = "head_of_service"\ntoken_sha256 = "{"0" * 64}"\n'
    path.write_text((entry if role else "") + other, encoding="utf-8")
    return path


def replica(users: Path) -> FastAPI:
    return create_app(settings(users_file=users, session_keys=SecretStr(KEY_1)))


async def referral_form(app: FastAPI, cookie: str) -> int:
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://dash"
    ) as client:
        client.cookies.set(SESSION_COOKIE, cookie, path="/dashboard")
        return (await client.get("/dashboard/referrals/new")).status_code


async def signed_in_cookie(app: FastAPI) -> str:
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://dash"
    ) as client:
        login = await client.get("/dashboard/login")
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', login.text)
        assert csrf
        form = {"token": INTAKE_TOKEN, "csrf_token": csrf.group(1)}
        answer = await client.post("/dashboard/login", data=form, headers={"Origin": "http://dash"})
        assert answer.status_code == 303, answer.text
        cookie = client.cookies.get(SESSION_COOKIE)
        assert cookie
        assert INTAKE_TOKEN not in cookie
        return cookie


async def test_a_user_taken_out_of_the_users_file_or_given_another_role_is_signed_out(
    tmp_path: Path,
) -> None:
    same = users_file(tmp_path, "same.toml", "intake")
    cookie = await signed_in_cookie(replica(same))

    assert await referral_form(replica(same), cookie) == 200  # a restart, or another replica
    assert await referral_form(replica(users_file(tmp_path, "gone.toml", None)), cookie) == 303
    assert (
        await referral_form(replica(users_file(tmp_path, "moved.toml", "analyst")), cookie) == 303
    )
