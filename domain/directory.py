"""The directory: where a role's notifications go (people are roles, pathway.md section 6).

A directory file (TOML) maps each role to addresses, once for everyone, per team where a team
differs, and gives the allocated social worker's own address by user id:

    [roles]                              # every team, unless the team says otherwise
    team_manager = ["cse-managers@example.org"]
    [teams."RAI-2"]                      # a team's entry replaces the global one for that role
    team_manager = ["rai2-manager@example.org"]
    [people]                             # allocated social workers, by user id
    "sw-7" = "sw7@example.org"           # or a list of addresses

An address is an email address, a webhook endpoint: an `https://` URL (`http://` only to a
loopback host, for a receiver on the same machine), or a mobile number for text messages (10
to 15 digits, an optional leading `+`, single spaces allowed; sent through GOV.UK Notify).
`social_worker` means the allocated social worker's own address when the case is allocated and
their user id is listed, else the team's `social_worker` entry (the team inbox). Every other
role: the team's entry, else the global one.

DirectoryError        the file is missing, not TOML, invalid, or lacks a role that is needed
 └── NoAddress        a notification names a role the directory has no address for
Messages name the file, the field and the rule.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from enum import StrEnum
from typing import Annotated
from urllib.parse import urlsplit

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field

from domain.notifications import Notification
from domain.policy import PolicyBook
from domain.roles import Role


class DirectoryError(Exception):
    """The directory file cannot be used; the message names the file and the field."""


class NoAddress(DirectoryError):
    """A notification names a role with no address in the directory."""

    def __init__(self, role: Role, team: str) -> None:
        super().__init__(f"no address for role {role.value} (team {team}) in the directory")
        self.role = role


class AddressKind(StrEnum):
    email = "email"
    webhook = "webhook"
    sms = "sms"  # a mobile number: text messages go through GOV.UK Notify


# Roles the service notifies whatever the policy says: consultations on high professional
# concern, and the monthly MASE panel agenda and oversight report.
ALWAYS_NEEDED: frozenset[Role] = frozenset(
    {
        Role.team_manager,
        Role.specialist_safeguarding_lead,
        Role.mase_chair,
        Role.mash,
        Role.police_spoc,  # told when strategy meetings fall due and of MASE referrals
        Role.head_of_service,
        Role.strategic_lead,  # told when the MASE panel escalates a case
        Role.data_analyst,
    }
)

_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_EMAIL = re.compile(rf"^[A-Za-z0-9.!#$%&'*+/=?^_`{{|}}~-]+@{_LABEL}(?:\.{_LABEL})+$")
_LOOPBACK = {"127.0.0.1", "localhost", "::1"}
_PHONE = re.compile(r"^\+?(?:[0-9] ?){9,14}[0-9]$")


def address_kind(address: str) -> AddressKind:
    if address.startswith(("https://", "http://")):
        return AddressKind.webhook
    return AddressKind.sms if _PHONE.match(address) else AddressKind.email


def _valid_address(raw: str) -> str:
    address = raw.strip()
    kind = address_kind(address)
    if kind == AddressKind.webhook:
        return _valid_webhook(address)
    if kind == AddressKind.email and not _EMAIL.match(address):
        raise ValueError(
            f"{address!r} is neither an email address, an https:// webhook URL nor a phone number"
        )
    return address


def _valid_webhook(url: str) -> str:
    parts = urlsplit(url)
    if not parts.hostname or any(c.isspace() for c in url):
        raise ValueError(f"{url!r} is not a valid webhook URL")
    if parts.username or parts.password:
        raise ValueError(f"{url!r}: webhook URLs may not carry credentials")
    if parts.scheme == "http" and parts.hostname not in _LOOPBACK:
        raise ValueError(f"{url!r}: webhooks must use https:// (http:// only to a loopback host)")
    return url


Address = Annotated[str, AfterValidator(_valid_address)]
Addresses = Annotated[list[Address], Field(min_length=1)]
OneOrMore = Annotated[Addresses, BeforeValidator(lambda v: [v] if isinstance(v, str) else v)]
Key = Annotated[str, Field(min_length=1, max_length=200)]


class Recipient(BaseModel):
    """One address a notification goes to, and the roles it stands for there."""

    model_config = ConfigDict(frozen=True)
    address: str
    roles: tuple[Role, ...]

    @property
    def kind(self) -> AddressKind:
        return address_kind(self.address)


class Directory(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    roles: dict[Role, Addresses] = {}
    teams: dict[Key, dict[Role, Addresses]] = {}
    people: dict[Key, OneOrMore] = {}

    def addresses(self, role: Role, team: str, social_worker: str | None = None) -> list[str]:
        """Where one role's notifications go for a case of `team` (see the module docstring)."""
        if role == Role.social_worker and social_worker in self.people:
            return self.people[social_worker]
        found = self.teams.get(team, {}).get(role) or self.roles.get(role)
        if not found:
            raise NoAddress(role, team)
        return found

    def resolve(self, notification: Notification) -> list[Recipient]:
        """Every distinct address of the notification's roles, each with the roles it serves."""
        serves: dict[str, list[Role]] = {}
        for role in notification.roles:
            for address in self.addresses(role, notification.team, notification.social_worker):
                serves.setdefault(address, []).append(role)
        return [Recipient(address=a, roles=tuple(roles)) for a, roles in serves.items()]

    def uses(self, kind: AddressKind) -> bool:
        """Whether any address in the directory is of this kind."""
        every = [*self.roles.values(), *self.people.values()]
        every += [addrs for team in self.teams.values() for addrs in team.values()]
        return any(address_kind(a) == kind for addrs in every for a in addrs)

    def missing(self, needed: Iterable[Role]) -> list[Role]:
        """The needed roles that have no global entry (a team entry covers only that team)."""
        return sorted(set(needed) - set(self.roles), key=list(Role).index)


def roles_needed(book: PolicyBook) -> set[Role]:
    """Every role some policy version or the MASE panel may notify."""
    needed = set(ALWAYS_NEEDED)
    for policy in book.versions:
        for step in policy.ladder:
            needed.update(step.roles, step.complex_case_roles)
        for owners in policy.clock_owners.values():
            needed.update(owners)
    return needed
