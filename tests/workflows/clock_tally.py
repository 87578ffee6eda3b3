"""A small workflow feeding `workflows.metrics.ClockCounter` the clocks each update carries,
so its counting can be watched across workflow tasks that replay everything before them."""

from __future__ import annotations

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from domain.status import Clock
    from workflows.metrics import ClockCounter


@workflow.defn
class ClockTally:
    def __init__(self) -> None:
        self._frames: list[list[Clock]] = []
        self._done = False
        self._counted = 0

    @workflow.run
    async def run(self, carried: list[Clock]) -> int:
        counter = ClockCounter(carried)
        while not (self._done and self._counted == len(self._frames)):
            await workflow.wait_condition(lambda: self._done or self._counted < len(self._frames))
            for clocks in self._frames[self._counted :]:
                counter.count(clocks)
                self._counted += 1
        return self._counted

    @workflow.update
    async def clocks_now(self, clocks: list[Clock]) -> int:
        """Answered once counted, so each frame is a workflow task of its own."""
        self._frames.append(clocks)
        frame = len(self._frames)
        await workflow.wait_condition(lambda: self._counted >= frame)
        return frame

    @workflow.signal
    def finish(self) -> None:
        self._done = True
