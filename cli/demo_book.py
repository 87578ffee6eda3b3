"""The demo caseload's case book: cli/demo_book.toml read into referrals and events.

The file gives each case what it shows, its referral and its steps, dated relative to the
moment the demo runs (its header says how). Reading it plays every step through its event's
own model (`EVENT_TYPES[name].model_validate`), so a wrong field fails at import, naming the
case and the step.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from datetime import time as clock_time
from pathlib import Path
from typing import Any

from domain.calendar import LONDON
from domain.events import EVENT_TYPES, Event
from domain.referral import Referral
from domain.vocabulary import Stage

BOOK_FILE = Path(__file__).with_name("demo_book.toml")
PREFIX = "DEMO-"
CASE_KEYS = {"shows", "team", "agency", "concerns", "harm_suspected", "received", "stage"}
CASE_KEYS |= {"overdue", "steps", "same_child_as", "looked_after", "placing_authority"}
CASE_KEYS |= {"host_authority"}
CHILD_KEYS = ("looked_after", "placing_authority", "host_authority")
WHEN = re.compile(r"(?P<after>\+)?(?:(?P<days>\d+)d)?(?:(?P<hours>\d+)h)?(?P<ago> ago)?")
PLACEHOLDER = re.compile(r"\{(\w+)\}")


class BookError(ValueError):
    """The case book says something the pathway's models refuse."""


@contextmanager
def naming(where: str) -> Iterator[None]:
    """Any refusal inside says where it is (case, then step)."""
    try:
        yield
    except KeyError as err:
        raise BookError(f"{where}: {err.args[0]!r} is missing") from None
    except (ValueError, TypeError) as err:  # pydantic's ValidationError is a ValueError
        raise BookError(f"{where}: {err}") from None


@dataclass(frozen=True)
class When:
    """A moment `span` after the referral was received, or `span` before the demo runs."""

    span: timedelta
    after_referral: bool

    @classmethod
    def parse(cls, text: str) -> When:
        found = WHEN.fullmatch(text)
        signs = bool(found and found["after"]) + bool(found and found["ago"])
        if not found or not (found["days"] or found["hours"]) or signs != 1:
            raise BookError(f'{text!r} is not a time: "+5d", "+2d4h" or "4h ago"')
        span = timedelta(days=int(found["days"] or 0), hours=int(found["hours"] or 0))
        return cls(span, after_referral=bool(found["after"]))

    def at(self, received: datetime, now: datetime) -> datetime:
        return received + self.span if self.after_referral else now - self.span


@dataclass(frozen=True)
class Step:
    """One event: its fields as the book gives them (times as `When`, placeholders kept)."""

    event: type[Event]
    by: str
    fields: dict[str, Any]

    @classmethod
    def read(cls, entry: dict[str, Any], defaults: dict[str, dict[str, Any]]) -> Step:
        name = entry.pop("event")
        if name not in EVENT_TYPES:
            raise BookError(f"no event named {name!r} (domain/events.py)")
        event = EVENT_TYPES[name]
        fields = {**defaults.get(name, {}), **entry}
        by = fields.pop("by")
        fields[event.time_field] = fields.pop("at")
        for key, value in fields.items():
            if key.endswith("_at"):
                fields[key] = When.parse(value)
        return cls(event, by, fields)

    def recorded(self, people: dict[str, str], received: datetime, now: datetime) -> Event:
        def value(given: Any) -> Any:
            if isinstance(given, When):
                return given.at(received, now)
            if isinstance(given, str) and (named := PLACEHOLDER.fullmatch(given)):
                return people[named[1]]
            return given

        if self.by not in people:
            raise BookError(f"no person of role {self.by!r} in the team")
        fields = {key: value(given) for key, given in self.fields.items()}
        return self.event.model_validate({**fields, "actor": people[self.by]})


@dataclass(frozen=True)
class Story:
    """One demo case: when it was referred, by whom, about what, and what was recorded since.

    `stage` and `overdue` are what the case shows once its events are in, whatever day the
    demo runs (tests/cli/test_demo_book.py checks them over a year of days)."""

    shows: str
    received_ago: timedelta
    team: str
    agency: str
    concerns: list[str]
    stage: Stage
    overdue: bool
    steps: list[Step]
    harm: bool = False
    same_child_as: str | None = None
    """The `shows` of an earlier case of the book whose child this referral is again."""
    child: dict[str, Any] = field(default_factory=dict)
    """The referral's looked_after, placing_authority and host_authority, as given."""

    @classmethod
    def read(cls, entry: dict[str, Any], defaults: dict[str, dict[str, Any]]) -> Story:
        if unknown := set(entry) - CASE_KEYS:
            raise BookError(f"unknown keys {sorted(unknown)}")
        received = When.parse(entry["received"])
        if received.after_referral:
            raise BookError(f'received = {entry["received"]!r}: say how long ago ("12d ago")')
        steps = []
        for number, step in enumerate(entry.get("steps", []), start=1):
            with naming(f"step {number} ({step.get('event')})"):
                steps.append(Step.read(dict(step), defaults))
        return cls(
            shows=entry["shows"],
            received_ago=received.span,
            team=entry["team"],
            agency=entry["agency"],
            concerns=entry.get("concerns", []),
            stage=Stage(entry["stage"]),
            overdue=entry.get("overdue", False),
            steps=steps,
            harm=entry.get("harm_suspected", False),
            same_child_as=entry.get("same_child_as"),
            child={key: entry[key] for key in CHILD_KEYS if key in entry},
        )


@dataclass(frozen=True)
class Book:
    name: str  # the file's
    summary: str
    teams: dict[str, dict[str, str]]  # team -> role -> person
    stories: tuple[Story, ...]


@dataclass(frozen=True)
class DemoCase:
    story: Story
    referral: Referral
    events: list[Event]

    @property
    def workflow_id(self) -> str:
        return self.referral.workflow_id


def received_at(now: datetime, ago: timedelta) -> datetime:
    """Within a day: exactly that long ago. Older: 10:00 UK time on that day."""
    if ago < timedelta(days=1):
        return (now - ago).replace(microsecond=0)
    day = (now - ago).astimezone(LONDON).date()
    return datetime.combine(day, clock_time(10, 0), tzinfo=LONDON).astimezone(UTC)


def child_number(book: Book, number: int, story: Story) -> int:
    """Whose child the case is: its own, or that of the earlier case it names."""
    if story.same_child_as is None:
        return number
    for earlier, other in enumerate(book.stories[: number - 1], start=1):
        if other.shows == story.same_child_as:
            return earlier
    raise BookError(f"same_child_as = {story.same_child_as!r}: no earlier case shows that")


def demo_case(book: Book, number: int, story: Story, now: datetime) -> DemoCase:
    at = received_at(now, story.received_ago)
    referral = Referral.model_validate(
        {
            **story.child,
            "referral_id": f"{PREFIX}{number:04d}",
            "received_at": at,
            "child_ref": f"PERSON-DEMO-{child_number(book, number, story):04d}",
            "team": story.team,
            "referrer_agency": story.agency,
            "concerns": story.concerns,
            "significant_harm_suspected": story.harm,
            "summary": book.summary,
        }
    )
    people = {**book.teams[story.team], "team": story.team, "cris": f"CRIS-DEMO-{at:%y%m%d}"}
    events = []
    for step_number, step in enumerate(story.steps, start=1):
        with naming(f"step {step_number} ({step.event.name})"):
            events.append(step.recorded(people, at, now))
    return DemoCase(story, referral, events)


def cases_of(book: Book, now: datetime) -> list[DemoCase]:
    """The case book as referrals and events, dated relative to `now`."""
    made = []
    for number, story in enumerate(book.stories, start=1):
        with naming(f"{book.name}, case {number} ({story.shows})"):
            made.append(demo_case(book, number, story, now))
    return made


def read_book(path: Path = BOOK_FILE) -> Book:
    """The book in `path`, every step played once through its event's model."""
    data = tomllib.loads(path.read_text())
    stories = []
    for number, entry in enumerate(data["case"], start=1):
        with naming(f"{path.name}, case {number} ({entry.get('shows')})"):
            stories.append(Story.read(entry, data["steps"]))
    book = Book(path.name, data["summary"], data["teams"], tuple(stories))
    cases_of(book, datetime.now(UTC))
    return book


BOOK = read_book()
STORIES = BOOK.stories
TEAMS = tuple(BOOK.teams)


def demo_cases(now: datetime) -> list[DemoCase]:
    """The demo's case book as referrals and events, dated relative to `now`."""
    return cases_of(BOOK, now)
