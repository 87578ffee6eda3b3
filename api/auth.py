"""Who may call the API, and what each role may do.

Callers present a bearer token. By default the token is checked against the users file
(CSE_USERS_FILE, TOML), which keeps only each token's SHA-256 digest, never the token:

    [users.sw-rai2-1]
    role = "social_worker"
    team = "RAI-2"
    token_sha256 = "<64 hex characters>"

Every replica follows the file as it changes, without a restart: at most once a second a
request looks at the file's inode, size and modification time, and reads it again when they
changed (`ReloadingUsersFile`). A user taken out, or given another role or team, is refused
or held to the new role from that request on, token and dashboard session alike; a file that
has become unreadable or invalid is logged as an error and the last good one kept, so a bad
edit never opens access to anyone. With CSE_OIDC_ISSUER set, tokens are OIDC JWTs instead
(api/oidc.py).

| role | may |
|---|---|
| intake | start cases (POST /referrals); nothing else |
| social_worker | their team's cases: list, read, forecast, record every event but `close` |
| team_manager | as social_worker, and `close` |
| head_of_service | every team's cases: list, read, forecast, record every event; the codec |
| analyst | aggregates only: list cases and the forecast with case references withheld |
| specialist_safeguarding_lead | every team's cases: list, read, forecast; record only |
|  | `record_strategy_discussion` and `record_consultation` |
| mase_chair | the panel agenda, and the cases on the latest agenda (read only) |
| police_spoc | the panel agenda; no case, no caseload |

The panel's members (docs/rules.md, The MASE panel) are the last three. What a role may record is
`may_record`: every event for a role with `record_event` (`close` needs `close_case` too),
or only the events RECORDS_ONLY names for it.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import time
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Protocol

import structlog
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
    model_validator,
)

from domain.events import EVENT_TYPES
from edge.config_files import FileRefused, load_users

log = structlog.get_logger("cse.api")

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
    specialist_safeguarding_lead = "specialist_safeguarding_lead"
    mase_chair = "mase_chair"
    police_spoc = "police_spoc"


class Permission(StrEnum):
    create_referral = "create_referral"
    list_cases = "list_cases"
    read_case = "read_case"
    record_event = "record_event"
    close_case = "close_case"
    forecast = "forecast"
    read_panel_agenda = "read_panel_agenda"
    read_oversight_report = "read_oversight_report"
    decode_payloads = "decode_payloads"


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
        | {
            Permission.close_case,
            Permission.read_panel_agenda,
            Permission.read_oversight_report,
            Permission.decode_payloads,
        }
    ),
    ApiRole.analyst: frozenset(
        {Permission.list_cases, Permission.forecast, Permission.read_oversight_report}
    ),
    ApiRole.specialist_safeguarding_lead: frozenset(
        {Permission.list_cases, Permission.read_case, Permission.forecast}
    ),
    # read_case is held to the cases on the latest agenda: AGENDA_CASES_ONLY
    ApiRole.mase_chair: frozenset({Permission.read_panel_agenda, Permission.read_case}),
    ApiRole.police_spoc: frozenset({Permission.read_panel_agenda}),
}
TEAM_ROLES = {ApiRole.social_worker, ApiRole.team_manager}
AGENDA_CASES_ONLY = {ApiRole.mase_chair}
"""Roles that open only the cases listed on the latest panel run's agenda (api/case_access.py)."""

RECORDS_ONLY: dict[ApiRole, frozenset[str]] = {
    ApiRole.specialist_safeguarding_lead: frozenset(
        {"record_strategy_discussion", "record_consultation"}
    ),
    # The chair records the panel's decisions and marks its actions done (docs/rules.md, The
    # MASE panel).
    ApiRole.mase_chair: frozenset({"record_mase_decision", "complete_mase_action"}),
}
"""Roles without `record_event` that record only these events, on the cases they may open."""


def _check_records_only() -> None:
    """A name here that is no event would silently refuse the role: fail at import instead."""
    unknown = set().union(*RECORDS_ONLY.values()) - set(EVENT_TYPES)
    if unknown:
        raise ValueError(f"RECORDS_ONLY names events that do not exist: {sorted(unknown)}")


_check_records_only()

EVENT_PERMISSIONS: dict[str, Permission] = {
    "close": Permission.close_case,
    "record_mase_decision": Permission.close_case,
}
"""Events that need a permission of their own besides `record_event` (closing a case and
recording the MASE panel's decision are managers' decisions, as the chair's is): the one
table the API's routes, the dashboard and the docs read."""


def permission_to_record(event: str) -> Permission | None:
    """What recording `event` needs besides `record_event`, if anything."""
    return EVENT_PERMISSIONS.get(event)


def role_may_record(role: ApiRole, event: str) -> bool:
    """Whether `role` may record `event` (on a case it may open)."""
    only = RECORDS_ONLY.get(role)
    if only is not None:
        return event in only
    allowed = PERMISSIONS[role]
    extra = permission_to_record(event)
    return Permission.record_event in allowed and (extra is None or extra in allowed)


def roles_recording(event: str) -> list[ApiRole]:
    return [role for role in ApiRole if role_may_record(role, event)]


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
        return role_may_record(self.role, event)

    @property
    def reads_agenda_cases_only(self) -> bool:
        return self.role in AGENDA_CASES_ONLY

    def may_open_cases_of(self, team: str | None) -> bool:
        """Whether a case of `team` may be opened (for the chair: if it is on the agenda)."""
        return self.may(Permission.read_case) and self.may_see_team(team)

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
        self.users = users
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
        return UsersFileTokens(load_users(path, UsersFile))
    except FileRefused as err:
        raise StartupError(str(err)) from None


RECHECK_EVERY = 1.0  # seconds: at most one stat() of the users file a second, per replica
SETTLED_AFTER = 2.0  # seconds: a file changed more recently is read again at the next check

FileSignature = tuple[int, int, int, int] | None
UNSETTLED: FileSignature = (-1, -1, -1, -1)  # equal to no file's signature: read it again


def signature(path: Path) -> FileSignature:
    """What changes when the file is written or replaced; None while it cannot be stat()ed.
    A file changed in the last SETTLED_AFTER seconds is UNSETTLED: written twice within the
    clock's granularity, it can keep its modification time and size."""
    try:
        found = os.stat(path)
    except OSError:
        return None
    if time.time() - found.st_mtime_ns / 1e9 < SETTLED_AFTER:
        return UNSETTLED
    return (found.st_dev, found.st_ino, found.st_size, found.st_mtime_ns)


class ReloadingUsersFile:
    """The users file as it is now: an Authenticator and the dashboard's UserDirectory.

    Checked on use, at most every `recheck_every` seconds, with one stat(); read again only
    when its signature changed (or has not settled). A file that cannot be read or is not
    valid keeps the last good one, logged as an error once per change."""

    def __init__(self, path: Path, recheck_every: float = RECHECK_EVERY) -> None:
        self.path = path
        self.recheck_every = recheck_every
        self._seen = signature(path)
        self._tokens = load_users_file(path)  # a file unusable at start stops the start
        self._checked = time.monotonic()

    def identify(self, token: str) -> Identity:
        return self.current().identify(token)

    def user(self, user_id: str) -> Identity | None:
        return self.current().user(user_id)

    def current(self) -> UsersFileTokens:
        now = time.monotonic()
        if now - self._checked >= self.recheck_every:
            self._checked = now
            self._reload_if_changed()
        return self._tokens

    def _reload_if_changed(self) -> None:
        seen = signature(self.path)
        if seen == self._seen and seen is not UNSETTLED:
            return
        self._seen = seen
        try:
            users = load_users(self.path, UsersFile)
        except FileRefused as err:
            log.error("users file refused: the last good one is kept", error=str(err))
            return
        if users != self._tokens.users:
            self._tokens = UsersFileTokens(users)
            log.info("users file read again", path=str(self.path), users=len(users.users))
