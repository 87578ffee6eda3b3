"""The benchmarks' baselines: workflows that record nothing and check nothing, sandboxed like
ReferralWorkflow (bench.minimal_worker, or beside it in bench_case) so the comparison is fair."""

from datetime import datetime, timedelta

from temporalio import workflow


@workflow.defn
class BareWorkflow:
    """The baseline of a case: an update that records nothing and checks nothing."""

    def __init__(self) -> None:
        self.done = False
        self.count = 0

    @workflow.run
    async def run(self) -> int:
        await workflow.wait_condition(lambda: self.done)
        return self.count

    @workflow.update
    async def touch(self, last: bool) -> int:
        self.count += 1
        self.done = last
        return self.count

    @workflow.query
    def status(self) -> int:
        return self.count


@workflow.defn
class BareAlarmWorkflow:
    """The baseline of a clock falling due: one timer to the given moment, then one activity
    (the baseline's `notify`), then it waits like an open case."""

    @workflow.run
    async def run(self, due_at: str) -> None:
        wait = datetime.fromisoformat(due_at) - workflow.now()
        await workflow.sleep(max(wait, timedelta(0)))
        await workflow.execute_activity(
            "notify", workflow.info().workflow_id, start_to_close_timeout=timedelta(seconds=30)
        )
        await workflow.wait_condition(lambda: False)
