"""The webhook channel: one signed JSON POST per notification to every webhook it resolves to.

Each request carries `Idempotency-Key: <notification id>` (the same on every retry) and
`X-CSE-Signature: sha256=<hex HMAC-SHA256 of the exact body bytes with CSE_WEBHOOK_SECRET>`.
The body is the case reference, what is due or overdue, when and the link; never the child,
the summary or the concerns.

Endpoints that answered 2xx are remembered and not posted to again; a retry goes to the others.
Connection failures, timeouts, HTTP 5xx, 408 and 429 are retried (DeliveryUnavailable); any
other answer (4xx, and 3xx: redirects are not followed) is a PermanentDeliveryError.
"""

from __future__ import annotations

import hashlib
import hmac
import json

import httpx

from activities.delivery import Delivered, Refusal, pending, settle
from domain.calendar import LONDON
from domain.directory import AddressKind, Directory, Recipient
from domain.notifications import Notification

CHANNEL = "webhook"
TIMEOUT = httpx.Timeout(10.0)
_RETRY_STATUSES = frozenset({408, 429})


def body(notification: Notification, link: str, recipient: Recipient) -> bytes:
    """The JSON body, byte for byte the same on every retry (so is its signature)."""
    due = notification.due_at.astimezone(LONDON).isoformat() if notification.due_at else None
    payload = {
        "notification_id": notification.notification_id,
        "kind": notification.kind.value,
        "referral_id": notification.referral_id,
        "team": notification.team,
        "roles": [r.value for r in recipient.roles],
        "clock": notification.clock.value if notification.clock else None,
        "step": notification.step.value if notification.step else None,
        "due_at": due,
        "subject": notification.subject,
        "link": link,
    }
    if recipient.authority is not None:  # absent otherwise: earlier bodies stay byte for byte
        payload["authority"] = recipient.authority
    return json.dumps(payload, sort_keys=True, separators=(",", ":")).encode()


def signature(secret: str, content: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), content, hashlib.sha256).hexdigest()


class WebhookChannel:
    name = CHANNEL

    def __init__(
        self,
        directory: Directory,
        secret: str,
        client: httpx.AsyncClient | None = None,
        delivered: Delivered | None = None,
    ) -> None:
        self.directory = directory
        self._secret = secret
        self.client = client or httpx.AsyncClient(timeout=TIMEOUT, follow_redirects=False)
        self.delivered = delivered or Delivered()

    async def deliver(self, notification: Notification, link: str) -> int:
        nid = notification.notification_id
        refusals = []
        kind = AddressKind.webhook
        recipients = pending(CHANNEL, self.directory, self.delivered, notification, kind)
        for recipient in recipients:
            refusal = await self._post(notification, link, recipient)
            if refusal is None:
                self.delivered.add(nid, recipient.address)
            else:
                refusals.append(refusal)
        settle(CHANNEL, nid, refusals)
        return len(recipients)

    async def _post(
        self, notification: Notification, link: str, recipient: Recipient
    ) -> Refusal | None:
        content = body(notification, link, recipient)
        headers = {
            "Content-Type": "application/json",
            "Idempotency-Key": notification.notification_id,
            "X-CSE-Signature": signature(self._secret, content),
        }
        roles = recipient.serves
        try:
            response = await self.client.post(recipient.address, content=content, headers=headers)
        except httpx.TransportError as err:  # connection refused, timeouts, protocol errors
            return Refusal(roles, recipient.address, repr(err), permanent=False)
        status = response.status_code
        if 200 <= status < 300:
            return None
        retry = status >= 500 or status in _RETRY_STATUSES
        return Refusal(roles, recipient.address, f"HTTP {status}", permanent=not retry)
