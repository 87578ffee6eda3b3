"""The Temporal dev server SIGKILLed while clocks fall due, and restarted on its SQLite file.

Twelve late referrals (both opening clocks overdue: their strategic escalations go out as the
cases open) are allocated and assessed, then each records a child who went missing and came
back almost 72 hours ago: the return home interview clock (72 hours, README "Policy") is due
8 to 10 seconds later. The server is killed before the first of those is due, stays down
until the last has passed, and comes back on the same file and port; worker.py keeps running
and reconnects by itself. The catch-up rule breaches each clock at once. The server is killed
a second time as soon as the first breach notification arrives, and restarted again.
Practitioners keep sending updates throughout (each resent with the same update id until
answered).

Then: every accepted update is in its case's history once, every case's return home interview
clock is breached with its breach notification delivered, every notification the cases sent
is in the outbox once and reached each of its webhooks, and no workflow task failed.
"""

from __future__ import annotations

import asyncio
import random
import time
from datetime import datetime, timedelta
from typing import Any

import pytest
from temporalio.client import WorkflowHandle

from domain.events import Allocate, Decide, RecordMissingEpisode
from tests.faults.conftest import MakeRig
from tests.faults.ledger import (
    TEAM,
    Ledger,
    late_referral,
    notification_problems,
    now,
    open_case,
    settled_after_faults,
    strategic_escalations,
    totals,
    until,
)
from tests.faults.rig import WebhookReceiver

pytestmark = pytest.mark.faults

CASES = 12
RETURN_INTERVIEW = timedelta(hours=72)
FIRST_DUE = timedelta(seconds=6)  # after the missing episodes are sent
SPREAD = timedelta(seconds=1)
SETTLE_TIMEOUT = 90.0


def returned_to_be_due(due_at: datetime) -> Any:
    """A missing episode whose return home interview falls due at `due_at`."""

    def make(actor: str, at: datetime) -> RecordMissingEpisode:
        returned_at = due_at - RETURN_INTERVIEW
        went_missing_at = returned_at - timedelta(hours=3)
        return RecordMissingEpisode(
            went_missing_at=went_missing_at, returned_at=returned_at, actor=actor
        )

    return make


OPENING = [
    lambda a, t: Allocate(social_worker=f"sw-{a}", team=TEAM, allocated_at=t, actor=a),
    lambda a, t: Decide(decision="assess", decided_at=t, reason="harm suspected", actor=a),
]


async def test_clocks_due_while_the_server_is_down_all_notify_once_it_is_back(
    make_rig: MakeRig,
) -> None:
    began = time.monotonic()
    rig = await make_rig()
    rng = random.Random()
    ledger = Ledger()
    handles: list[WorkflowHandle[Any, Any]] = []
    for index in range(CASES):
        handle = await open_case(rig.client, rig.task_queue, late_referral("KS", index))
        handles.append(handle)
    await asyncio.gather(*(ledger.drive(h, OPENING) for h in handles))

    first_due = now() + FIRST_DUE
    dues = [first_due + SPREAD * i / CASES for i in range(CASES)]
    await asyncio.gather(
        *(ledger.send(h, returned_to_be_due(due)) for h, due in zip(handles, dues, strict=True))
    )
    assert all(u.outcome == "accepted" for u in ledger.updates), ledger.updates
    stop_practising = asyncio.Event()
    practitioners = [
        asyncio.create_task(ledger.drive(h, [], then_until=stop_practising, rng=rng))
        for h in handles
    ]

    await rig.kill_server()
    killed_at = now()
    due_while_down = sum(due > killed_at for due in dues)
    assert due_while_down, "the server was killed after every clock had fallen due"
    await until("every clock to fall due", lambda: now() > max(dues), 30.0)
    down_for = now() - killed_at
    await rig.start_server()
    rig.workers.assert_running()

    await until("a breach notification delivered", lambda: _breach_posted(rig.hooks), 60.0)
    await rig.kill_server()
    await rig.start_server()
    rig.workers.assert_running()
    stop_practising.set()
    await asyncio.wait_for(asyncio.gather(*practitioners), timeout=SETTLE_TIMEOUT + 60)

    wids = [h.id for h in handles]
    rids = [w.removeprefix("referral-") for w in wids]
    breaches = [(rid, "clock_step", "return_home_interview", "breach") for rid in rids]
    required = [*breaches, *strategic_escalations(rids)]

    cases, counted = await settled_after_faults(
        rig.client,
        ledger,
        wids,
        lambda cases: notification_problems(cases, rig.outbox, rig.hooks, required=required),
        SETTLE_TIMEOUT,
        interval=1.0,
    )
    for status in cases.values():
        interviews = [c for c in status["clocks"] if c["name"] == "return_home_interview"]
        assert [c["state"] for c in interviews] == ["breached"], status["referral_id"]
    print(
        f"\nserver kills: {rig.server.kills} kills, {rig.server.starts - 1} restarts survived "
        f"(down {down_for.total_seconds():.0f} s while {due_while_down} clocks fell due); "
        f"{len(ledger.accepted())} updates accepted, "
        f"{sum(u.attempts - 1 for u in ledger.updates)} resends; "
        f"{len({p.key for p in rig.hooks.posts})} notifications, {len(rig.hooks.posts)} posts; "
        f"{dict(totals(counted))}; {time.monotonic() - began:.0f} s"
    )


def _breach_posted(hooks: WebhookReceiver) -> bool:
    return any(p.body["step"] == "breach" for p in hooks.posts)
