"""The monthly panel's Temporal Schedule: created by the worker if missing, updated if changed.

When the panel meets is configuration (`CSE_PANEL_SCHEDULE`), written the way people say it:
"first tuesday 09:00 Europe/London" (the directive's default). It becomes a calendar spec that
matches that weekday within days 1-7 (8-14, 15-21, 22-28 for the second to fourth) of every
month, at that time in that zone. The action starts `MasePanelWorkflow` on the worker's task
queue; Temporal appends the action time to the workflow id, so each run's id (and the ids of
the notifications it sends) derives from the schedule and the time it fired.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from temporalio.client import (
    Client,
    Schedule,
    ScheduleActionStartWorkflow,
    ScheduleAlreadyRunningError,
    ScheduleCalendarSpec,
    ScheduleDescription,
    ScheduleOverlapPolicy,
    SchedulePolicy,
    ScheduleRange,
    ScheduleSpec,
    ScheduleUpdate,
    ScheduleUpdateInput,
)

from domain.oversight import PanelRun

if TYPE_CHECKING:
    from edge.settings import Settings

PANEL_WORKFLOW = "MasePanelWorkflow"
# A panel missed while the server was down still runs if it comes back within this window.
CATCHUP_WINDOW = timedelta(days=2)
_ORDINALS = {"first": 1, "second": 2, "third": 3, "fourth": 4}
_WEEKDAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
_FORM = re.compile(r"^(\w+)\s+(\w+)\s+(\d{1,2}):(\d{2})\s+(\S+)$")
_EXPECTED = "'<first|second|third|fourth> <weekday> <HH:MM> <time zone>'"


@dataclass(frozen=True)
class PanelMeeting:
    """The nth weekday of every month at a time of day, in an IANA time zone."""

    week: int  # 1-4
    weekday: int  # 0 = Monday, as Python counts
    hour: int
    minute: int
    time_zone: str

    def calendar(self) -> ScheduleCalendarSpec:
        first_day = (self.week - 1) * 7 + 1
        return ScheduleCalendarSpec(
            second=[ScheduleRange(0)],
            minute=[ScheduleRange(self.minute)],
            hour=[ScheduleRange(self.hour)],
            day_of_month=[ScheduleRange(first_day, first_day + 6)],
            month=[ScheduleRange(1, 12)],
            day_of_week=[ScheduleRange((self.weekday + 1) % 7)],  # Temporal: 0 = Sunday
        )


def parse_panel_meeting(text: str) -> PanelMeeting:
    """Read "first tuesday 09:00 Europe/London"; a ValueError says what is wrong."""
    match = _FORM.match(text.strip().lower())
    if not match:
        raise ValueError(f"expected {_EXPECTED}, got {text!r}")
    ordinal, weekday, hour, minute, _ = match.groups()
    zone = text.split()[-1]
    if ordinal not in _ORDINALS:
        raise ValueError(f"the week must be one of {', '.join(_ORDINALS)}, got {ordinal!r}")
    if weekday not in _WEEKDAYS:
        raise ValueError(f"{weekday!r} is not a day of the week")
    if int(hour) > 23 or int(minute) > 59:
        raise ValueError(f"{hour}:{minute} is not a time of day")
    try:
        ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"{zone!r} is not an IANA time zone (e.g. Europe/London)") from None
    return PanelMeeting(_ORDINALS[ordinal], _WEEKDAYS.index(weekday), int(hour), int(minute), zone)


def panel_schedule(settings: Settings) -> Schedule:
    meeting = parse_panel_meeting(settings.panel_schedule)
    return Schedule(
        action=ScheduleActionStartWorkflow(
            PANEL_WORKFLOW,
            PanelRun(panel_name=settings.panel_name),
            id=settings.panel_schedule_id,
            task_queue=settings.task_queue,
        ),
        spec=ScheduleSpec(calendars=[meeting.calendar()], time_zone_name=meeting.time_zone),
        policy=SchedulePolicy(overlap=ScheduleOverlapPolicy.SKIP, catchup_window=CATCHUP_WINDOW),
    )


async def ensure_panel_schedule(client: Client, settings: Settings) -> str:
    """Create the schedule if missing, update it if it differs.

    Returns what was done: "created", "updated" or "unchanged".
    """
    wanted = panel_schedule(settings)
    try:
        await client.create_schedule(settings.panel_schedule_id, wanted)
        return "created"
    except ScheduleAlreadyRunningError:
        pass
    handle = client.get_schedule_handle(settings.panel_schedule_id)
    if _same(await handle.describe(), wanted, client):
        return "unchanged"

    def replace(_: ScheduleUpdateInput) -> ScheduleUpdate:
        return ScheduleUpdate(schedule=wanted)

    await handle.update(replace)
    return "updated"


def _same(found: ScheduleDescription, wanted: Schedule, client: Client) -> bool:
    have, want = found.schedule, wanted
    if not isinstance(have.action, ScheduleActionStartWorkflow):
        return False
    assert isinstance(want.action, ScheduleActionStartWorkflow)
    return (
        _spec_key(have.spec) == _spec_key(want.spec)
        and (have.action.workflow, have.action.id, have.action.task_queue)
        == (want.action.workflow, want.action.id, want.action.task_queue)
        and _run_of(have.action, client) == want.action.args[0]
        and (have.policy.overlap, have.policy.catchup_window)
        == (want.policy.overlap, want.policy.catchup_window)
    )


def _spec_key(spec: ScheduleSpec) -> tuple[object, ...]:
    calendars = tuple(
        tuple(
            tuple((r.start, r.end, r.step) for r in ranges)
            for ranges in (c.second, c.minute, c.hour, c.day_of_month, c.month, c.day_of_week)
        )
        for c in spec.calendars
    )
    return (calendars, tuple(spec.intervals), tuple(spec.cron_expressions), spec.time_zone_name)


def _run_of(action: ScheduleActionStartWorkflow, client: Client) -> PanelRun | None:
    """The panel input a described schedule holds (raw payloads), or None if unreadable."""
    if len(action.args) != 1:
        return None
    try:
        [run] = client.data_converter.payload_converter.from_payloads(list(action.args), [PanelRun])
    except Exception:  # an input this version cannot read is replaced, whatever its fault
        return None
    return run if isinstance(run, PanelRun) else None
