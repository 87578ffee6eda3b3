"""The benchmark's baseline: a workflow whose update records nothing and checks nothing,
sandboxed like ReferralWorkflow so the comparison is fair."""

from temporalio import workflow


@workflow.defn
class BareWorkflow:
    """The baseline: an update that records nothing and checks nothing."""

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
