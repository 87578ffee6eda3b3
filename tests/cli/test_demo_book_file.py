"""The demo's case book as a file (cli/demo_book.toml): it loads, every step is a valid event
and a wrong one is refused at load naming its case and step, its people are the first run's,
and it seeds what the tests of the running service expect. The caseload is the one recorded
in demo_book_snapshot.json (the book when it was still written as Python), case for case and
event for event, on a day in summer time and, by digest, on every day test_demo_book.py plays.

An intended change to the book changes the snapshot too: rewrite it with
`.venv/bin/python -m tests.cli.test_demo_book_file` and review its diff.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from api.first_run import DEMO_TEAM, LOCAL_USERS
from cli.demo_book import BOOK_FILE, STORIES, TEAMS, BookError, demo_cases, read_book
from domain.events import EVENT_TYPES
from tests.cli.test_demo_book import NOWS, played

SNAPSHOT = Path(__file__).with_name("demo_book_snapshot.json")
SUMMER = datetime(2026, 6, 10, 11, 0, tzinfo=UTC)


def caseload(now: datetime) -> list[dict[str, Any]]:
    """Every case the demo seeds at `now`: what it shows, its referral and its events."""
    return [
        {
            "shows": case.story.shows,
            "stage": case.story.stage.value,
            "overdue": case.story.overdue,
            "referral": case.referral.model_dump(mode="json", exclude_defaults=True),
            "events": [
                {"event": e.name, **e.model_dump(mode="json", exclude_defaults=True)}
                for e in case.events
            ],
        }
        for case in demo_cases(now)
    ]


def digest(nows: list[datetime]) -> str:
    text = json.dumps([caseload(now) for now in nows], sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()


def snapshot() -> dict[str, Any]:
    return {"now": SUMMER.isoformat(), "cases": caseload(SUMMER), "every_day": digest(NOWS)}


def test_the_demo_seeds_the_caseload_of_the_snapshot() -> None:
    recorded = json.loads(SNAPSHOT.read_text())
    assert recorded["now"] == SUMMER.isoformat()
    seeded = caseload(SUMMER)
    assert len(seeded) == len(recorded["cases"])
    for now_case, then_case in zip(seeded, recorded["cases"], strict=True):
        assert now_case == then_case, then_case["referral"]["referral_id"]


def test_on_every_day_played_the_demo_seeds_what_it_seeded_before() -> None:
    assert digest(NOWS) == json.loads(SNAPSHOT.read_text())["every_day"]


def test_every_step_of_the_book_is_a_valid_event() -> None:
    book = read_book()
    steps = [step for story in book.stories for step in story.steps]
    assert len(book.stories) == len(STORIES) == 42
    assert {step.event.name for step in steps} <= set(EVENT_TYPES)
    events = [event for case in demo_cases(SUMMER) for event in case.events]
    assert len(events) == len(steps)
    for event in events:
        assert type(event).model_validate(event.model_dump()) == event


def test_the_north_pair_are_the_first_run_users_who_sign_in() -> None:
    north = read_book().teams[DEMO_TEAM]
    signed_in = {user.user_id for user in LOCAL_USERS if user.team == DEMO_TEAM}
    assert set(north.values()) == signed_in
    assert TEAMS == (DEMO_TEAM, "DEMO-SOUTH")


def test_the_seeded_caseload_is_what_the_service_tests_expect() -> None:
    """tests/api/test_demo_caseload.py and tests/e2e/test_run_script.py, on the book alone."""
    cases = [played(case, SUMMER) for case in demo_cases(SUMMER)]
    assert len(cases) >= 30
    assert len({case.stage for case in cases}) >= 5
    assert sum(case.overdue for case in cases) >= 5
    assert {case.team for case in cases} == {"DEMO-NORTH", "DEMO-SOUTH"}
    assert all(case.referral_id.startswith("DEMO-") for case in cases)


WRONG_STEPS = [
    ('{ event = "decide", at = "+2h", decision = "maybe" }', "decision"),
    ('{ event = "decide", at = "+2h", decision = "assess", colour = "red" }', "colour"),
    ('{ event = "decide", at = "2 hours later", decision = "assess" }', "is not a time"),
    ('{ event = "decide", at = "+2h ago", decision = "assess" }', "is not a time"),
    ('{ event = "decided", at = "+2h", decision = "assess" }', "no event named 'decided'"),
    ('{ event = "decide", decision = "assess" }', "'at' is missing"),
]


@pytest.mark.parametrize(("step", "refusal"), WRONG_STEPS, ids=[r for _, r in WRONG_STEPS])
def test_a_wrong_step_is_refused_at_load_naming_its_case_and_step(
    tmp_path: Path, step: str, refusal: str
) -> None:
    text = BOOK_FILE.read_text()
    first = '  { event = "allocate", at = "4h ago" },\n'
    assert first in text
    wrong = tmp_path / "demo_book.toml"
    wrong.write_text(text.replace(first, f"{first}  {step},\n", 1))
    with pytest.raises(BookError) as refused:
        read_book(wrong)
    said = str(refused.value)
    assert said.startswith("demo_book.toml, case 2 (new this morning): step 2 ("), said
    assert refusal in said


if __name__ == "__main__":  # rewrite the snapshot after an intended change to the book
    recorded = snapshot()
    lines = ",\n".join(json.dumps(case, separators=(",", ":")) for case in recorded["cases"])
    SNAPSHOT.write_text(
        f'{{"now": "{recorded["now"]}", "every_day": "{recorded["every_day"]}",\n'
        f' "cases": [\n{lines}\n]}}\n'
    )
    print(f"wrote {SNAPSHOT}")
