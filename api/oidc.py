"""Production sign-in: bearer tokens are OIDC JWTs from the local authority's identity provider.

Enabled by CSE_OIDC_ISSUER. A token is accepted only if it is signed by a key of the JWKS file
(CSE_OIDC_JWKS_FILE, the provider's published keys, refreshed by deployment, not fetched at
run time) with the configured algorithm, was issued by the issuer for the audience
(CSE_OIDC_AUDIENCE), has not expired, and carries `sub` (the user id recorded as actor), a
role claim (CSE_OIDC_ROLE_CLAIM) naming one of the API's roles (api/auth.py's ApiRole, the
MASE panel's `mase_chair`, `police_spoc` and `specialist_safeguarding_lead` included) and, for
social workers and team managers, a team claim (CSE_OIDC_TEAM_CLAIM). Any other role's team
claim is ignored, as the users file ignores its `team`: their access is not a team's.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jwt
from pydantic import ValidationError

from api.auth import TEAM_ROLES, ApiRole, Identity, StartupError, TokenRefused
from edge.settings import Settings

LEEWAY_SECONDS = 30  # clock skew allowed between the provider and this service


class OidcTokens:
    def __init__(
        self,
        issuer: str,
        audience: str,
        keys: jwt.PyJWKSet,
        algorithm: str = "RS256",
        role_claim: str = "cse_role",
        team_claim: str = "cse_team",
    ) -> None:
        self.issuer = issuer
        self.audience = audience
        self.keys = keys
        self.algorithm = algorithm
        self.role_claim = role_claim
        self.team_claim = team_claim

    def identify(self, token: str) -> Identity:
        claims = self._verified_claims(token)
        try:
            role = ApiRole(str(claims.get(self.role_claim)))
            team = claims.get(self.team_claim) if role in TEAM_ROLES else None
            return Identity(user_id=claims["sub"], role=role, team=team)
        except (ValueError, ValidationError) as err:
            raise TokenRefused(
                f"the token's claims do not name a user of this service: {err}"
            ) from None

    def _verified_claims(self, token: str) -> dict[str, Any]:
        try:
            key = self._signing_key(jwt.get_unverified_header(token))
            claims: dict[str, Any] = jwt.decode(
                token,
                key.key,
                algorithms=[self.algorithm],
                audience=self.audience,
                issuer=self.issuer,
                leeway=LEEWAY_SECONDS,
                options={"require": ["exp", "iss", "aud", "sub"]},
            )
        except jwt.PyJWTError as err:
            raise TokenRefused(f"the token is not a valid OIDC token: {err}") from None
        return claims

    def _signing_key(self, header: dict[str, Any]) -> jwt.PyJWK:
        kid = header.get("kid")
        if kid is None and len(self.keys.keys) == 1:
            return self.keys.keys[0]
        try:
            return self.keys[str(kid)]
        except KeyError:
            raise jwt.InvalidTokenError(f"no key {kid!r} in the JWKS file") from None


def load_oidc(settings: Settings) -> OidcTokens:
    """The OIDC checker the settings describe; a missing or bad setting names itself."""
    missing = [
        name
        for name, value in (
            ("CSE_OIDC_AUDIENCE", settings.oidc_audience),
            ("CSE_OIDC_JWKS_FILE", settings.oidc_jwks_file),
        )
        if not value
    ]
    if missing:
        raise StartupError(f"CSE_OIDC_ISSUER is set, so {' and '.join(missing)} must be too")
    return OidcTokens(
        issuer=str(settings.oidc_issuer),
        audience=str(settings.oidc_audience),
        keys=_load_jwks(Path(str(settings.oidc_jwks_file))),
        algorithm=settings.oidc_algorithm,
        role_claim=settings.oidc_role_claim,
        team_claim=settings.oidc_team_claim,
    )


def _load_jwks(path: Path) -> jwt.PyJWKSet:
    try:
        return jwt.PyJWKSet.from_json(path.read_text(encoding="utf-8"))
    except OSError as err:
        raise StartupError(f"CSE_OIDC_JWKS_FILE {path}: {err.strerror}") from None
    except (jwt.PyJWTError, ValueError) as err:
        raise StartupError(f"CSE_OIDC_JWKS_FILE {path}: not a usable JWKS: {err}") from None
