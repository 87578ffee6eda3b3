"""Row 5: how many bytes of history each update adds, early in a case and late, read from the
server (HistorySizeBytes, as `describe` reports it) after each update, for worker.py against
the minimal worker."""

from __future__ import annotations

import asyncio
import functools
import itertools
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from temporalio.client import WorkflowHandle

from bench.bare_workflow import BareWorkflow
from bench.bench_case import case_events, new_referral
from bench.report import Row
from bench.stand import Stand
from edge.intake import start_case

GOAL_BYTES = 2048
FLAT = 1.25  # "flat": the last round of updates adds at most this much more than the first
OPENING = 8  # updates from referral to a safety plan under review
ROUND = 4  # review, professional concern, allocation, screening


Update = Callable[[], tuple[str, Any]]


def _opening(n: int) -> tuple[str, Any]:
    return case_events(datetime.now(UTC).isoformat())[n]


def long_case_events(count: int) -> list[Update]:
    """The way to a safety plan under review (8 updates), then reviews, concerns,
    allocations and screenings in turn, as a case that stays open for years gathers them."""

    def at() -> str:
        return datetime.now(UTC).isoformat()

    sw = {"actor": "bench-sw"}
    opening: list[Update] = [functools.partial(_opening, n) for n in range(OPENING)]
    cycle: list[Update] = [
        lambda: (
            "record_review",
            {"score": 2, "professional_concern": "medium", "reviewed_at": at(), **sw},
        ),
        lambda: ("raise_professional_concern", {"level": "medium", "raised_at": at(), **sw}),
        lambda: (
            "allocate",
            {
                "social_worker": f"sw-{uuid.uuid4().hex[:4]}",
                "team": "BENCH",
                "allocated_at": at(),
                **sw,
            },
        ),
        lambda: (
            "record_screening",
            {"score": 2, "professional_concern": "medium", "screened_at": at(), **sw},
        ),
    ]
    return list(itertools.islice(itertools.chain(opening, itertools.cycle(cycle)), count))


async def _size_when_quiet(handle: WorkflowHandle[Any, Any]) -> tuple[int, int]:
    """(history bytes, events) once the workflow has nothing pending and stopped growing."""
    last = -1
    while True:
        raw = (await handle.describe()).raw_description
        info = raw.workflow_execution_info
        busy = raw.HasField("pending_workflow_task") or len(raw.pending_activities) > 0
        if not busy and info.history_length == last:
            return info.history_size_bytes, info.history_length
        last = info.history_length
        await asyncio.sleep(0.1)


async def _growth(
    handle: WorkflowHandle[Any, Any],
    updates: list[Update],
    tick: Callable[[], None],
) -> tuple[list[int], int]:
    """Bytes added by each update, and the history's length in events at the end."""
    size, _ = await _size_when_quiet(handle)
    added = []
    for update in updates:
        name, payload = update()
        await handle.execute_update(name, payload)
        now, events = await _size_when_quiet(handle)
        added.append(now - size)
        size = now
        tick()
    return added, events


def _mean(values: list[int]) -> float:
    return sum(values) / len(values)


async def history_row(stand: Stand) -> list[Row]:
    count = stand.sizes.history_updates
    workers = stand.shared_workers()
    client = await stand.client(stand.shared_server())
    with stand.track.step("row 5: history bytes per update", total=2 * count) as tick:
        referral = new_referral(datetime.now(UTC).isoformat())
        case = client.get_workflow_handle(await start_case(client, referral, workers.full_queue))
        full, full_events = await _growth(case, long_case_events(count), tick)
        bare = await client.start_workflow(
            BareWorkflow.run, id=f"bare-{uuid.uuid4().hex}", task_queue=workers.minimal_queue
        )
        touches: list[Update] = [lambda: ("touch", False)] * count
        minimal, minimal_events = await _growth(bare, touches, tick)
    rounds = (count - OPENING) // ROUND
    if rounds < 2:
        raise SystemExit(f"row 5 needs {OPENING} + 2 x {ROUND} updates at least, not {count}")
    first = slice(OPENING, OPENING + ROUND)
    last = slice(OPENING + (rounds - 1) * ROUND, OPENING + rounds * ROUND)
    early, late = _mean(full[first]), _mean(full[last])
    base_late = _mean(minimal[last])
    met = late <= GOAL_BYTES and late <= early * FLAT
    return [
        Row(
            number=5,
            what=f"history bytes added per update ({count} updates)",
            measured=f"{late / 1000:.1f} KB late, {early / 1000:.1f} KB early",
            baseline=f"{base_late / 1000:.2f} KB",
            ratio=f"{late / base_late:.1f}x",
            goal="<= 2 KB, flat",
            met=met,
            how=(
                f"one full case through {count} updates (to a safety plan under review, then "
                "reviews, professional concerns, allocations and screenings in turn) on "
                "worker.py, sealed; after each update, once the case has nothing pending, the "
                "server's HistorySizeBytes (`describe().raw_description.workflow_execution_info"
                f".history_size_bytes`). Early is the mean added by the first round of "
                f"{ROUND} (updates {OPENING + 1}-{OPENING + ROUND}), late by the last (updates "
                f"{last.start + 1}-{last.stop}): the same updates, on a case grown longer. Flat "
                f"means late <= {FLAT} x early. The minimal: a no-op update {count} times, "
                "sealed too, late over the same positions."
            ),
            details=[
                "full case, bytes added by each update: " + ", ".join(str(b) for b in full),
                f"the {OPENING} updates from referral to review added "
                f"{_mean(full[:OPENING]) / 1000:.1f} KB each on average",
                f"history at the end: {sum(full) / 1000:.1f} KB added by updates, "
                f"{full_events} events (minimal: {minimal_events} events)",
            ],
        )
    ]
