"""Row 6: N clocks breached at the same moment; how long until every breach is notified (its
line in the worker's outbox file), for worker.py against the minimal worker doing as many
timers and activities.

The cases run under a bench policy (a file in CSE_POLICY_DIR) whose referral decision falls
due an hour after the referral, the rest of the directive's ladder unchanged; each case is
received an hour before a moment T a little ahead, so every referral decision breaches at T.
(Its reminder, a working day before, is past at the start and is sent then, before T.) The
moment T is set far enough ahead for every case to be started and waiting by then, judged
from a first few cases started in the same way. The minimal workflow sleeps until T, then runs
one `notify` that writes one line to its outbox file.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from temporalio.client import Client

from bench import rig
from bench.bare_workflow import BareAlarmWorkflow
from bench.report import Row
from bench.stand import Stand, queue_name, work_done
from domain.referral import Referral
from edge.intake import start_case

GOAL_SECONDS = 30.0
TABLE_BREACHES = 1_000
START_WIDTH = 50
PROBE = 30  # cases started first to judge how far ahead T must be
BENCH_POLICY = """\
# python -m bench, row 6: the directive's policy, but a referral decision due in an hour.
version = "bench-referral-decision-in-an-hour"
effective_from = 2018-02-01

[deadlines]
referral_decision = { amount = 1, unit = "hours" }
"""


@dataclass(frozen=True)
class Wave:
    seconds: float  # from T until the last breach was in the outbox
    first: float  # from T until the first was
    cpu: float  # the worker's CPU seconds over the wave
    overran: float  # seconds a first wave's starts ran past its T (so it was started again)
    late: float  # seconds the measured wave's starts ran past T (0: all were waiting)


Starter = Callable[[Client, str, datetime], Awaitable[str]]


async def _start_case(client: Client, queue: str, due: datetime) -> str:
    referral = Referral(
        referral_id=f"BREACH-{uuid.uuid4().hex[:12]}",
        received_at=due - timedelta(hours=1),
        child_ref="BENCH",
        team="BENCH",
        referrer_agency="bench",
    )
    return await start_case(client, referral, queue)


async def _start_bare(client: Client, queue: str, due: datetime) -> str:
    handle = await client.start_workflow(
        BareAlarmWorkflow.run, due.isoformat(), id=f"alarm-{uuid.uuid4().hex}", task_queue=queue
    )
    return handle.id


def _breaches(outbox: Path) -> int:
    if not outbox.exists():
        return 0
    return outbox.read_text(encoding="utf-8").count('"step": "breach"')


async def _wave(
    stand: Stand, client: Client, start: Starter, queue: str, pid: int, outbox: Path, label: str
) -> Wave:
    count = stand.sizes.breaches
    idle = await rig.idle_rate(pid, 1.0)
    gate = asyncio.Semaphore(START_WIDTH)

    async def started(due: datetime, n: int, tick: Callable[[], None]) -> float:
        """Start `n`, wait until the worker has finished with them; how long that took."""
        began = time.monotonic()

        async def one() -> str:
            async with gate:
                workflow_id = await start(client, queue, due)
            tick()
            return workflow_id

        ids = await asyncio.gather(*(one() for _ in range(n)))
        return (await work_done(pid, idle, client, ids)).at - began

    probe = min(100, max(PROBE, count // 10))
    lead = await started(datetime.now(UTC) + timedelta(minutes=59), probe, lambda: None)
    lead = lead / probe * count * 1.5 + 10.0
    overran = 0.0
    for attempt in (1, 2):  # a second wave, further ahead, if the starts ran past T
        already = _breaches(outbox)
        due_at = time.time() + lead
        with stand.track.step(f"row 6: {count} {label} falling due together", total=count) as tick:
            took = await started(datetime.fromtimestamp(due_at, UTC), count, tick)
        late = max(0.0, time.time() - due_at)
        if not late or attempt == 2:
            break
        overran = late
        stand.track.say(f"row 6: {label}: starts ran {overran:.0f} s past T; once more")
        await _notified(outbox, already + count, due_at)  # this wave's own, before the next
        lead = took * 1.5 + 10.0
    with stand.track.step(f"row 6: waiting for T, then {count} {label} notified"):
        await asyncio.sleep(max(0.0, due_at - time.time()))
        at_due = rig.usage(pid)
        first, seconds = await _notified(outbox, already + count, due_at)
        cpu = rig.usage(pid).cpu - at_due.cpu
    return Wave(seconds, first, cpu, overran, late)


async def _notified(outbox: Path, total: int, due_at: float) -> tuple[float, float]:
    """Seconds from T until the outbox held its first new breach, and until it held `total`."""
    before = _breaches(outbox)
    first = None
    deadline = time.time() + max(120.0, (total - before) * 0.3)
    while (seen := _breaches(outbox)) < total:
        if first is None and seen > before:
            first = time.time() - due_at
        if time.time() > deadline:
            raise SystemExit(f"row 6: {seen}/{total} breaches in the outbox at the deadline")
        await asyncio.sleep(0.05)
    seconds = time.time() - due_at
    return (first if first is not None else seconds), seconds


async def breach_rows(stand: Stand) -> list[Row]:
    count = stand.sizes.breaches
    folder = stand.subfolder("breaches")
    policies = folder / "policies"
    policies.mkdir(exist_ok=True)
    (policies / "bench.toml").write_text(BENCH_POLICY)
    with rig.dev_server(folder, persisted=False) as address:
        client = await stand.client(address)
        queue = queue_name("breaches")
        env = {"CSE_POLICY_DIR": str(policies)}
        with rig.worker_process(folder, address, queue, stand.keys, env=env) as worker:
            outbox = rig.outbox_file(folder, queue)
            full = await _wave(stand, client, _start_case, queue, worker.pid, outbox, "cases")
        queue = queue_name("alarms")
        with rig.worker_process(folder, address, queue, stand.keys, minimal=True) as worker:
            outbox = rig.outbox_file(folder, queue, minimal=True)
            minimal = await _wave(stand, client, _start_bare, queue, worker.pid, outbox, "alarms")
    ratio = full.seconds / minimal.seconds
    scaled = "" if count == TABLE_BREACHES else f" (goal for {TABLE_BREACHES:,})"
    overran = [
        f"{name}: a first wave's starts ran {w.overran:.0f} s past its T; measured on a second "
        "wave set further ahead"
        for name, w in (("cases", full), ("minimal", minimal))
        if w.overran > 0
    ] + [
        f"{name}: INVALID, the starts ran {w.late:.1f} s past T, so some breached as they started"
        for name, w in (("cases", full), ("minimal", minimal))
        if w.late > 0
    ]
    valid = full.late == 0 and minimal.late == 0
    return [
        Row(
            number=6,
            what=f"{count:,} breaches at once, all notified",
            measured=f"{full.seconds:.1f} s",
            baseline=f"{minimal.seconds:.1f} s",
            ratio=f"{ratio:.2f}x",
            goal=f"<= 1.0x, <= {GOAL_SECONDS:.0f} s{scaled}",
            met=ratio <= 1.0 and full.seconds <= GOAL_SECONDS if valid else None,
            how=(
                f"{count:,} cases on a fresh worker.py (sealed, outbox file), on a dev server in "
                "memory, their referral decisions due at the same moment T (see "
                "bench/row_breaches.py); time from T until the outbox file holds every "
                f"breach notification. The minimal: {count:,} workflows on "
                "`bench.minimal_worker` sleeping until their T, then one activity each "
                "writing one outbox line."
            ),
            details=[
                f"first notified {full.first:.1f} s after T (minimal {minimal.first:.1f} s); "
                f"worker CPU over the wave {full.cpu:.1f} s, "
                f"{full.cpu / count * 1000:.1f} ms per breach "
                f"(minimal {minimal.cpu:.1f} s, {minimal.cpu / count * 1000:.1f} ms)",
                *overran,
            ],
        )
    ]
