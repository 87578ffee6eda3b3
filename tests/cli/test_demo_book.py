"""The demo caseload's case book (cli/demo_book.toml), checked through the domain alone: on any
day of a year (weekends and bank holidays too), every story is accepted by the pathway, in order and
in the past, and ends at the stage and overdue flag it promises; the book covers every stage,
both teams, open, met and breached clocks, missing episodes, MASE referrals and closed reviews.
No Temporal here: tests/api/test_demo_caseload.py seeds the same book into a running service.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest

from cli.demo_book import PREFIX, STORIES, TEAMS, DemoCase, demo_cases
from domain.case import Case
from domain.policy import Policy
from domain.status import ClockState, StepStatus
from domain.vocabulary import Stage

POLICY = Policy()
FIRST = datetime(2026, 1, 1, 7, 30, tzinfo=UTC)
# Every 8 days and 7 hours over a year: all weekdays, many hours, past the holidays.
NOWS = [FIRST + k * timedelta(days=8, hours=7) for k in range(45)]
NOWS += [  # around Easter, the August bank holiday and Christmas, at awkward hours
    datetime(2026, 4, 3, 23, 50, tzinfo=UTC),
    datetime(2026, 4, 6, 0, 30, tzinfo=UTC),
    datetime(2026, 8, 31, 9, 0, tzinfo=UTC),
    datetime(2026, 12, 25, 12, 0, tzinfo=UTC),
    datetime(2026, 12, 28, 1, 0, tzinfo=UTC),
    datetime(2027, 1, 1, 0, 5, tzinfo=UTC),
]


def played(case: DemoCase, now: datetime) -> Case:
    """The case as the workflow would hold it once its events are recorded at `now`."""
    opened, _ = Case.open(case.referral, POLICY, now)
    for event in case.events:
        opened.apply(event, now)
    while opened.fire_due_steps(now):  # the workflow wakes until no step is left due
        pass
    return opened


@pytest.mark.parametrize("now", NOWS, ids=lambda now: f"{now:%Y-%m-%dT%H%M}")
def test_every_story_ends_where_it_says_on_any_day(now: datetime) -> None:
    for case in demo_cases(now):
        received = case.referral.received_at
        times = [at for event in case.events for at in event.times()]
        assert received <= now - timedelta(minutes=30), case.story.shows
        assert all(received <= at <= now for at in times), case.story.shows
        assert times == sorted(times), f"{case.story.shows}: events out of order"
        assert now - received <= timedelta(days=366), "referral dates from the past year"
        result = played(case, now)
        assert (result.stage, result.overdue) == (case.story.stage, case.story.overdue), (
            f"{case.referral.referral_id} ({case.story.shows}) on {now:%a %Y-%m-%d %H:%M}"
        )


def test_the_book_covers_what_the_demo_promises() -> None:
    now = datetime(2026, 6, 10, 11, 0, tzinfo=UTC)
    cases = demo_cases(now)
    played_cases = [played(case, now) for case in cases]
    assert 35 <= len(cases) <= 45
    assert [c.referral.referral_id for c in cases] == [
        f"{PREFIX}{n:04d}" for n in range(1, len(cases) + 1)
    ]
    again = [c for c in cases if c.story.same_child_as]
    assert len(again) == 1  # one child referred twice; every other case a child of its own
    assert {c.referral.child_ref for c in cases} == {
        f"PERSON-DEMO-{n:04d}" for n in range(1, len(cases) + 1) if cases[n - 1] not in again
    }
    assert any(c.referral.looked_after and c.referral.placing_authority for c in cases)
    assert {c.stage for c in played_cases} == set(Stage)
    assert {c.team for c in played_cases} == set(TEAMS)
    assert 8 <= sum(c.overdue for c in played_cases) <= len(cases) // 2
    clocks = [clock for case in played_cases for clock in case.clocks]
    assert {ClockState.open, ClockState.met, ClockState.breached} <= {c.state for c in clocks}
    assert any(
        clock.state == ClockState.breached
        and any(step.status == StepStatus.sent for step in clock.escalations)
        and clock.stopped_at is None
        for clock in clocks
    ), "a running clock breached with its ladder sent"
    assert sum(bool(c.missing_episodes) for c in played_cases) >= 3
    assert sum(c.mase.referred for c in played_cases) >= 5
    closed_by_review = [c for c in played_cases if (c.closed_reason or "").startswith("risk")]
    assert len(closed_by_review) >= 2
    assert len({s.shows for s in STORIES}) == len(STORIES)


def test_no_story_carries_anything_but_synthetic_data() -> None:
    for case in demo_cases(datetime(2026, 6, 10, 11, 0, tzinfo=UTC)):
        text = case.referral.model_dump_json() + "".join(e.model_dump_json() for e in case.events)
        assert case.referral.summary.startswith("Synthetic")
        for address in re.findall(r"[\w.+-]+@[\w.-]+", text):
            assert address.endswith("@example.org"), address
