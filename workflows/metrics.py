"""The case's own counters, recorded through the workflow's replay-safe metric meter: a case
replayed from its history (a worker restarted, a case evicted from the cache) counts nothing
again. Served beside the SDK's metrics on the worker's endpoint (CSE_METRICS_PORT).

Labels are the clock's name or the refusal's rule only: never a referral id, a child or a
team (the meter adds the namespace, task queue and workflow type).

cse_clocks_opened_total{clock}     a deadline started counting
cse_clocks_met_total{clock}        it stopped in time
cse_clocks_breached_total{clock}   it passed its breach step, or stopped late
cse_clocks_cancelled_total{clock}  the case moved on or closed without it, in time
cse_refusals_total{rule}           a start, update or query refused (contract/refusals.py)
"""

from __future__ import annotations

from collections.abc import Iterable

from temporalio import workflow
from temporalio.common import MetricCounter

with workflow.unsafe.imports_passed_through():
    from domain.status import Clock, ClockState

_CLOCK_COUNTERS = {
    ClockState.open: ("cse_clocks_opened", "Case deadlines opened, by clock"),
    ClockState.met: ("cse_clocks_met", "Case deadlines met in time, by clock"),
    ClockState.breached: ("cse_clocks_breached", "Case deadlines breached, by clock"),
    ClockState.cancelled: ("cse_clocks_cancelled", "Case deadlines cancelled, by clock"),
}


class ClockCounter:
    """Counts each clock's moves between the states it was last seen in and its states now.

    A clock seen for the first time was opened (and, if it is already met, breached or
    cancelled, moved on too); a clock that moves open -> breached -> stopped late counts one
    breach. Build it with the clocks a continued run carries, so they are not opened twice."""

    def __init__(self, carried: Iterable[Clock] = ()) -> None:
        self._seen: dict[str, ClockState] = {c.id: c.state for c in carried}
        self._counters: dict[ClockState, MetricCounter] = {}

    def count(self, clocks: Iterable[Clock]) -> None:
        for clock in clocks:
            was = self._seen.get(clock.id)
            if was == clock.state:
                continue
            if was is None:
                self._add(ClockState.open, clock)
            if clock.state != ClockState.open:
                self._add(clock.state, clock)
            self._seen[clock.id] = clock.state

    def _add(self, state: ClockState, clock: Clock) -> None:
        counter = self._counters.get(state)
        if counter is None:
            name, description = _CLOCK_COUNTERS[state]
            counter = workflow.metric_meter().create_counter(name, description)
            self._counters[state] = counter
        counter.add(1, {"clock": clock.name.value})
