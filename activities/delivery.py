"""What the email and webhook channels share: which addresses still wait, and how failures end.

A channel delivers a notification to each address the directory resolves for it, remembers
(in this worker process) which addresses have it, and on a retry sends only to the rest.

Failures of one attempt, once every address has been tried:
- DeliveryUnavailable (an ordinary exception): at least one address failed for a reason that
  may pass (relay or endpoint down, timeout, SMTP 4xx, HTTP 5xx/408/429). Temporal retries
  the activity with NOTIFY_RETRY, so nothing is lost while a channel is down for hours.
- ApplicationError(type="PermanentDeliveryError", non_retryable=True): every failure is one
  that will never pass (SMTP 5xx for the recipient or message, HTTP 4xx, no address for a
  role). Its details name the channel and each role/address with the reason; never a child.
Transient wins: addresses that may still succeed are retried before anything is called lost.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass

from temporalio.exceptions import ApplicationError

from domain.directory import AddressKind, Directory, NoAddress, Recipient
from domain.errors import PERMANENT_DELIVERY_ERROR
from domain.notifications import Notification


class DeliveryUnavailable(Exception):
    """A channel could not deliver now; Temporal retries the notify activity."""


@dataclass(frozen=True)
class Refusal:
    """One address that did not take the notification, and whether it never will."""

    roles: tuple[str, ...]
    address: str | None
    reason: str
    permanent: bool

    def describe(self) -> dict[str, object]:
        roles = [str(r) for r in self.roles]
        return {"roles": roles, "address": self.address, "reason": self.reason}


def settle(channel: str, notification_id: str, refusals: list[Refusal]) -> None:
    """Raise what the refusals of one attempt amount to (nothing if there are none)."""
    transient = [r for r in refusals if not r.permanent]
    if transient:
        where = ", ".join(f"{r.address} ({r.reason})" for r in transient)
        raise DeliveryUnavailable(f"{channel}: {notification_id} not delivered to {where}")
    if refusals:
        raise permanent_failure(channel, notification_id, refusals)


def permanent_failure(
    channel: str, notification_id: str, refusals: list[Refusal]
) -> ApplicationError:
    """The non-retryable error the workflow records on the case and raises to the manager."""
    where = ", ".join(f"{'/'.join(r.roles)} at {r.address or '(no address)'}" for r in refusals)
    return ApplicationError(
        f"{channel}: {notification_id} can never be delivered to {where}",
        {"channel": channel, "refused": [r.describe() for r in refusals]},
        type=PERMANENT_DELIVERY_ERROR,
        non_retryable=True,
    )


class Delivered:
    """The (notification id, address) pairs this process has delivered, newest kept."""

    def __init__(self, limit: int = 50_000) -> None:
        self._pairs: OrderedDict[tuple[str, str], None] = OrderedDict()
        self._limit = limit

    def add(self, notification_id: str, address: str) -> None:
        self._pairs[(notification_id, address)] = None
        while len(self._pairs) > self._limit:
            self._pairs.popitem(last=False)

    def __contains__(self, pair: tuple[str, str]) -> bool:
        return pair in self._pairs


def pending(
    channel: str,
    directory: Directory,
    delivered: Delivered,
    notification: Notification,
    kind: AddressKind,
) -> list[Recipient]:
    """The recipients of this channel's kind that do not have the notification yet."""
    try:
        recipients = directory.resolve(notification)
    except NoAddress as err:
        refusal = Refusal((err.addressee,), None, "no address in the directory", True)
        raise permanent_failure(channel, notification.notification_id, [refusal]) from err
    nid = notification.notification_id
    return [r for r in recipients if r.kind == kind and (nid, r.address) not in delivered]
