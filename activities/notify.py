"""The notify activity: one notification, delivered through every configured channel.

Delivery is at least once (Temporal retries the activity with backoff) and idempotent: each
channel recognises a notification id it has already delivered. A channel is anything with an
async `deliver(notification)`; email and webhooks plug in beside the outbox file.

Each channel's outcome is counted through the activity's metric meter (the worker's endpoint,
CSE_METRICS_PORT): cse_notifications_total{channel, outcome, kind, step}, outcome `delivered`
(the attempt that reached the channel's last waiting address; a channel with no address for
it counts nothing), `retrying` (a failure that may pass; Temporal tries again) or `failed` (a
PermanentDeliveryError). Never the case or its roles' addresses.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Protocol

import structlog
from temporalio import activity
from temporalio.exceptions import ApplicationError

from contract.activities import NOTIFY, PERMANENT_FAILURE
from domain.notifications import Notification

log = structlog.get_logger("cse.notify")


class Channel(Protocol):
    name: str  # in metrics: outbox, email, webhook, govuk_notify

    async def deliver(self, notification: Notification, link: str) -> int:
        """Deliver to every address still waiting; how many took it in this attempt."""
        ...


class OutboxFile:
    """Appends one JSON line per notification to a file, once per notification id."""

    name = "outbox"

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = asyncio.Lock()
        self._sent: set[str] | None = None

    async def deliver(self, notification: Notification, link: str) -> int:
        async with self._lock:
            sent = self._load()
            if notification.notification_id in sent:
                return 0
            line = notification.model_dump(mode="json") | {"link": link}
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self.path.open("a", encoding="utf-8") as out:
                out.write(json.dumps(line, sort_keys=True) + "\n")
            sent.add(notification.notification_id)
            return 1

    def _load(self) -> set[str]:
        if self._sent is None:
            self._sent = set()
            if self.path.exists():
                for raw in self.path.read_text(encoding="utf-8").splitlines():
                    if raw.strip():
                        self._sent.add(json.loads(raw)["notification_id"])
        return self._sent


class Notifier:
    def __init__(self, channels: list[Channel], public_url: str) -> None:
        self.channels = channels
        self.public_url = public_url.rstrip("/")

    @activity.defn(name=NOTIFY)
    async def notify(self, notification: Notification) -> None:
        link = f"{self.public_url}{notification.link_path}"
        log.info(
            "notification",
            notification_id=notification.notification_id,
            kind=notification.kind.value,
            referral_id=notification.referral_id,
            roles=[r.value for r in notification.roles],
            clock=notification.clock.value if notification.clock else None,
            step=notification.step.value if notification.step else None,
            attempt=activity.info().attempt,
        )
        failures: list[Exception] = []
        for channel in self.channels:  # one channel down must not hold back the others
            try:
                if await channel.deliver(notification, link):
                    _count(channel, notification, "delivered")
            except Exception as failure:  # re-raised below, after the others
                failures.append(failure)
                _count(channel, notification, "failed" if _is_permanent(failure) else "retrying")
        if failures:
            # Retry while any channel may still succeed; only then report a permanent failure.
            transient = [f for f in failures if not _is_permanent(f)]
            raise (transient or failures)[0]


def _count(channel: Channel, notification: Notification, outcome: str) -> None:
    labels = {
        "channel": getattr(channel, "name", type(channel).__name__.lower()),
        "outcome": outcome,
        "kind": notification.kind.value,
        "step": notification.step.value if notification.step else "none",
    }
    counter = activity.metric_meter().create_counter(
        "cse_notifications", "Notifications by channel and outcome"
    )
    counter.add(1, labels)


def _is_permanent(failure: Exception) -> bool:
    return isinstance(failure, ApplicationError) and failure.type == PERMANENT_FAILURE
