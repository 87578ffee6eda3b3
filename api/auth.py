"""Who may call the API, and what each role may do.

Callers present a bearer token. By default the token is checked against the users file
(CSE_USERS_FILE, TOML), which keeps only each token's SHA-256 digest, never the token:

    [users.sw-rai2-1]
    role = "social_worker"
    team = "RAI-2"
    token_sha256 = "<64 hex characters>"

With CSE_OIDC_ISSUER set, tokens are OIDC JWTs instead (api/oidc.py).

| role | may |
|---|---|
| intake | start cases (POST /referrals); nothing else |
| social_worker | their team's cases: list, read, forecast, record every event but `close` |
| team_manager | as social_worker, and `close` |
| head_of_service | every team's cases: list, read, forecast, record every event |
| analyst | aggregates only: list cases and the forecast with case references withheld |
"""

from __future__ import annotations

import hashlib
import hmac
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Protocol

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
    model_validator,
)

from edge.config_files import FileRefused, read_toml

UserId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.@-]{0,127}$")]
TeamName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]


class StartupError(Exception):
    """The API cannot start as configured; the message names the file or setting."""


class ApiRole(StrEnum):
    intake = "intake"
    social_worker = "social_worker"
    team_manager = "team_manager"
    head_of_service = "head_of_service"
    analyst = "analyst"


class Permission(StrEnum):
    create_referral = "create_referral"
    list_cases = "list_cases"
    read_case = "read_case"
    record_event = "record_event"
    close_case = "close_case"
    forecast = "forecast"
    read_panel_agenda = "read_panel_agenda"
    read_oversight_report = "read_oversight_report"


_CASEWORK = {
    Permission.list_cases,
    Permission.read_case,
    Permission.record_event,
    Permission.forecast,
}
PERMISSIONS: dict[ApiRole, frozenset[Permission]] = {
    ApiRole.intake: frozenset({Permission.create_referral}),
    ApiRole.social_worker: frozenset(_CASEWORK),
    ApiRole.team_manager: frozenset(
        _CASEWORK | {Permission.close_case, Permission.read_panel_agenda}
    ),
    ApiRole.head_of_service: frozenset(
        _CASEWORK
        | {Permission.close_case, Permission.read_panel_agenda, Permission.read_oversight_report}
    ),
    ApiRole.analyst: frozenset(
        {Permission.list_cases, Permission.forecast, Permission.read_oversight_report}
    ),
}
TEAM_ROLES = {ApiRole.social_worker, ApiRole.team_manager}

EVENT_PERMISSIONS: dict[str, Permission] = {"close": Permission.close_case}
"""Events that need a permission of their own besides `record_event` (closing a case is a
manager's decision): the one table the API's routes, the dashboard and the docs read."""


def permission_to_record(event: str) -> Permission | None:
    """What recording `event` needs besides `record_event`, if anything."""
    return EVENT_PERMISSIONS.get(event)


class Identity(BaseModel):
    """The authenticated caller: recorded as the `actor` of every event they record."""

    model_config = ConfigDict(frozen=True)
    user_id: UserId
    role: ApiRole
    team: TeamName | None = None

    @model_validator(mode="after")
    def _team_roles_have_a_team(self) -> Identity:
        if self.role in TEAM_ROLES and self.team is None:
            raise ValueError(f"team: a {self.role.value} must belong to a team")
        return self

    def may(self, permission: Permission) -> bool:
        return permission in PERMISSIONS[self.role]

    def may_record(self, event: str) -> bool:
        extra = permission_to_record(event)
        return self.may(Permission.record_event) and (extra is None or self.may(extra))

    @property
    def sees_every_team(self) -> bool:
        return self.role not in TEAM_ROLES

    @property
    def sees_case_references(self) -> bool:
        return self.role != ApiRole.analyst

    def may_see_team(self, team: str | None) -> bool:
        return self.sees_every_team or (team is not None and team == self.team)


class Authenticator(Protocol):
    def identify(self, token: str) -> Identity:
        """The caller holding `token`; raises TokenRefused saying why not."""
        ...


class TokenRefused(Exception):
    """The token identifies nobody; the message says why (never the token itself)."""


# ---- the users file ----------------------------------------------------------------------


class UserEntry(BaseModel):
    model_config = ConfigDict(extra="forbid")
    role: ApiRole
    team: TeamName | None = None
    token_sha256: str

    @field_validator("token_sha256")
    @classmethod
    def _a_sha256_digest(cls, value: str) -> str:
        if len(value) != 64 or any(c not in "0123456789abcdefABCDEF" for c in value):
            raise ValueError("must be the token's SHA-256 digest: 64 hexadecimal characters")
        return value.lower()

    @model_validator(mode="after")
    def _team_roles_have_a_team(self) -> UserEntry:
        if self.role in TEAM_ROLES and self.team is None:
            raise ValueError(f"team: a {self.role.value} must belong to a team")
        return self

    def identity(self, user_id: str) -> Identity:
        team = self.team if self.role in TEAM_ROLES else None
        return Identity(user_id=user_id, role=self.role, team=team)


class UsersFile(BaseModel):
    model_config = ConfigDict(extra="forbid")
    users: Annotated[dict[UserId, UserEntry], Field(min_length=1)]

    @model_validator(mode="after")
    def _one_user_per_token(self) -> UsersFile:
        digests = [entry.token_sha256 for entry in self.users.values()]
        if len(set(digests)) != len(digests):
            raise ValueError("users: two users share a token_sha256; give each user a token")
        return self


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


class UsersFileTokens:
    """Bearer tokens checked against the users file's digests, in constant time."""

    def __init__(self, users: UsersFile) -> None:
        self._known = [
            (bytes.fromhex(entry.token_sha256), entry.identity(user_id))
            for user_id, entry in users.users.items()
        ]

    def identify(self, token: str) -> Identity:
        presented = hashlib.sha256(token.encode("utf-8")).digest()
        found: Identity | None = None
        for digest, identity in self._known:  # every digest compared: no early exit
            if hmac.compare_digest(presented, digest):
                found = identity
        if found is None:
            raise TokenRefused("the token is not one the users file knows")
        return found

    def user(self, user_id: str) -> Identity | None:
        """The user of this id, as the file says (a dashboard session's user, checked again)."""
        return next((i for _, i in self._known if i.user_id == user_id), None)


def load_users_file(path: Path) -> UsersFileTokens:
    """Read and check the users file; a missing or malformed file names the problem."""
    try:
        return UsersFileTokens(read_toml(path, UsersFile, "users file"))
    except FileRefused as err:
        raise StartupError(str(err)) from None
