"""Rows 2 and 3: update latency with 5 and 20 actors at once, and the worker process's CPU
time per update and per new case, for worker.py against the minimal worker.

Each worker runs in a process of its own, so its CPU time (from /proc) is its work alone:
the benchmark's client load runs here. For each number of actors, minimal and full take
turns, half the cases at a time, so machine load and store growth weigh on both alike. Each
turn starts its cases (`actors` at a time) and waits until the worker has finished with them
(CPU per new case), then each actor takes case after case and sends its 9 updates one after
another, each timed from send to answer, until every case is closed (CPU per update).
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from temporalio.client import Client, WorkflowHandle

from bench import rig
from bench.bare_workflow import BareWorkflow
from bench.bench_case import UPDATES_PER_CASE, case_events, new_referral
from bench.report import Row
from bench.stand import Stand, work_done
from edge.intake import start_case

LATENCY_GOAL = 1.3
CPU_GOAL = 1.5


@dataclass
class Tally:
    """What one kind of workflow cost, summed over its turns."""

    start_cpu: float = 0.0
    cases: int = 0
    update_cpu: float = 0.0
    updates: int = 0
    latencies: dict[int, list[float]] = field(default_factory=dict)  # ms, by actors


@dataclass(frozen=True)
class Kind:
    """How to start and drive one kind of workflow."""

    name: str
    start: Callable[[Client, str], Awaitable[WorkflowHandle[Any, Any]]]
    updates: Callable[[], list[tuple[str, Any]]]


async def _start_full(client: Client, queue: str) -> WorkflowHandle[Any, Any]:
    referral = new_referral(datetime.now(UTC).isoformat())
    return client.get_workflow_handle(await start_case(client, referral, queue))


async def _start_bare(client: Client, queue: str) -> WorkflowHandle[Any, Any]:
    return await client.start_workflow(
        BareWorkflow.run, id=f"bare-{uuid.uuid4().hex}", task_queue=queue
    )


FULL = Kind("full", _start_full, lambda: case_events(datetime.now(UTC).isoformat()))
MINIMAL = Kind(
    "minimal",
    _start_bare,
    lambda: [("touch", n == UPDATES_PER_CASE - 1) for n in range(UPDATES_PER_CASE)],
)


async def _turn(
    client: Client,
    kind: Kind,
    queue: str,
    pid: int,
    actors: int,
    cases: int,
    tally: Tally,
    tick: Callable[[], None],
) -> None:
    idle = await rig.idle_rate(pid, 0.5)
    before = rig.usage(pid)
    gate = asyncio.Semaphore(actors)

    async def start() -> WorkflowHandle[Any, Any]:
        async with gate:
            return await kind.start(client, queue)

    handles = await asyncio.gather(*(start() for _ in range(cases)))
    started = await work_done(pid, idle, client, [h.id for h in handles])
    tally.start_cpu += started.cpu - before.cpu - idle * (started.at - before.at)
    tally.cases += cases

    waiting = list(handles)
    latencies = tally.latencies.setdefault(actors, [])

    async def actor() -> None:
        while waiting:
            handle = waiting.pop()
            for name, payload in kind.updates():
                sent = time.perf_counter()
                await handle.execute_update(name, payload)
                latencies.append((time.perf_counter() - sent) * 1000)
                tick()
            await handle.result()

    await asyncio.gather(*(actor() for _ in range(actors)))
    done = await rig.settled(pid, idle)
    tally.update_cpu += done.cpu - started.cpu - idle * (done.at - started.at)
    tally.updates += cases * UPDATES_PER_CASE


async def measure(stand: Stand) -> dict[str, Tally]:
    workers = stand.shared_workers()
    client = await stand.client(stand.shared_server())
    runs = {
        FULL.name: (workers.full, workers.full_queue),
        MINIMAL.name: (workers.minimal, workers.minimal_queue),
    }
    tallies = {name: Tally() for name in runs}
    # A warm-up turn each, not counted: the first cases pay for imports and caches.
    for kind in (MINIMAL, FULL):
        proc, queue = runs[kind.name]
        await _turn(client, kind, queue, proc.pid, 2, 2, Tally(), lambda: None)
    for actors, cases in stand.sizes.actor_cases.items():
        total = 2 * cases * UPDATES_PER_CASE
        with stand.track.step(f"rows 2-3: updates, {actors} actors", total=total) as tick:
            for half in (cases // 2, cases - cases // 2):
                for kind in (MINIMAL, FULL):
                    proc, queue = runs[kind.name]
                    await _turn(
                        client, kind, queue, proc.pid, actors, half, tallies[kind.name], tick
                    )
    return tallies


def latency_rows(tallies: dict[str, Tally]) -> list[Row]:
    full, minimal = tallies[FULL.name], tallies[MINIMAL.name]
    rows = []
    for actors in full.latencies:
        p50 = rig.percentile(full.latencies[actors], 50)
        base = rig.percentile(minimal.latencies[actors], 50)
        p95 = rig.percentile(full.latencies[actors], 95)
        base95 = rig.percentile(minimal.latencies[actors], 95)
        rows.append(
            Row(
                number=2,
                what=f"update p50, {actors} concurrent actors",
                measured=f"{p50:.1f} ms",
                baseline=f"{base:.1f} ms",
                ratio=f"{p50 / base:.2f}x",
                goal=f"<= {LATENCY_GOAL}x",
                met=p50 / base <= LATENCY_GOAL,
                how=(
                    f"{actors} actors, each sending one case's 9 updates one after another "
                    "(`execute_update`, timed from send to answer in the client), then the next "
                    "case; worker.py (sealed, outbox file, logs at INFO) against "
                    "`bench.minimal_worker` (a no-op update, same sandbox and codec), each in "
                    "its own process, on the SQLite-file dev server."
                ),
                details=[
                    f"{len(full.latencies[actors])} updates of each kind; p95 {p95:.1f} ms "
                    f"against {base95:.1f} ms ({p95 / base95:.2f}x)"
                ],
            )
        )
    return rows


def cpu_rows(tallies: dict[str, Tally]) -> list[Row]:
    full, minimal = tallies[FULL.name], tallies[MINIMAL.name]
    per_update = full.update_cpu / full.updates * 1000
    base_update = minimal.update_cpu / minimal.updates * 1000
    per_case = full.start_cpu / full.cases * 1000
    base_case = minimal.start_cpu / minimal.cases * 1000
    how = (
        "the worker process's own CPU time (user + system, /proc/<pid>/stat) over each step, "
        "less its idle rate, divided by the updates or cases of the step; a step ends when the "
        "worker has been quiet for a second and the server holds no workflow task or activity "
        "for its workflows. Per update includes closing the case after its 9th update; per new "
        "case is the start up to the case waiting (for a full case: its first task, the "
        "`earlier_cases` activity and the task after it)."
    )
    return [
        Row(
            number=3,
            what="worker CPU per update",
            measured=f"{per_update:.1f} ms",
            baseline=f"{base_update:.1f} ms",
            ratio=f"{per_update / base_update:.2f}x",
            goal=f"<= {CPU_GOAL}x",
            met=per_update / base_update <= CPU_GOAL,
            how=how,
            details=[f"{full.updates} updates of each kind"],
        ),
        Row(
            number=3,
            what="worker CPU per new case",
            measured=f"{per_case:.1f} ms",
            baseline=f"{base_case:.1f} ms",
            ratio=f"{per_case / base_case:.2f}x",
            goal=f"<= {CPU_GOAL}x",
            met=per_case / base_case <= CPU_GOAL,
            how="as the row above.",
            details=[f"{full.cases} cases of each kind"],
        ),
    ]
