"""What counts as this service's own origin (and, from edge/loopback.py, which hosts are
loopback).

A browser names the page a request came from in `Origin` (and, failing that, `Referer`). A
state-changing request carrying the user's cookie is honoured only from the service's own
origin: CSE_PUBLIC_URL's (what users open, e.g. behind a TLS-terminating proxy) or the one the
request itself was addressed to (scheme and Host). `Origin: null` (a sandboxed or privacy-
stripped page) is never our own.
"""

from __future__ import annotations

from urllib.parse import urlsplit

import structlog
from fastapi import Request

from api.deps import route_of
from api.errors import Forbidden
from edge.loopback import is_loopback as is_loopback  # one definition, for api/ and cli/
from edge.settings import Settings

log = structlog.get_logger("cse.api")


def origin_of(url: str) -> str | None:
    """`scheme://host[:port]` of an absolute http(s) URL, lower-cased; None otherwise."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return None
    host = parts.hostname.lower()
    if ":" in host:  # an IPv6 literal keeps its brackets in an origin
        host = f"[{host}]"
    default = 443 if parts.scheme.lower() == "https" else 80
    suffix = f":{port}" if port is not None and port != default else ""
    return f"{parts.scheme.lower()}://{host}{suffix}"


def own_origins(request: Request) -> set[str]:
    """CSE_PUBLIC_URL's origin and the one the request was addressed to."""
    settings: Settings = request.app.state.settings
    found = {origin_of(settings.public_url)}
    host = request.headers.get("host")
    if host:
        found.add(origin_of(f"{request.url.scheme}://{host}"))
    return {origin for origin in found if origin is not None}


def claimed_origin(request: Request) -> str | None:
    """The origin the browser says the request came from: `Origin`, else `Referer`'s.

    None when it sends neither, or `Origin: null`, or a Referer that is no http(s) URL."""
    origin = request.headers.get("origin")
    if origin is not None:
        return origin_of(origin)
    referer = request.headers.get("referer")
    return origin_of(referer) if referer else None


def secure_cookies(settings: Settings) -> bool:
    """CSE_COOKIE_SECURE when set; unset, Secure unless the API listens on loopback alone
    (behind a TLS-terminating proxy the request itself arrives as plain http)."""
    if settings.cookie_secure is not None:
        return settings.cookie_secure
    return not is_loopback(settings.api_host)


SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}


def check_same_origin(request: Request) -> None:
    """A state-changing request only from a page of this service, by `Origin` or `Referer`:
    a CSRF token alone would not stop a foreign page that had obtained one. Refusals are
    logged with the route and the origin claimed (never a form's content)."""
    if request.method in SAFE_METHODS:
        return
    origin = claimed_origin(request)
    if origin is not None and origin in own_origins(request):
        return
    claimed = request.headers.get("origin") or request.headers.get("referer") or "(none)"
    log.warning(
        "foreign origin refused",
        route=route_of(request),
        method=request.method,
        origin=origin_of(claimed) or claimed[:100],
    )
    raise Forbidden(
        "this request did not come from a page of this service: open the dashboard at its own "
        "address and send the form again"
    )
