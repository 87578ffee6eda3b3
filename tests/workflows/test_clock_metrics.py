"""The clock counters (workflows/metrics.py) count each clock's move once: when it opens, and
when it is met, breached or cancelled; never again when a worker replays the case from its
history, and never for clocks a continued run carries over."""

from __future__ import annotations

import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta

from temporalio.client import Client
from temporalio.runtime import MetricBuffer, Runtime, TelemetryConfig
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from domain.policy import ClockName
from domain.status import Clock, ClockState
from edge.converter import data_converter
from tests.workflows.clock_tally import ClockTally
from workflows.sandbox import workflow_runner

T0 = datetime(2026, 3, 2, 9, tzinfo=UTC)


def clock(clock_id: str, name: ClockName, state: ClockState) -> Clock:
    return Clock(
        id=clock_id,
        name=name,
        opened_at=T0,
        due_at=T0 + timedelta(days=3),
        state=state,
        escalations=[],
    )


def counts(buffer: MetricBuffer) -> Counter[tuple[str, str]]:
    tally: Counter[tuple[str, str]] = Counter()
    for update in buffer.retrieve_updates():
        if update.metric.name.startswith("cse_clocks_"):
            tally[(update.metric.name, str(update.attributes["clock"]))] += int(update.value)
    return tally


async def test_each_clock_move_counts_once_though_every_task_replays_the_case(
    env: WorkflowEnvironment,
) -> None:
    buffer = MetricBuffer(10_000)
    runtime = Runtime(telemetry=TelemetryConfig(metrics=buffer))
    client = await Client.connect(
        env.client.service_client.config.target_host,
        data_converter=data_converter,
        runtime=runtime,
    )
    decision, strategy = ClockName.referral_decision, ClockName.strategy_discussion
    carried = [clock("referral_decision-1", decision, ClockState.met)]
    breached = clock("strategy_discussion-2", strategy, ClockState.breached)
    frames = [
        [*carried, clock("strategy_discussion-2", strategy, ClockState.open)],
        [*carried, breached],
        [*carried, breached],  # nothing moved
        [*carried, breached, clock("referral_decision-3", decision, ClockState.cancelled)],
    ]
    queue = f"clock-metrics-{uuid.uuid4().hex[:8]}"
    async with Worker(
        client,
        task_queue=queue,
        workflows=[ClockTally],
        workflow_runner=workflow_runner(strict=True),
        max_cached_workflows=0,  # every workflow task replays all that came before it
    ):
        handle = await client.start_workflow(ClockTally.run, carried, id=queue, task_queue=queue)
        for frame in frames:
            await handle.execute_update(ClockTally.clocks_now, frame)
        await handle.signal(ClockTally.finish)
        assert await handle.result() == len(frames)

    assert counts(buffer) == {
        ("cse_clocks_opened", "strategy_discussion"): 1,
        ("cse_clocks_breached", "strategy_discussion"): 1,
        ("cse_clocks_opened", "referral_decision"): 1,
        ("cse_clocks_cancelled", "referral_decision"): 1,
    }
