"""One child across referrals, and teams that are known (issue 19, items 2 and 5), on the real
dev server with worker.py given CSE_INDEX_KEYS and CSE_TEAMS, driven by the official CLI alone
(plain JSON, no project code on the client side, so the workflow's own start check is what
refuses): a second referral of a child, typed with a stray space and in other case, three
months after the first finds it and is a re-referral; one more than 12 months after every
other finds them but is not; an unknown team fails the run naming the field and the teams;
the search attributes hold the child only as `<key id>:<hex>`."""

from __future__ import annotations

import base64
import hashlib
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from domain.child_index import IndexKey, child_index
from edge.codec import new_key_item
from tests.e2e.conftest import (
    RunningWorker,
    TemporalCli,
    instant,
    iso,
    running_service_worker,
    search_attributes,
    seconds,
)

pytestmark = pytest.mark.e2e

INDEX_KEY_ITEM = new_key_item("index-e2e")
KEY_ID, SECRET = INDEX_KEY_ITEM.split(":", 1)
INDEX_KEY = IndexKey(KEY_ID, base64.b64decode(SECRET))
TEAMS = ("E2E-TEAM-A", "E2E-TEAM-B")


@pytest.fixture(scope="module")
def linking_worker(
    temporal_server: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RunningWorker]:
    """worker.py as a borough runs it for this: its teams and its child index key."""
    settings = {
        "CSE_PLAINTEXT_PAYLOADS": "true",
        "CSE_INDEX_KEYS": INDEX_KEY_ITEM,
        "CSE_TEAMS": ",".join(TEAMS),
    }
    folder = tmp_path_factory.mktemp("linking")
    with running_service_worker(temporal_server, folder, settings) as running:
        yield running


def a_child() -> str:
    return f"PERSON-E2E-{uuid.uuid4().hex[:8].upper()}"


def received(days_ago: int) -> str:
    return iso(seconds(datetime.now(UTC) - timedelta(days=days_ago)))


def opened(temporal: TemporalCli, worker: RunningWorker, referral: dict[str, Any]) -> str:
    """Start the case and wait until visibility lists it under its child's index (a later
    case of the child finds it only then)."""
    wid = f"referral-{referral['referral_id']}"
    temporal.start(worker.task_queue, referral)
    index = child_index(referral["child_ref"], INDEX_KEY)
    temporal.wait_listed(f"CseChildIndex = '{index}'", wid)
    return wid


def closed(temporal: TemporalCli, wid: str, at: str) -> None:
    temporal.update(wid, "close", {"reason": "e2e", "closed_at": at, "actor": "tm-e2e"})
    temporal.wait_status(wid, "COMPLETED", timeout=15)


def linked_status(temporal: TemporalCli, wid: str) -> dict[str, Any]:
    """The status once the opening answer has come back (the case has published its team)."""
    temporal.wait_listed(f"CseTeam IS NOT NULL AND WorkflowId = '{wid}'", wid)
    return temporal.status(wid)


def test_a_second_referral_three_months_on_finds_the_first_and_is_a_re_referral(
    temporal: TemporalCli,
    linking_worker: RunningWorker,
    make_referral: Callable[..., dict[str, Any]],
) -> None:
    child = a_child()
    first = make_referral(child_ref=child, team=TEAMS[0], received_at=received(92))
    first_wid = opened(temporal, linking_worker, first)
    closed(temporal, first_wid, received(80))
    again = make_referral(child_ref=f" {child.lower()}  ", team=TEAMS[1], received_at=received(0))

    status = linked_status(temporal, opened(temporal, linking_worker, again))

    [earlier] = status["earlier_referrals"]
    assert earlier["referral_id"] == first["referral_id"]
    assert instant(earlier["received_at"]) == instant(first["received_at"])
    assert earlier["stage"] == "closed"
    assert earlier["closed_at"] is not None
    assert status["re_referral"] is True


def test_a_referral_more_than_twelve_months_after_every_other_links_but_is_not_one(
    temporal: TemporalCli,
    linking_worker: RunningWorker,
    make_referral: Callable[..., dict[str, Any]],
) -> None:
    child = a_child()
    first = make_referral(child_ref=child, team=TEAMS[0], received_at=received(400))
    opened(temporal, linking_worker, first)
    again = make_referral(child_ref=child, team=TEAMS[0], received_at=received(0))

    status = linked_status(temporal, opened(temporal, linking_worker, again))

    assert [e["referral_id"] for e in status["earlier_referrals"]] == [first["referral_id"]]
    assert status["earlier_referrals"][0]["stage"] != "closed"
    assert status["earlier_referrals"][0]["closed_at"] is None
    assert status["re_referral"] is False


def test_an_unknown_team_is_refused_by_the_workflow_s_own_start_check(
    temporal: TemporalCli,
    linking_worker: RunningWorker,
    make_referral: Callable[..., dict[str, Any]],
) -> None:
    referral = make_referral(team="e2e-team-a")
    wid = f"referral-{referral['referral_id']}"

    temporal.start(linking_worker.task_queue, referral)

    temporal.wait_status(wid, "FAILED", timeout=15)
    failure = temporal.failure(wid)
    assert failure["applicationFailureInfo"]["type"] == "InvalidInput"
    assert failure["message"].startswith("invalid input: team: 'e2e-team-a' is not a team")
    assert f"give one of {', '.join(TEAMS)}" in failure["message"]
    attributes = search_attributes(temporal.describe(wid)["workflowExecutionInfo"])
    assert "CseTeam" not in attributes  # on no team's caseload
    assert "CseChildIndex" not in attributes  # and linked to no child


def test_the_search_attributes_hold_the_child_only_as_its_keyed_index(
    temporal: TemporalCli,
    linking_worker: RunningWorker,
    make_referral: Callable[..., dict[str, Any]],
) -> None:
    child = a_child()
    wid = opened(temporal, linking_worker, make_referral(child_ref=child, team=TEAMS[0]))

    attributes = search_attributes(temporal.describe(wid)["workflowExecutionInfo"])

    key_id, digest = attributes["CseChildIndex"].split(":")
    assert key_id == KEY_ID
    assert len(bytes.fromhex(digest)) == 32
    everything = repr(attributes).lower()
    for plain in (child, child.lower()):
        assert plain.lower() not in everything
        assert hashlib.sha256(plain.encode()).hexdigest() not in everything
