"""Clocks and their escalation ladders (docs/rules.md, Clocks), as plain functions over records.

A clock is due at a time computed from when the thing happened; its ladder steps sit a number
of working days before or after that. Steps fire when their time has come; when several have
come at once (a referral recorded late, a worker that was down) only the most severe is sent
and the earlier ones are recorded as skipped. The breach step marks the clock breached.
"""

from __future__ import annotations

from datetime import date, datetime
from functools import cache

from domain.calendar import WorkingDayCalendar
from domain.policy import ClockName, Deadline, Policy
from domain.status import Clock, ClockState, Escalation, StepStatus


@cache
def calendar_for(closures: tuple[date, ...]) -> WorkingDayCalendar:
    return WorkingDayCalendar(extra_closures=closures)


def policy_calendar(policy: Policy) -> WorkingDayCalendar:
    return calendar_for(tuple(policy.extra_closures))


def due_after(policy: Policy, deadline: Deadline, moment: datetime) -> datetime:
    calendar = policy_calendar(policy)
    if deadline.unit == "working_days":
        return calendar.add_working_days(moment, deadline.amount)
    if deadline.unit == "calendar_months":
        return calendar.add_calendar_months(moment, deadline.amount)
    return calendar.add_hours(moment, deadline.amount)


def new_clock(
    policy: Policy, clock_id: str, name: ClockName, opened_at: datetime, due_at: datetime
) -> Clock:
    calendar = policy_calendar(policy)
    steps = [
        Escalation(step=s.step, at=calendar.shift_working_days(due_at, s.working_days_from_due))
        for s in policy.ladder
    ]
    return Clock(id=clock_id, name=name, opened_at=opened_at, due_at=due_at, escalations=steps)


def stop_clock(clock: Clock, at: datetime) -> None:
    """Stop a running clock at the time the thing happened: met if in time, else breached."""
    clock.stopped_at = at
    if at <= clock.due_at:
        clock.state = ClockState.met
        clock.breached_by = None
    else:
        clock.state = ClockState.breached
        clock.breached_by = at - clock.due_at
    _cancel_pending(clock)


def cancel_clock(clock: Clock, at: datetime) -> None:
    """The case closed or moved on without this clock, at `at`: breached if that was after
    its due time (whenever it was recorded), cancelled otherwise."""
    clock.stopped_at = at
    if at > clock.due_at:
        clock.state = ClockState.breached
        clock.breached_by = at - clock.due_at
    else:
        clock.state = ClockState.cancelled
        clock.breached_by = None
    _cancel_pending(clock)


def _cancel_pending(clock: Clock) -> None:
    for step in clock.escalations:
        if step.status == StepStatus.pending:
            step.status = StepStatus.cancelled


def steps_come_due(policy: Policy, clock: Clock, now: datetime) -> Escalation | None:
    """Fire the ladder steps whose time has come; returns the one step to send, if any."""
    if not clock.running:
        return None
    come = [s for s in clock.escalations if s.status == StepStatus.pending and s.at <= now]
    if not come:
        return None
    for skipped in come[:-1]:
        skipped.status = StepStatus.skipped
    send = come[-1]
    send.status = StepStatus.sent
    send.sent_at = now
    breach_at = next(
        e.at for e, s in zip(clock.escalations, policy.ladder, strict=True) if s.marks_breach
    )
    if breach_at <= now:
        clock.state = ClockState.breached
    return send


def next_step_at(clock: Clock) -> datetime | None:
    if not clock.running:
        return None
    pending = [s.at for s in clock.escalations if s.status == StepStatus.pending]
    return min(pending, default=None)
