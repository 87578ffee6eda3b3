"""The demo's case book as seeded: the same caseload, case for case and event for event, as
the one recorded in demo_book_snapshot.json (the book when it was still written as Python),
on a day in summer time and, by digest, on every day tests/cli/test_demo_book.py plays.

An intended change to the book changes the snapshot too: rewrite it with
`.venv/bin/python -m tests.cli.test_demo_book_file` and review its diff.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cli.demo import demo_cases
from tests.cli.test_demo_book import NOWS

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


if __name__ == "__main__":  # rewrite the snapshot after an intended change to the book
    recorded = snapshot()
    lines = ",\n".join(json.dumps(case, separators=(",", ":")) for case in recorded["cases"])
    SNAPSHOT.write_text(
        f'{{"now": "{recorded["now"]}", "every_day": "{recorded["every_day"]}",\n'
        f' "cases": [\n{lines}\n]}}\n'
    )
    print(f"wrote {SNAPSHOT}")
