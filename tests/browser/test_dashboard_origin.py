"""The dashboard's defences that need no Temporal (httpx over ASGI, the app's lifespan not run):
state-changing requests only from the service's own origin (Origin, else Referer), cookies
Secure as CSE_COOKIE_SECURE says (unset: unless the API listens on loopback), and a
Referrer-Policy that keeps case ids out of other sites' logs."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from pydantic import SecretStr
from structlog.testing import capture_logs

from api.app import create_app
from api.same_origin import is_loopback, origin_of, secure_cookies
from edge.codec import new_key_item
from edge.settings import Settings
from tests.api.conftest import User, Users
from tests.e2e.conftest import REPO

BASE = "http://dash"  # the origin the in-process requests are addressed to
PUBLIC = "https://cse.example.org"  # CSE_PUBLIC_URL: where users open it, behind a proxy
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def settings_for(users_file: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "users_file": users_file,
        "policy_dir": REPO / "policies",
        "codec_keys": SecretStr(new_key_item("dash-test-1")),
        "session_keys": SecretStr(new_key_item("dash-session-1")),
        "plaintext_payloads": False,
        "public_url": f"{PUBLIC}/",
        "api_host": "127.0.0.1",
    }
    return Settings(**(values | overrides))


@pytest.fixture(scope="module")
def dash_app(users_file: Path) -> FastAPI:
    return create_app(settings_for(users_file))


def client_of(app: FastAPI) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE)


@pytest.fixture
async def client(dash_app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with client_of(dash_app) as opened:
        yield opened


def csrf_of(html: str) -> str:
    found = CSRF.search(html)
    assert found, "the page has no CSRF token"
    return found.group(1)


async def login_form(client: httpx.AsyncClient, user: User) -> dict[str, str]:
    """A valid login form for `user`: its CSRF token comes from the page."""
    page = await client.get("/dashboard/login")
    return {"token": user.token, "csrf_token": csrf_of(page.text)}


# ---- Origin, then Referer ------------------------------------------------------------------


@pytest.mark.parametrize(
    "sent",
    [
        {"Origin": "https://evil.example.org"},
        {"Origin": "http://dash:8080"},  # same host, another port: another origin
        {"Origin": "null"},  # a sandboxed page, or one that withholds its origin
        {"Referer": "https://evil.example.org/dashboard/login"},
        {},  # neither: a browser always sends one with a POST
    ],
)
async def test_a_post_from_another_origin_is_refused_even_with_a_valid_csrf_token(
    client: httpx.AsyncClient, users: Users, sent: dict[str, str]
) -> None:
    form = await login_form(client, users.head_of_service)

    with capture_logs() as logs:
        answer = await client.post("/dashboard/login", data=form, headers=sent)

    assert answer.status_code == 403
    assert "did not come from a page of this service" in answer.text
    assert not any(c.startswith("cse_session=") for c in answer.headers.get_list("set-cookie"))
    assert [entry["event"] for entry in logs] == ["foreign origin refused"]
    assert users.head_of_service.token not in str(logs)
    assert form["csrf_token"] not in str(logs)


@pytest.mark.parametrize(
    "sent",
    [
        {"Origin": BASE},  # the origin the request was addressed to
        {"Origin": PUBLIC},  # CSE_PUBLIC_URL's, as a browser behind a TLS proxy sends it
        {"Referer": f"{BASE}/dashboard/login?next=%2Fdashboard%2F"},  # no Origin: Referer's
        {"Referer": f"{PUBLIC}/dashboard/login"},
    ],
)
async def test_a_post_from_the_services_own_origin_is_accepted(
    client: httpx.AsyncClient, users: Users, sent: dict[str, str]
) -> None:
    form = await login_form(client, users.head_of_service)

    answer = await client.post("/dashboard/login", data=form, headers=sent)

    assert answer.status_code == 303, answer.text
    assert answer.headers["location"] == "/dashboard/"


async def test_origin_is_judged_before_referer(client: httpx.AsyncClient, users: Users) -> None:
    form = await login_form(client, users.head_of_service)
    mixed = {"Origin": "https://evil.example.org", "Referer": f"{BASE}/dashboard/login"}

    answer = await client.post("/dashboard/login", data=form, headers=mixed)

    assert answer.status_code == 403


async def test_signing_out_from_another_origin_keeps_the_session(
    client: httpx.AsyncClient, users: Users
) -> None:
    form = await login_form(client, users.head_of_service)
    await client.post("/dashboard/login", data=form, headers={"Origin": BASE})
    home = await client.get("/dashboard/login")  # signed in: sent on to the caseload
    assert home.status_code == 303

    refused = await client.post(
        "/dashboard/logout",
        data={"csrf_token": "irrelevant"},
        headers={"Origin": "https://evil.example.org"},
    )

    assert refused.status_code == 403
    assert (await client.get("/dashboard/login")).status_code == 303, "still signed in"


# ---- Secure cookies ------------------------------------------------------------------------


def cookie_line(answer: httpx.Response, name: str) -> str:
    return next(c for c in answer.headers.get_list("set-cookie") if c.startswith(f"{name}="))


@pytest.mark.parametrize(
    ("overrides", "secure"),
    [
        ({"cookie_secure": True}, True),
        ({"cookie_secure": True, "api_host": "127.0.0.1"}, True),
        ({"cookie_secure": False, "api_host": "0.0.0.0"}, False),
        ({"cookie_secure": None, "api_host": "127.0.0.1"}, False),
        ({"cookie_secure": None, "api_host": "::1"}, False),
        ({"cookie_secure": None, "api_host": "localhost"}, False),
        ({"cookie_secure": None, "api_host": "0.0.0.0"}, True),
        ({"cookie_secure": None, "api_host": "10.1.2.3"}, True),
    ],
)
async def test_cookies_are_secure_as_the_setting_says_whatever_the_requests_scheme(
    users_file: Path, users: Users, overrides: dict[str, Any], secure: bool
) -> None:
    app = create_app(settings_for(users_file, **overrides))
    async with client_of(app) as client:  # plain http, as behind a TLS-terminating proxy
        page = await client.get("/dashboard/login")
        login_id = cookie_line(page, "cse_login").split(";")[0]  # httpx keeps no Secure cookie
        form = {"token": users.head_of_service.token, "csrf_token": csrf_of(page.text)}
        signed_in = await client.post(
            "/dashboard/login", data=form, headers={"Origin": BASE, "Cookie": login_id}
        )

    assert signed_in.status_code == 303, signed_in.text
    for line in (
        cookie_line(page, "cse_login"),
        cookie_line(signed_in, "cse_session"),
        cookie_line(signed_in, "cse_login"),  # the login cookie cleared
    ):
        assert ("; secure" in line.lower()) is secure, line


def test_loopback_hosts_and_secure_defaults() -> None:
    assert all(is_loopback(h) for h in ["127.0.0.1", "127.8.9.10", "::1", "[::1]", "localhost"])
    assert not any(is_loopback(h) for h in ["0.0.0.0", "::", "10.0.0.1", "cse.example.org"])
    assert secure_cookies(Settings(api_host="0.0.0.0", plaintext_payloads=True))
    assert not secure_cookies(Settings(api_host="127.0.0.1", plaintext_payloads=True))


def test_an_origin_is_scheme_host_and_port_only() -> None:
    assert origin_of("HTTPS://CSE.example.org:443/dashboard/x?y") == "https://cse.example.org"
    assert origin_of("http://127.0.0.1:8000/") == "http://127.0.0.1:8000"
    assert origin_of("http://[::1]:8000") == "http://[::1]:8000"
    assert origin_of("null") is None
    assert origin_of("javascript:alert(1)") is None
    assert origin_of("http://host:99999") is None


# ---- Referrer-Policy -----------------------------------------------------------------------


async def test_every_answer_keeps_its_url_from_other_sites(client: httpx.AsyncClient) -> None:
    answers = [
        await client.get("/dashboard/login"),
        await client.get("/dashboard/static/dashboard.css"),
        await client.get("/dashboard/"),  # a redirect to sign in
        await client.get("/cases/R-1"),  # the API's own 401
        await client.get("/openapi.json"),
    ]

    for answer in answers:
        assert answer.headers["referrer-policy"] == "same-origin", answer.url
