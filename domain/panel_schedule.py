"""When the MASE panel meets, as people say it (CSE_PANEL_SCHEDULE): "first tuesday 09:00
Europe/London", the directive's default: the nth weekday of every month at a time of day in
an IANA time zone. edge/schedules.py turns it into the Temporal Schedule's calendar."""

from __future__ import annotations

import re
from dataclasses import dataclass
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

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

    @property
    def first_day(self) -> int:
        """The first day of the month the meeting's week may start on (1, 8, 15 or 22)."""
        return (self.week - 1) * 7 + 1


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
