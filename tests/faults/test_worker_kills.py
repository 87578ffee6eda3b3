"""worker.py SIGKILLed twelve times while 24 cases are driven through the pathway at once.

Each case is a late referral (its two opening clocks overdue: catch-up sends their strategic
escalations as it opens), then eight updates from referral to review, then repeatable updates
(professional concern, allocation) until the last kill. The kills land while cases are being
opened, while updates are in flight, and twice while a notification is being delivered: the
allocated social worker `sw-slow`'s webhook holds the first delivery of each notification for
a few seconds, and the worker is killed while it holds one. After every kill worker.py is
started again at once.

Then: every accepted update is in its case's history once, every notification the cases sent
is in the outbox once and reached each of its webhooks (a second delivery only with the same
notification id), and no workflow task failed.
"""

from __future__ import annotations

import asyncio
import random
import time
from dataclasses import dataclass
from typing import Any

import pytest
from temporalio.client import WorkflowHandle

from domain.events import Allocate
from tests.faults.conftest import MakeRig, Rig
from tests.faults.ledger import (
    PATHWAY,
    TEAM,
    UPDATE_DEADLINE,
    Ledger,
    late_referral,
    notification_problems,
    open_case,
    settled_after_faults,
    strategic_escalations,
    totals,
    until,
)
from tests.faults.rig import SLOW_WORKER

pytestmark = pytest.mark.faults

CASES = 24
KILLS = 12
SEND_KILLS = (4, 9)  # these kills wait for a notification held mid-delivery
UPTIME = (0.8, 2.5)  # seconds a restarted worker runs before the next kill (spacing only)
# A send cut off by a kill is retried when its activity times out (30 s) plus the first
# retry interval (5 s); a workflow task on the dead worker's sticky queue waits 10 s.
SETTLE_TIMEOUT = 90.0
KILLING_TIMEOUT = 120.0  # all twelve kills and restarts: about 35 s when nothing is wrong


@dataclass(frozen=True)
class KillPoint:
    number: int
    what: str
    accepted: int
    updates_in_flight: int
    sends_held: int


def allocate_to_the_slow_worker(actor: str, at: Any) -> Allocate:
    return Allocate(social_worker=SLOW_WORKER, team=TEAM, allocated_at=at, actor=actor)


async def hold_a_delivery(
    rig: Rig, ledger: Ledger, handle: WorkflowHandle[Any, Any], sends: list[asyncio.Task[bool]]
) -> None:
    """Allocate a case to `sw-slow` and wait until its notification is held mid-delivery."""
    before = rig.hooks.held
    sends.append(asyncio.create_task(ledger.send(handle, allocate_to_the_slow_worker)))
    await until(
        "a notification held mid-delivery",
        lambda: rig.hooks.holding > 0 and rig.hooks.held > before,
        60.0,
    )


async def kill_worker_repeatedly(
    rig: Rig, ledger: Ledger, handles: dict[str, WorkflowHandle[Any, Any]], rng: random.Random
) -> list[KillPoint]:
    points = []
    slow_sends: list[asyncio.Task[bool]] = []
    for number in range(1, KILLS + 1):
        if number == 1:
            what = "while cases open"
            await until(what, lambda: len(handles) >= CASES // 3, 30.0)
        else:
            # Spacing, not synchronisation: nothing checked depends on how long this is.
            await asyncio.sleep(rng.uniform(*UPTIME))
            if number in SEND_KILLS:
                what = "mid-delivery"
                await hold_a_delivery(rig, ledger, rng.choice(list(handles.values())), slow_sends)
            else:
                what = "updates in flight"
                await until(what, lambda: ledger.in_flight > 0, 30.0)
        accepted = len(ledger.accepted())
        points.append(KillPoint(number, what, accepted, ledger.in_flight, rig.hooks.holding))
        await rig.kill_worker()
        await rig.start_worker()
    await asyncio.gather(*slow_sends)
    return points


async def test_no_update_or_notification_is_lost_when_the_worker_is_killed_again_and_again(
    make_rig: MakeRig,
) -> None:
    began = time.monotonic()
    rig = await make_rig(slow_paths=frozenset({"/slow"}))
    seed = random.randrange(1 << 30)
    rng = random.Random(seed)
    ledger = Ledger()
    handles: dict[str, WorkflowHandle[Any, Any]] = {}
    last_kill_done = asyncio.Event()

    async def one_case(index: int, case_rng: random.Random) -> None:
        referral = late_referral("KW", index)
        handle = await open_case(rig.client, rig.task_queue, referral)
        handles[handle.id] = handle
        await ledger.drive(handle, PATHWAY, then_until=last_kill_done, rng=case_rng)

    drivers = [asyncio.create_task(one_case(i, random.Random(rng.random()))) for i in range(CASES)]
    async with asyncio.timeout(KILLING_TIMEOUT):
        points = await kill_worker_repeatedly(rig, ledger, handles, rng)
    killed_for = time.monotonic() - began
    last_kill_done.set()
    await asyncio.wait_for(asyncio.gather(*drivers), timeout=UPDATE_DEADLINE + 30)
    rig.workers.assert_running()

    wids = sorted(handles)
    required = strategic_escalations([handles[w].id.removeprefix("referral-") for w in wids])

    _, counted = await settled_after_faults(
        rig.client,
        ledger,
        wids,
        lambda cases: notification_problems(cases, rig.outbox, rig.hooks, required=required),
        SETTLE_TIMEOUT,
        interval=1.0,
    )
    assert len(points) >= 10
    assert sum(p.what == "mid-delivery" and p.sends_held > 0 for p in points) == len(SEND_KILLS)
    tally = totals(counted)
    print(
        f"\nworker kills (seed {seed}): {rig.workers.kills} kills survived "
        f"({', '.join(f'{p.number}: {p.what}, {p.updates_in_flight} in flight' for p in points)}); "
        f"{len(ledger.accepted())} updates accepted over {len(wids)} cases; "
        f"{sum(1 for _ in rig.hooks.posts)} webhook posts for "
        f"{len({p.key for p in rig.hooks.posts})} notifications; {dict(tally)}; "
        f"kills over the first {killed_for:.0f} s of {time.monotonic() - began:.0f} s"
    )
