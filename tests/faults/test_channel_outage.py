"""Both channels down and back: the SMTP relay (a real aiosmtpd server) and the webhook
receiver refuse connections while twelve late referrals open and are allocated, assessed and
screened, and record a missing episode; every notification fails and is retried (README:
5 s, then doubling). Once each pending send has failed at least twice, both come back on the
same ports.

Then: every notification the cases sent is in the outbox once, arrived as one email to its
role inboxes (Message-ID from the notification id) and at each of its webhooks, any repeat
with the same id; every accepted update is in its case's history once; no workflow task
failed.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest
from temporalio.client import WorkflowHandle

from tests.faults.conftest import MakeRig
from tests.faults.ledger import (
    PATHWAY,
    Ledger,
    due_notifications,
    eventually,
    late_referral,
    notification_problems,
    open_case,
    outbox_lines,
    settled_after_faults,
    statuses,
    strategic_escalations,
    totals,
)

pytestmark = pytest.mark.faults

CASES = 12
STEPS = PATHWAY[:5]  # allocate, decide, screening, assessment, missing episode
FAILED_ATTEMPTS = 2
RECOVERY_TIMEOUT = 60.0  # the retry after two failures comes 20 s after the second


async def test_notifications_held_back_while_the_channels_are_down_all_arrive_once_back(
    make_rig: MakeRig,
) -> None:
    began = time.monotonic()
    rig = await make_rig(email=True)
    smtp = rig.smtp
    assert smtp is not None
    ledger = Ledger()
    smtp.down()
    rig.hooks.down()
    try:
        handles: list[WorkflowHandle[Any, Any]] = []
        for index in range(CASES):
            handles.append(await open_case(rig.client, rig.task_queue, late_referral("CO", index)))
        await asyncio.gather(*(ledger.drive(h, STEPS) for h in handles))
        wids = [h.id for h in handles]

        async def not_yet_failed_twice() -> list[str]:
            cases = await statuses(rig.client, wids)
            due = sum(sum(due_notifications(s).values()) for s in cases.values())
            tried = len(outbox_lines(rig.outbox))  # the outbox never fails: first attempts
            if tried < due:
                return [f"{tried} of {due} notifications tried"]
            return await _sends_failed_fewer_than(rig, wids, FAILED_ATTEMPTS)

        await eventually("every send to fail twice", not_yet_failed_twice, within=60.0)
        assert smtp.mails == []
        assert rig.hooks.posts == []
    finally:
        smtp.up()
        rig.hooks.up()
    down_for = time.monotonic() - began

    rids = [w.removeprefix("referral-") for w in wids]
    required = strategic_escalations(rids)

    _, counted = await settled_after_faults(
        rig.client,
        ledger,
        wids,
        lambda cases: notification_problems(cases, rig.outbox, rig.hooks, smtp.mails, required),
        RECOVERY_TIMEOUT,
        interval=0.5,
    )
    print(
        f"\nchannel outage: down {down_for:.0f} s; {len(ledger.accepted())} updates accepted; "
        f"{len({m.message_id for m in smtp.mails})} notifications by email ({len(smtp.mails)} "
        f"mails), {len({p.key for p in rig.hooks.posts})} by webhook ({len(rig.hooks.posts)} "
        f"posts); {dict(totals(counted))}; {time.monotonic() - began:.0f} s"
    )


async def _sends_failed_fewer_than(rig: Any, wids: list[str], attempts: int) -> list[str]:
    """A line per notify activity not yet on attempt `attempts + 1` after a channel failure."""
    described = await asyncio.gather(*(rig.client.get_workflow_handle(w).describe() for w in wids))
    problems = []
    for d in described:
        for activity in d.raw_description.pending_activities:
            failure = activity.last_failure.message
            if activity.attempt <= attempts or not failure:
                problems.append(f"{d.id}: attempt {activity.attempt}, last failure {failure!r}")
    return problems
