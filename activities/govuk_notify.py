"""The GOV.UK Notify channel: one Notify email or text message per address of a notification.

Every phone number the directory resolves for a notification, and every email address when
email goes through Notify (CSE_GOVUK_NOTIFY_EMAIL), gets one request, `POST
/v2/notifications/sms` or `/v2/notifications/email`, carrying:
- `template_id`: the notification kind's template (domain/govuk_notify.py);
- `personalisation`: case_reference, what, when, link; never the child, summary or concerns;
- `reference`: the notification id, the same on every retry, so a resend is recognisable in
  Notify (on its dashboard, and by `GET /v2/notifications?reference=`).
Each request is signed as Notify documents: `Authorization: Bearer <JWT>`, HS256, claims
`iss` (the service id) and `iat` (now; Notify refuses a token 30 s old), signed with the
secret part of the API key `<key name>-<service id>-<secret>`. The key is never sent.

Addresses Notify accepted are remembered and not sent to again; a retry goes to the others.
A worker that restarted has forgotten them, so before sending a notification's messages of a
kind the channel asks Notify what it already accepted with that reference (`GET
/v2/notifications?reference=<id>&template_type=<kind>`) and skips those addresses. If Notify
cannot answer that question the messages are sent (at least once beats not at all).
Failures are classified as in activities/delivery.py:
- retried (DeliveryUnavailable): Notify unreachable or too slow, 5xx (`Exception`), 408 and
  429 (`RateLimitError`, and `TooManyRequestsError`: the daily limit, which passes);
- permanent (PermanentDeliveryError, naming role, address and Notify's error): 400
  (`BadRequestError`: a team-only or trial-mode key, a bad number or template), 403
  (`AuthError`: a wrong or revoked key, or our clock 30 s out) and every other answer.

Why httpx and PyJWT rather than GDS's `notifications-python-client`: the contract is two POSTs
and a two-claim token, and both libraries are already locked; the client would bring requests
and `docopt`, which PyPI has only as source, so installing the hashed lock would fetch and run
an unpinned, unhashed setuptools at install time. The client is also synchronous and not
thread-safe, where this channel runs on the worker's event loop beside the webhooks.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import httpx
import jwt
import structlog

from activities.delivery import Delivered, Refusal, pending, settle
from domain.directory import AddressKind, Directory, Recipient
from domain.govuk_notify import NotifyTemplates, personalisation
from domain.notifications import Notification

CHANNEL = "govuk_notify"
PUBLIC_API = "https://api.notifications.service.gov.uk"
TIMEOUT = httpx.Timeout(10.0)
_RETRY_STATUSES = frozenset({408, 429})
_RECIPIENT_FIELD = {AddressKind.email: "email_address", AddressKind.sms: "phone_number"}

log = structlog.get_logger("cse.notify.govuk")


@dataclass(frozen=True)
class NotifyService:
    """Where Notify is, the service id and the secret that signs each token (never shown)."""

    service_id: str
    secret: str = field(repr=False)
    base_url: str = PUBLIC_API

    @classmethod
    def from_api_key(cls, api_key: str, base_url: str = PUBLIC_API) -> NotifyService:
        """`<key name>-<service id>-<secret>`: both ids are 36-character UUIDs at the end."""
        return cls(api_key[-73:-37], api_key[-36:], base_url.rstrip("/"))

    def token(self) -> str:
        claims = {"iss": self.service_id, "iat": int(time.time())}
        return jwt.encode(claims, self.secret, algorithm="HS256", headers={"typ": "JWT"})


class GovukNotifyChannel:
    name = CHANNEL

    def __init__(
        self,
        directory: Directory,
        service: NotifyService,
        templates: NotifyTemplates,
        kinds: Iterable[AddressKind] = (AddressKind.email, AddressKind.sms),
        client: httpx.AsyncClient | None = None,
        delivered: Delivered | None = None,
    ) -> None:
        self.directory = directory
        self.service = service
        self.templates = templates
        self.kinds = tuple(kinds)
        self.client = client or httpx.AsyncClient(timeout=TIMEOUT, follow_redirects=False)
        self.delivered = delivered or Delivered()

    async def deliver(self, notification: Notification, link: str) -> int:
        nid = notification.notification_id
        refusals, sent = [], 0
        for kind in self.kinds:
            recipients = pending(CHANNEL, self.directory, self.delivered, notification, kind)
            accepted = await self._accepted_before(kind, nid) if recipients else set()
            for recipient in recipients:
                if _same_address(kind, recipient.address) in accepted:
                    self.delivered.add(nid, recipient.address)
                    log.info("already accepted by GOV.UK Notify", notification_id=nid)
                    continue
                refusal = await self._send(kind, recipient, notification, link)
                if refusal is None:
                    self.delivered.add(nid, recipient.address)
                    sent += 1
                else:
                    refusals.append(refusal)
        settle(CHANNEL, nid, refusals)
        return sent

    async def _accepted_before(self, kind: AddressKind, reference: str) -> set[str]:
        """The addresses Notify already accepted a message of this kind for with `reference`
        (none when it cannot say: the messages are then sent)."""
        url = f"{self.service.base_url}/v2/notifications"
        query = {"reference": reference, "template_type": kind.value}
        headers = {"Authorization": f"Bearer {self.service.token()}"}
        try:
            response = await self.client.get(url, params=query, headers=headers)
            response.raise_for_status()
            listed = response.json()["notifications"]
            return {_same_address(kind, str(n.get(_RECIPIENT_FIELD[kind]) or "")) for n in listed}
        except (httpx.HTTPError, ValueError, KeyError, TypeError) as err:
            log.warning(
                "GOV.UK Notify lookup failed; sending",
                notification_id=reference,
                error=str(err)[:200],
            )
            return set()

    async def _send(
        self, kind: AddressKind, recipient: Recipient, notification: Notification, link: str
    ) -> Refusal | None:
        body = {
            _RECIPIENT_FIELD[kind]: recipient.address,
            "template_id": self.templates.template_id(kind, notification.kind),
            "personalisation": personalisation(notification, link),
            "reference": notification.notification_id,
        }
        roles = recipient.serves
        url = f"{self.service.base_url}/v2/notifications/{kind.value}"
        headers = {"Authorization": f"Bearer {self.service.token()}"}
        try:
            response = await self.client.post(url, json=body, headers=headers)
        except httpx.TransportError as err:  # refused connection, timeouts, TLS, protocol
            return Refusal(roles, recipient.address, f"Notify unreachable: {err!r}", False)
        status = response.status_code
        if 200 <= status < 300:
            log.info(
                "sent through GOV.UK Notify",
                notification_id=body["reference"],
                message=kind.value,
                notify_id=_field(response, "id"),
            )
            return None
        retry = status >= 500 or status in _RETRY_STATUSES
        reason = f"Notify {status} {_errors(response)}"
        return Refusal(roles, recipient.address, reason, permanent=not retry)


def _same_address(kind: AddressKind, address: str) -> str:
    """An address as Notify and the directory may both write it: email case-folded; a phone
    number by its digits, +44 as the leading 0."""
    if kind == AddressKind.email:
        return address.strip().casefold()
    digits = "".join(ch for ch in address if ch.isdigit())
    return "0" + digits[2:] if digits.startswith("44") else digits


def _errors(response: httpx.Response) -> str:
    """Notify's `errors` as `BadRequestError: <message>`, or the start of whatever came back."""
    try:
        errors = response.json()["errors"]
        return "; ".join(f"{e['error']}: {e['message']}" for e in errors)
    except (ValueError, KeyError, TypeError):
        return response.text[:200]


def _field(response: httpx.Response, name: str) -> Any:
    try:
        return response.json().get(name)
    except (ValueError, AttributeError):
        return None
