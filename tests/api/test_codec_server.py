"""The codec server (Temporal's remote codec protocol) through the HTTP API, in-process: who
may seal and open payloads, the namespace it serves, CORS for the Web UI's origin alone, the
dashboard session from the Web UI, and logs that never carry a payload.

No Temporal is needed: the app is built without running its lifespan (the codec routes use no
Temporal client), with a key made for this module."""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from pydantic import SecretStr
from structlog.testing import capture_logs
from temporalio.api.common.v1 import Payload

from api.app import create_app
from edge.codec import CodecKeys, SealingCodec, new_key_item
from edge.converter import sealed_data_converter
from edge.settings import Settings
from tests.api.conftest import User, Users
from tests.e2e.conftest import REPO

KEYS = new_key_item("codec-test-1")
WEB_UI = "http://127.0.0.1:8233"
CHILD = {"child_ref": "PERSON-CODEC-1", "summary": "sealed summary", "team": "RAI-2"}
CSRF_FIELD = 'name="csrf_token" value="'


def settings_for(users_file: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "users_file": users_file,
        "policy_dir": REPO / "policies",
        "codec_keys": SecretStr(KEYS),
        "plaintext_payloads": False,
        "codec_cors_origin": WEB_UI,
        "temporal_namespace": "default",
    }
    return Settings(**(values | overrides))


@pytest.fixture(scope="module")
def codec_app(users_file: Path) -> FastAPI:
    return create_app(settings_for(users_file))


@pytest.fixture
async def client(codec_app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=codec_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://api") as opened:
        yield opened


def b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


def as_json(payload: Payload) -> dict[str, Any]:
    """A payload in protobuf JSON, as the CLI and the Web UI send it."""
    metadata = {key: b64(value) for key, value in payload.metadata.items()}
    return {"metadata": metadata, "data": b64(payload.data)}


def plain(value: Any) -> dict[str, Any]:
    return as_json(Payload(metadata={"encoding": b"json/plain"}, data=json.dumps(value).encode()))


async def sealed_by_the_service(value: Any) -> dict[str, Any]:
    """`value` as the service's own clients store it: the project's converter, sealed."""
    (payload,) = await sealed_data_converter(CodecKeys.parse(KEYS)).encode([value])
    return as_json(payload)


def headers(user: User | None = None, namespace: str | None = "default") -> dict[str, str]:
    found = dict(user.headers) if user is not None else {}
    if namespace is not None:
        found["X-Namespace"] = namespace
    return found


async def codec(
    client: httpx.AsyncClient, op: str, payloads: list[dict[str, Any]], **kw: Any
) -> httpx.Response:
    return await client.post(f"/codec/{op}", json={"payloads": payloads}, **kw)


# ---- an authorised caller ------------------------------------------------------------------


async def test_an_authorised_token_round_trips_encode_then_decode(
    client: httpx.AsyncClient, users: Users
) -> None:
    original = plain(CHILD)

    encoded = await codec(client, "encode", [original], headers=headers(users.head_of_service))

    assert encoded.status_code == 200, encoded.text
    (sealed,) = encoded.json()["payloads"]
    assert base64.b64decode(sealed["metadata"]["encoding"]) == b"binary/encrypted"
    assert base64.b64decode(sealed["metadata"]["encryption-key-id"]) == b"codec-test-1"
    assert b"PERSON-CODEC-1" not in base64.b64decode(sealed["data"])
    decoded = await codec(client, "decode", [sealed], headers=headers(users.head_of_service))
    assert decoded.status_code == 200, decoded.text
    assert decoded.json()["payloads"] == [original]


async def test_a_payload_the_service_sealed_decodes_to_its_plaintext_and_is_logged_without_it(
    client: httpx.AsyncClient, users: Users
) -> None:
    sealed = await sealed_by_the_service(CHILD)
    unsealed = plain({"stage": "assessment"})  # e.g. a history recorded before sealing

    with capture_logs() as logs:
        answer = await codec(
            client, "decode", [sealed, unsealed], headers=headers(users.head_of_service)
        )

    assert answer.status_code == 200, answer.text
    opened, passed = answer.json()["payloads"]
    assert base64.b64decode(opened["metadata"]["encoding"]) == b"json/plain"
    assert json.loads(base64.b64decode(opened["data"])) == CHILD
    assert passed == unsealed
    assert [entry["event"] for entry in logs] == ["payloads decoded"]
    assert logs[0]["user"] == users.head_of_service.user_id
    assert logs[0]["count"] == 2
    assert "PERSON-CODEC-1" not in str(logs)


async def test_no_namespace_header_is_the_services_own_namespace(
    client: httpx.AsyncClient, users: Users
) -> None:
    answer = await codec(
        client, "decode", [plain(1)], headers=headers(users.head_of_service, namespace=None)
    )

    assert answer.status_code == 200


# ---- refusals --------------------------------------------------------------------------------


async def test_no_token_or_an_unknown_one_is_401(client: httpx.AsyncClient) -> None:
    sealed = await sealed_by_the_service(CHILD)

    with capture_logs() as logs:
        missing = await codec(client, "decode", [sealed], headers=headers())
        unknown = await codec(
            client, "decode", [sealed], headers={"Authorization": "Bearer not-a-token"}
        )

    for answer in (missing, unknown):
        assert answer.status_code == 401
        assert answer.headers["WWW-Authenticate"] == "Bearer"
        assert "PERSON-CODEC-1" not in answer.text
    assert "--codec-auth" in missing.json()["detail"]
    assert [entry["event"] for entry in logs] == ["unauthenticated"] * 2
    assert "not-a-token" not in str(logs)


@pytest.mark.parametrize("op", ["decode", "encode"])
async def test_roles_that_may_not_read_every_teams_cases_are_403(
    client: httpx.AsyncClient, users: Users, op: str
) -> None:
    sealed = await sealed_by_the_service(CHILD)
    refused = {
        users.analyst: "may not open a case",
        users.intake: "may not open a case",
        users.social_worker_a: "decodes only for roles that may open every team's cases",
        users.social_worker_b: "decodes only for roles that may open every team's cases",
        users.manager_a: "decodes only for roles that may open every team's cases",
        users.specialist_lead: "decodes only for roles that may open every team's cases",
        users.mase_chair: "decodes only for roles that may open every team's cases",
        users.police_spoc: "may not open a case",
    }

    with capture_logs() as logs:
        answers = {
            user: await codec(client, op, [sealed], headers=headers(user)) for user in refused
        }

    for user, reason in refused.items():
        assert answers[user].status_code == 403, user.role
        assert reason in answers[user].json()["detail"]
        assert "PERSON-CODEC-1" not in answers[user].text
    assert {entry["event"] for entry in logs} == {"forbidden"}
    assert {entry["user"] for entry in logs} == {user.user_id for user in refused}
    assert "PERSON-CODEC-1" not in str(logs)


async def test_another_namespace_is_refused(client: httpx.AsyncClient, users: Users) -> None:
    sealed = await sealed_by_the_service(CHILD)

    answer = await codec(
        client, "decode", [sealed], headers=headers(users.head_of_service, "other-ns")
    )

    assert answer.status_code == 403
    assert answer.json()["detail"] == "this codec server serves namespace default"


async def test_a_payload_sealed_with_an_unknown_key_or_not_base64_is_422(
    client: httpx.AsyncClient, users: Users
) -> None:
    foreign = SealingCodec(CodecKeys.parse(new_key_item("elsewhere-1"))).seal(
        Payload(metadata={"encoding": b"json/plain"}, data=b'"PERSON-CODEC-2"')
    )
    hos = headers(users.head_of_service)

    with capture_logs() as logs:
        unknown_key = await codec(client, "decode", [plain(1), as_json(foreign)], headers=hos)
    not_base64 = await codec(client, "decode", [{"data": "AAAAA"}], headers=hos)

    assert unknown_key.status_code == 422
    assert unknown_key.json()["errors"][0]["field"] == "body.payloads.1"
    assert "'elsewhere-1', which CSE_CODEC_KEYS does not hold" in unknown_key.text
    assert [entry["event"] for entry in logs] == ["payload not opened"]
    assert not_base64.status_code == 422
    assert "AAAAA" not in not_base64.text


async def test_with_plaintext_payloads_the_codec_server_says_encryption_is_off(
    users_file: Path, users: Users
) -> None:
    app = create_app(settings_for(users_file, codec_keys=None, plaintext_payloads=True))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://api") as client:
        answer = await codec(client, "decode", [plain(1)], headers=headers(users.head_of_service))
        refused = await codec(client, "decode", [plain(1)], headers=headers(users.analyst))

    assert answer.status_code == 404
    assert "encryption is off" in answer.json()["detail"]
    assert refused.status_code == 403, "who may call it is checked first"


# ---- the Web UI: CORS and the dashboard session ----------------------------------------------


def preflight(origin: str) -> dict[str, str]:
    return {
        "Origin": origin,
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type,x-namespace",
    }


@pytest.mark.parametrize("path", ["/codec/decode", "/dashboard/codec/decode"])
async def test_cors_lets_in_the_web_uis_origin_alone(client: httpx.AsyncClient, path: str) -> None:
    allowed = await client.options(path, headers=preflight(WEB_UI))
    foreign = await client.options(path, headers=preflight("https://elsewhere.example.org"))

    assert allowed.status_code == 200
    assert allowed.headers["access-control-allow-origin"] == WEB_UI
    assert allowed.headers["access-control-allow-credentials"] == "true"
    assert "x-namespace" in allowed.headers["access-control-allow-headers"].lower()
    assert "POST" in allowed.headers["access-control-allow-methods"]
    assert foreign.status_code == 400
    assert "access-control-allow-origin" not in foreign.headers


async def test_cors_is_on_the_codec_routes_alone(client: httpx.AsyncClient) -> None:
    answer = await client.get("/cases", headers={"Origin": WEB_UI})
    options = await client.options("/referrals", headers=preflight(WEB_UI))

    assert "access-control-allow-origin" not in answer.headers
    assert "access-control-allow-origin" not in options.headers


async def signed_in(client: httpx.AsyncClient, user: User) -> None:
    login = await client.get("/dashboard/login")
    csrf = login.text.split(CSRF_FIELD, 1)[1].split('"', 1)[0]
    answer = await client.post(
        "/dashboard/login",
        data={"token": user.token, "csrf_token": csrf},
        headers={"Origin": "http://api"},
    )
    assert answer.status_code == 303, answer.text


async def test_the_web_ui_decodes_with_the_dashboard_session_from_its_own_origin(
    client: httpx.AsyncClient, users: Users
) -> None:
    await signed_in(client, users.head_of_service)
    sealed = await sealed_by_the_service(CHILD)
    body = {"payloads": [sealed]}

    from_ui = await client.post(
        "/dashboard/codec/decode", json=body, headers={"Origin": WEB_UI, "X-Namespace": "default"}
    )
    from_elsewhere = await client.post(
        "/dashboard/codec/decode", json=body, headers={"Origin": "http://127.0.0.1:9999"}
    )
    no_origin = await client.post("/dashboard/codec/decode", json=body)
    cookie_not_sent_to_codec = await client.post("/codec/decode", json=body)

    assert from_ui.status_code == 200, from_ui.text
    assert from_ui.headers["access-control-allow-origin"] == WEB_UI
    assert json.loads(base64.b64decode(from_ui.json()["payloads"][0]["data"])) == CHILD
    assert from_elsewhere.status_code == no_origin.status_code == 401
    assert cookie_not_sent_to_codec.status_code == 401, "the cookie's path is /dashboard"


async def test_a_dashboard_session_is_held_to_the_same_rule(
    client: httpx.AsyncClient, users: Users
) -> None:
    await signed_in(client, users.social_worker_a)

    answer = await client.post(
        "/dashboard/codec/decode",
        json={"payloads": [await sealed_by_the_service(CHILD)]},
        headers={"Origin": WEB_UI},
    )

    assert answer.status_code == 403
    assert "PERSON-CODEC-1" not in answer.text
