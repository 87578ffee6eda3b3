"""Which services run on this machine alone, and what a service beyond it cannot do without.

A service is beyond loopback when it listens (CSE_API_HOST) or reaches Temporal
(TEMPORAL_ADDRESS) anywhere but 127.0.0.0/8, ::1 or `localhost`: a deployment, not a local
run. Such a worker or API refuses to start without CSE_TEAMS (a case on a mistyped team sits
on no team's caseload) and CSE_INDEX_KEYS (a child's referrals would never be linked). On
loopback both may be left unset: any team is accepted, and the start-up log says once that
cases will not be linked.
"""

from __future__ import annotations

import ipaddress

import structlog

from edge.settings import INDEX_KEYS, Settings


def is_loopback(host: str) -> bool:
    """`localhost`, 127.0.0.0/8 or ::1: only this machine can reach a service bound there."""
    name = host.strip().strip("[]").lower().rstrip(".")
    if name == "localhost" or name.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def address_host(address: str) -> str:
    """The host of `host:port` or `[v6]:port`."""
    if address.startswith("["):
        return address[1 : address.find("]")]
    return address.rsplit(":", 1)[0] if address.count(":") == 1 else address


def beyond_loopback(settings: Settings) -> list[str]:
    """The settings that put this service beyond this machine, each as `NAME host`."""
    places = {
        "CSE_API_HOST": settings.api_host,
        "TEMPORAL_ADDRESS": address_host(settings.temporal_address),
    }
    return [f"{name} {host}" for name, host in places.items() if not is_loopback(host)]


def deployment_problem(settings: Settings) -> str | None:
    """Why a worker or API beyond loopback cannot start (None on loopback, or when ready)."""
    away = beyond_loopback(settings)
    missing = [
        name
        for name, given in (("CSE_TEAMS", settings.teams), (INDEX_KEYS, settings.index_keys))
        if not given
    ]
    if not away or not missing:
        return None
    return (
        f"{' and '.join(missing)} must be set beyond this machine ({', '.join(away)}): "
        "CSE_TEAMS, the teams a case may be on, comma-separated; CSE_INDEX_KEYS, the keys "
        'of the child index, `<key id>:<base64 of 32 bytes>` (README "Settings")'
    )


def warn_if_unlinked(settings: Settings) -> None:
    """Said once in a service's start-up log when it runs without the child index."""
    if settings.index_keys is None:
        structlog.get_logger("cse.client").warning(
            "cases will not be linked: CSE_INDEX_KEYS is not set, so a child's earlier "
            "referrals are not found (allowed on loopback only; scripts/run.sh makes one)"
        )
