"""Production sign-in: OIDC JWTs validated with PyJWT against a JWKS file."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from api.app import create_app
from api.auth import ApiRole, StartupError, TokenRefused
from api.oidc import OidcTokens, load_oidc
from edge.settings import Settings
from tests.api.conftest import TEAM_A

ISSUER = "https://login.example.org/realms/council"
AUDIENCE = "cse-pathway-api"


def new_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="module")
def key() -> rsa.RSAPrivateKey:
    return new_key()


@pytest.fixture(scope="module")
def jwks_file(key: rsa.RSAPrivateKey, tmp_path_factory: pytest.TempPathFactory) -> Path:
    public = json.loads(RSAAlgorithm.to_jwk(key.public_key()))
    public.update({"kid": "council-1", "use": "sig", "alg": "RS256"})
    path = tmp_path_factory.mktemp("oidc") / "jwks.json"
    path.write_text(json.dumps({"keys": [public]}), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def oidc(jwks_file: Path) -> OidcTokens:
    settings = Settings(oidc_issuer=ISSUER, oidc_audience=AUDIENCE, oidc_jwks_file=jwks_file)
    return load_oidc(settings)


def token(key: rsa.RSAPrivateKey, kid: str = "council-1", **claims: Any) -> str:
    now = int(time.time())
    body = {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": "tm-a@example.org",
        "iat": now,
        "exp": now + 300,
        "cse_role": "team_manager",
        "cse_team": TEAM_A,
    }
    body.update(claims)
    body = {k: v for k, v in body.items() if v is not None}
    return jwt.encode(body, key, algorithm="RS256", headers={"kid": kid})


def test_a_good_token_names_the_user_their_role_and_team(
    oidc: OidcTokens, key: rsa.RSAPrivateKey
) -> None:
    identity = oidc.identify(token(key))

    assert identity.user_id == "tm-a@example.org"
    assert identity.role == ApiRole.team_manager
    assert identity.team == TEAM_A


@pytest.mark.parametrize(
    ("claims", "why"),
    [
        ({"aud": "another-service"}, "Audience"),
        ({"iss": "https://evil.example.org"}, "issuer"),
        ({"exp": int(time.time()) - 3600}, "expired"),
        ({"sub": None}, "sub"),
        ({"cse_role": "superuser"}, "claims do not name a user"),
        ({"cse_role": "social_worker", "cse_team": None}, "team"),
    ],
)
def test_a_token_failing_a_check_is_refused_saying_why(
    oidc: OidcTokens, key: rsa.RSAPrivateKey, claims: dict[str, Any], why: str
) -> None:
    with pytest.raises(TokenRefused, match=why):
        oidc.identify(token(key, **claims))


@pytest.mark.parametrize(
    "role", [ApiRole.mase_chair, ApiRole.police_spoc, ApiRole.specialist_safeguarding_lead]
)
def test_the_panels_members_are_roles_of_their_own_with_no_team(
    oidc: OidcTokens, key: rsa.RSAPrivateKey, role: ApiRole
) -> None:
    identity = oidc.identify(token(key, sub="member@example.org", cse_role=role.value))

    assert identity.role == role
    assert identity.team is None  # the provider's team claim does not narrow them


def test_a_token_signed_by_another_key_or_not_a_jwt_is_refused(
    oidc: OidcTokens, key: rsa.RSAPrivateKey
) -> None:
    with pytest.raises(TokenRefused, match="Signature verification failed"):
        oidc.identify(token(new_key()))
    with pytest.raises(TokenRefused, match="no key 'other'"):
        oidc.identify(token(key, kid="other"))
    with pytest.raises(TokenRefused, match="not a valid OIDC token"):
        oidc.identify("not-a-jwt")
    # alg "none" takes no key: PyJWT reads "" as None, the one key its types leave out
    unsigned = jwt.encode({"iss": ISSUER, "aud": AUDIENCE, "sub": "x"}, "", algorithm="none")
    with pytest.raises(TokenRefused):
        oidc.identify(unsigned)


def test_oidc_settings_that_are_incomplete_or_unreadable_stop_start_up(tmp_path: Path) -> None:
    with pytest.raises(StartupError, match="CSE_OIDC_AUDIENCE and CSE_OIDC_JWKS_FILE"):
        load_oidc(Settings(oidc_issuer=ISSUER))
    with pytest.raises(StartupError, match="No such file"):
        load_oidc(
            Settings(oidc_issuer=ISSUER, oidc_audience=AUDIENCE, oidc_jwks_file=tmp_path / "no")
        )
    broken = tmp_path / "jwks.json"
    broken.write_text('{"keys": "nope"}', encoding="utf-8")
    with pytest.raises(StartupError, match="not a usable JWKS"):
        load_oidc(Settings(oidc_issuer=ISSUER, oidc_audience=AUDIENCE, oidc_jwks_file=broken))


@pytest.fixture
async def oidc_api(api_settings: Settings, jwks_file: Path) -> AsyncIterator[httpx.AsyncClient]:
    settings = api_settings.model_copy(
        update={"oidc_issuer": ISSUER, "oidc_audience": AUDIENCE, "oidc_jwks_file": jwks_file}
    )
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://api") as client:
            yield client


@pytest.mark.e2e
async def test_the_api_accepts_oidc_tokens_when_configured(
    oidc_api: httpx.AsyncClient, key: rsa.RSAPrivateKey
) -> None:
    good = await oidc_api.get("/cases", headers={"Authorization": f"Bearer {token(key)}"})
    other_team = await oidc_api.get(
        "/cases", params={"team": "ELSEWHERE"}, headers={"Authorization": f"Bearer {token(key)}"}
    )
    expired = token(key, exp=int(time.time()) - 3600)
    refused = await oidc_api.get("/cases", headers={"Authorization": f"Bearer {expired}"})

    assert good.status_code == 200, good.text
    assert {c["team"] for c in good.json()["cases"]} <= {TEAM_A}
    assert other_team.status_code == 403
    assert refused.status_code == 401
    assert "expired" in refused.json()["detail"]


@pytest.mark.e2e
async def test_an_oidc_police_contact_reads_no_caseload_and_a_lead_reads_every_team(
    oidc_api: httpx.AsyncClient, key: rsa.RSAPrivateKey
) -> None:
    police = token(key, sub="police@example.org", cse_role="police_spoc")
    lead = token(key, sub="lead@example.org", cse_role="specialist_safeguarding_lead")

    refused = await oidc_api.get("/cases", headers={"Authorization": f"Bearer {police}"})
    listed = await oidc_api.get(
        "/cases", params={"team": "ELSEWHERE"}, headers={"Authorization": f"Bearer {lead}"}
    )

    assert refused.status_code == 403
    assert "police_spoc may not list cases" in refused.json()["detail"]
    assert listed.status_code == 200, listed.text
