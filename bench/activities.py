"""The benchmarks' own `notify` activities: no channels, so a figure is the workflow's cost.

`NotificationSink` stands in for the project's notify activity under its real name beside
ReferralWorkflow in an in-process worker (bench_case). `BareOutbox` is the baseline worker's
notify (bench.minimal_worker): one JSON line per call in its outbox file, as the project's
outbox file writes one per notification, so "all notified" is read the same way for both.
"""

from __future__ import annotations

import json
from pathlib import Path

from temporalio import activity

from domain.notifications import Notification


class NotificationSink:
    """The project's `notify`, sending nothing; counts what it was asked to send."""

    def __init__(self) -> None:
        self.count = 0

    @activity.defn(name="notify")
    async def notify(self, notification: Notification) -> None:
        self.count += 1


class BareOutbox:
    """The baseline's `notify`: appends `{"id": ..., "step": "breach"}` to its outbox file."""

    def __init__(self, path: Path) -> None:
        self.path = path

    @activity.defn(name="notify")
    async def notify(self, workflow_id: str) -> None:
        with self.path.open("a", encoding="utf-8") as out:
            out.write(json.dumps({"id": workflow_id, "step": "breach"}) + "\n")
