"""The directory: where a role's notifications go (people are roles, docs/rules.md, Who is told).

A directory file (TOML) maps each role to addresses, once for everyone, per team where a team
differs, and gives the allocated social worker's own address by user id:

    [roles]                              # every team, unless the team says otherwise
    team_manager = ["cse-managers@example.org"]
    [teams."RAI-2"]                      # a team's entry replaces the global one for that role
    team_manager = ["rai2-manager@example.org"]
    [people]                             # allocated social workers, by user id
    "sw-7" = "sw7@example.org"           # or a list of addresses
    authority = "E99000099"              # this service's own local authority code (optional)
    [authorities."E99000001"]            # other local authorities (docs/rules.md, Who is told)
    name = "Example Borough One"
    contact = ["cse-contact@la-one.example.org"]

(`authority` goes before the first table.) A referral's `placing_authority` and
`host_authority` must be one of the listed codes or our own; a notification addressed to an
authority (`Notification.authorities`) goes to its contact addresses.

An address is an email address, a webhook endpoint: an `https://` URL (`http://` only to a
loopback host, for a receiver on the same machine), or a mobile number for text messages (10
to 15 digits, an optional leading `+`, single spaces allowed; sent through GOV.UK Notify).
`social_worker` means the allocated social worker's own address when the case is allocated and
their user id is listed, else the team's `social_worker` entry (the team inbox). Every other
role: the team's entry, else the global one.

DirectoryError        the file is missing, not TOML, invalid, or lacks a role that is needed
 └── NoAddress        a notification names a role (or an authority) the directory has no
                      address for
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
from domain.referral import AuthorityCode
from domain.roles import Role


class DirectoryError(Exception):
    """The directory file cannot be used; the message names the file and the field."""


class NoAddress(DirectoryError):
    """A notification names a role with no address in the directory."""

    def __init__(self, role: Role | None, team: str, authority: str | None = None) -> None:
        whom = f"authority {authority}" if role is None else f"role {role.value} (team {team})"
        super().__init__(f"no address for {whom} in the directory")
        self.role = role
        self.addressee = f"authority:{authority}" if role is None else role.value


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
    authority: str | None = None  # an other authority's contact, not a role's address

    @property
    def kind(self) -> AddressKind:
        return address_kind(self.address)

    @property
    def serves(self) -> tuple[str, ...]:
        """Whom the address stands for, in refusals: its roles, or `authority:<code>`."""
        own = () if self.authority is None else (f"authority:{self.authority}",)
        return tuple(r.value for r in self.roles) + own


class Authority(BaseModel):
    """Another local authority: a child may be placed by it here, or by us there
    (docs/rules.md, One child across referrals)."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    name: Key
    contact: OneOrMore


class Directory(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    roles: dict[Role, Addresses] = {}
    teams: dict[Key, dict[Role, Addresses]] = {}
    people: dict[Key, OneOrMore] = {}
    authority: AuthorityCode | None = None
    """This service's own local authority code; never told of its own cases."""
    authorities: dict[AuthorityCode, Authority] = {}

    @property
    def known_authorities(self) -> dict[str, str]:
        """Every code a referral may name, with its name: the other authorities and, if the
        directory names it, our own."""
        known = {code: a.name for code, a in self.authorities.items()}
        if self.authority is not None:
            known[self.authority] = "this authority"
        return dict(sorted(known.items()))

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
        found = [Recipient(address=a, roles=tuple(roles)) for a, roles in serves.items()]
        return found + self._authority_recipients(notification, set(serves))

    def _authority_recipients(self, notification: Notification, taken: set[str]) -> list[Recipient]:
        """The contacts of the other authorities a notification is addressed to."""
        found = []
        for code in notification.authorities:
            if code == self.authority:
                continue  # our own authority hears through its roles
            if code not in self.authorities:
                raise NoAddress(None, notification.team, authority=code)
            for address in self.authorities[code].contact:
                if address not in taken:
                    taken.add(address)
                    found.append(Recipient(address=address, roles=(), authority=code))
        return found

    def uses(self, kind: AddressKind) -> bool:
        """Whether any address in the directory is of this kind."""
        every = [*self.roles.values(), *self.people.values()]
        every += [a.contact for a in self.authorities.values()]
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
