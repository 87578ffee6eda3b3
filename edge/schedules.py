"""The monthly panel's Temporal Schedule: created by the worker if missing, updated if changed.

When the panel meets is configuration (`CSE_PANEL_SCHEDULE`), written the way people say it:
"first tuesday 09:00 Europe/London" (the directive's default). It becomes a calendar spec that
matches that weekday within days 1-7 (8-14, 15-21, 22-28 for the second to fourth) of every
month, at that time in that zone. The action starts `MasePanelWorkflow` on the worker's task
queue; Temporal appends the action time to the workflow id, so each run's id (and the ids of
the notifications it sends) derives from the schedule and the time it fired.
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

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

from contract.workflows import MASE_PANEL_WORKFLOW
from domain.oversight import PanelRun
from domain.panel_schedule import PanelMeeting, parse_panel_meeting

if TYPE_CHECKING:
    from edge.settings import Settings

# A panel missed while the server was down still runs if it comes back within this window.
CATCHUP_WINDOW = timedelta(days=2)


def calendar(meeting: PanelMeeting) -> ScheduleCalendarSpec:
    """The meeting as a Temporal calendar: its weekday within the 7 days its week may fall on."""
    first_day = meeting.first_day
    return ScheduleCalendarSpec(
        second=[ScheduleRange(0)],
        minute=[ScheduleRange(meeting.minute)],
        hour=[ScheduleRange(meeting.hour)],
        day_of_month=[ScheduleRange(first_day, first_day + 6)],
        month=[ScheduleRange(1, 12)],
        day_of_week=[ScheduleRange((meeting.weekday + 1) % 7)],  # Temporal: 0 = Sunday
    )


def panel_schedule(settings: Settings) -> Schedule:
    meeting = parse_panel_meeting(settings.panel_schedule)
    return Schedule(
        action=ScheduleActionStartWorkflow(
            MASE_PANEL_WORKFLOW,
            PanelRun(panel_name=settings.panel_name),
            id=settings.panel_schedule_id,
            task_queue=settings.task_queue,
        ),
        spec=ScheduleSpec(calendars=[calendar(meeting)], time_zone_name=meeting.time_zone),
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
