"""Every committed history replays against today's workflow code.

A change that cannot replay these would break cases already running: CI fails instead.
Record new paths with `python -m tests.workflows.scenarios <version>`; never rewrite old ones.
"""

import asyncio
import base64
import json
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from temporalio.client import WorkflowHistory
from temporalio.worker import Replayer

from domain.policy import ClockName, Deadline, Policy, PolicyBook
from edge.converter import data_converter
from tests.workflows.scenarios import HISTORIES, LONG_CASE_POLICY
from workflows import configuration
from workflows.mase_panel import DOCUMENTS_IN_HISTORY, MasePanelWorkflow
from workflows.referral import (
    EARLIER_CASES_ASKED_LOCALLY,
    EARLIER_CASES_ASKED_THROUGH_THE_SERVER,
    ONE_ALARM_UNTIL_IT_MOVES,
    ONE_CASE_PER_REFERRAL_ID,
    PARTNERS_TOLD,
    PLAN_KEEPS_CASE_OPEN,
    POLICY_KEPT_IN_HISTORY,
    SEND_EVERYTHING_BEFORE_THE_RUN_ENDS,
    ReferralWorkflow,
)
from workflows.sandbox import workflow_runner

RECORDED = sorted(HISTORIES.glob("*.json"))


def recorded_workflow_id(path: Path) -> str:
    """The workflow id the history ran under: a history file does not keep it, and a case
    refuses to run under any id but `referral-<referral_id>`."""
    started = json.loads(path.read_text())["events"][0]["workflowExecutionStartedEventAttributes"]
    [first_input] = started.get("input", {}).get("payloads", [{}])[:1] or [{}]
    value = json.loads(base64.b64decode(first_input["data"])) if "data" in first_input else None
    if isinstance(value, dict) and "referral_id" in value:
        return f"referral-{value['referral_id']}"
    return path.stem


def test_there_are_histories_for_every_path() -> None:
    assert len(RECORDED) >= 9


def recorded_policy(path: Path) -> Policy:
    return LONG_CASE_POLICY if "continued_as_new" in path.stem else Policy()


def replays(path: Path, book: PolicyBook) -> None:
    configuration.install(configuration.ANY_TASK_QUEUE, book)
    history = WorkflowHistory.from_json(recorded_workflow_id(path), path.read_text())
    replayer = Replayer(
        workflows=[ReferralWorkflow, MasePanelWorkflow],
        data_converter=data_converter,
        workflow_runner=workflow_runner(strict=True),
    )
    result = asyncio.run(replayer.replay_workflow(history, raise_on_replay_failure=True))
    assert result.replay_failure is None


@pytest.mark.parametrize("path", RECORDED, ids=[p.stem for p in RECORDED])
def test_history_replays(path: Path) -> None:
    replays(path, PolicyBook(versions=[recorded_policy(path)]))


def last_event_time(path: Path) -> datetime:
    """When the recorded case last moved (the time-skipping server runs ahead of the wall
    clock, so "published today" is after this, not after now)."""
    event_time = json.loads(path.read_text())["events"][-1]["eventTime"]
    return datetime.fromisoformat(event_time.replace("Z", "+00:00"))


def back_dated(**deadlines: Deadline) -> Policy:
    """A file published today but in force from years before every recorded referral, with
    other clocks: an ordinary thing to publish ("effective from the 1st of this month")."""
    changed = {ClockName(name): deadline for name, deadline in deadlines.items()}
    return Policy(version="borough-back-dated", effective_from=date(2019, 1, 1), deadlines=changed)


SHORTER_CLOCKS = back_dated(
    referral_decision=Deadline(amount=2, unit="working_days"),
    assessment=Deadline(amount=20, unit="working_days"),
    return_home_interview=Deadline(amount=1, unit="hours"),
)


@pytest.mark.parametrize("path", RECORDED, ids=[p.stem for p in RECORDED])
def test_history_replays_after_a_back_dated_policy_is_published(path: Path) -> None:
    """Every case recorded, before the policy was kept in history too, keeps its version: a
    version published after the case started is not its, whatever its effective_from."""
    published_after_it = {SHORTER_CLOCKS.version: last_event_time(path) + timedelta(minutes=1)}
    versions = [recorded_policy(path), SHORTER_CLOCKS]
    book = PolicyBook(versions=versions, published_at=published_after_it)
    replays(path, book)


def patches_in(path: Path) -> set[str]:
    """The ids of the patches whose markers a history holds."""
    events = json.loads(path.read_text())["events"]
    markers = [
        e["markerRecordedEventAttributes"] for e in events if "markerRecordedEventAttributes" in e
    ]
    return {
        json.loads(base64.b64decode(payload["data"]))["id"]
        for marker in markers
        for payload in marker.get("details", {}).get("patch-data", {}).get("payloads", [])
    }


KEPT = sorted(p for p in RECORDED if POLICY_KEPT_IN_HISTORY in patches_in(p))


@pytest.mark.parametrize("path", KEPT, ids=[p.stem for p in KEPT])
def test_a_case_reads_its_policy_from_its_history_not_the_files(path: Path) -> None:
    """The worker's files now hold only another version, with other clocks and no record
    of the one the case took: the case still replays, under the policy its history holds."""
    other = SHORTER_CLOCKS.model_copy(
        update={"version": "another", "effective_from": date(2010, 1, 1)}
    )
    replays(path, PolicyBook(versions=[other]))


def test_cases_since_the_patch_keep_their_policy_in_history() -> None:
    assert {p.stem for p in KEPT} >= {
        "v7-nfa_at_referral",
        "v7-consultation_and_repeated_missing",
        "v7-continued_as_new_first_run",
    }


@pytest.mark.parametrize(
    ("patch", "without", "with_it"),
    [
        (ONE_CASE_PER_REFERRAL_ID, "v1-nfa_at_referral", "v2-nfa_at_referral"),
        (
            SEND_EVERYTHING_BEFORE_THE_RUN_ENDS,
            "v2-continued_as_new_first_run",
            "v3-continued_as_new_first_run",
        ),
        (
            ONE_ALARM_UNTIL_IT_MOVES,
            "v3-s47_conference_review_to_closed",
            "v4-s47_conference_review_to_closed",
        ),
        (
            EARLIER_CASES_ASKED_LOCALLY,
            "v4-s47_conference_review_to_closed",
            "v5-s47_conference_review_to_closed",
        ),
        (
            EARLIER_CASES_ASKED_THROUGH_THE_SERVER,
            "v5-s47_conference_review_to_closed",
            "v6-s47_conference_review_to_closed",
        ),
        (
            POLICY_KEPT_IN_HISTORY,
            "v6-s47_conference_review_to_closed",
            "v7-s47_conference_review_to_closed",
        ),
        (
            PLAN_KEEPS_CASE_OPEN,
            "v7-plan_in_force_when_the_risk_falls",
            "v8-plan_in_force_when_the_risk_falls",
        ),
        (
            PARTNERS_TOLD,
            "v8-strategy_discussion_when_harm_is_suspected",
            "v10-strategy_discussion_when_harm_is_suspected",
        ),
        (DOCUMENTS_IN_HISTORY, "mase-v1-agenda_and_report", "mase-v2-agenda_and_report"),
    ],
)
def test_histories_from_before_and_after_each_patch_are_kept(
    patch: str, without: str, with_it: str
) -> None:
    """Both replaying (above) proves old cases keep the old path and new ones take the new."""
    assert patch not in patches_in(HISTORIES / f"{without}.json")
    assert patch in patches_in(HISTORIES / f"{with_it}.json")


def test_runs_since_the_local_ask_was_withdrawn_ask_through_the_server() -> None:
    """v6 runs record the second patch and never the first, and schedule the activity."""
    history = HISTORIES / "v6-nfa_at_referral.json"
    events = json.loads(history.read_text())["events"]
    assert EARLIER_CASES_ASKED_LOCALLY not in patches_in(history)
    assert any(
        e.get("activityTaskScheduledEventAttributes", {}).get("activityType", {}).get("name")
        == "earlier_cases"
        for e in events
    )


def update_names(path: Path) -> list[str]:
    events = json.loads(path.read_text())["events"]
    return [
        e["workflowExecutionUpdateAcceptedEventAttributes"]["acceptedRequest"]["input"]["name"]
        for e in events
        if "workflowExecutionUpdateAcceptedEventAttributes" in e
    ]


def test_a_plan_in_force_closed_the_case_before_the_rule_and_keeps_it_open_since() -> None:
    """Both replay (above): the run recorded before ended at the low review, as it ran; the
    one recorded since waited in cp_plan for the plan's review conference to end it."""
    before = update_names(HISTORIES / "v7-plan_in_force_when_the_risk_falls.json")
    since = update_names(HISTORIES / "v8-plan_in_force_when_the_risk_falls.json")
    assert before[-1] == "record_review"
    assert since[-2:] == ["record_review", "record_cp_review"]


def upserted(path: Path) -> list[set[str]]:
    """The search attributes each upsert of a history set, in order."""
    events = json.loads(path.read_text())["events"]
    return [
        set(e["upsertWorkflowSearchAttributesEventAttributes"]["searchAttributes"]["indexedFields"])
        for e in events
        if "upsertWorkflowSearchAttributesEventAttributes" in e
    ]


def test_only_cases_since_the_child_index_are_indexed_and_once() -> None:
    """The index follows from the recorded opening answer alone: no earlier history holds it
    (and all replay, above), a v9 case sets it once, with when its referral was received."""
    since = ("v9-", "v10-", "v11-", "v12-", "mase-")
    before = [p for p in RECORDED if not p.stem.startswith(since)]
    assert all("CseChildIndex" not in keys for p in before for keys in upserted(p))
    indexed = [
        k for k in upserted(HISTORIES / "v9-re_referral_of_a_child.json") if "CseChildIndex" in k
    ]
    assert indexed == [{"CseChildIndex", "CseReceivedAt"}]


def test_a_case_started_before_the_index_was_indexed_once_by_the_operator_s_update() -> None:
    """v12: the opening answered no index; the operator's `index_child` update (no command
    in any earlier history, so they replay without a patch) asked its activity and set it."""
    path = HISTORIES / "v12-indexed_by_an_operator.json"
    events = json.loads(path.read_text())["events"]
    activities = [
        e["activityTaskScheduledEventAttributes"]["activityType"]["name"]
        for e in events
        if "activityTaskScheduledEventAttributes" in e
    ]
    assert activities[:2] == ["open_case", "index_child"]
    indexed = [k for k in upserted(path) if "CseChildIndex" in k]
    assert indexed == [{"CseChildIndex", "CseReceivedAt"}]
    accepted = [
        e["workflowExecutionUpdateAcceptedEventAttributes"]["acceptedRequest"]["input"]["name"]
        for e in events
        if "workflowExecutionUpdateAcceptedEventAttributes" in e
    ]
    assert "index_child" in accepted


def test_a_start_on_an_unknown_team_failed_before_publishing_its_team() -> None:
    path = HISTORIES / "v9-unknown_team_refused.json"
    events = json.loads(path.read_text())["events"]
    failure = events[-1]["workflowExecutionFailedEventAttributes"]["failure"]
    assert failure["applicationFailureInfo"]["type"] == "InvalidInput"
    assert failure["message"].startswith("invalid input: team: 'RAI-Z' is not a team")
    assert all("CseTeam" not in keys for keys in upserted(path))


def timers(path: Path) -> list[float]:
    """Each timer a history started, in seconds."""
    events = json.loads(path.read_text())["events"]
    return [
        float(e["timerStartedEventAttributes"]["startToFireTimeout"].removesuffix("s"))
        for e in events
        if "timerStartedEventAttributes" in e
    ]


def test_a_case_woke_for_the_child_s_birthday_and_the_plan_stopped_its_clock() -> None:
    """Transition planning (v11, no patch: only a referral with a date of birth wakes for it, and no
    earlier history has one): the first timer is the birthday's, ten days after the
    referral, sooner than any rung of the clocks open then; the plan was agreed after it."""
    path = HISTORIES / "v11-transition_planning_while_open.json"
    assert update_names(path) == ["decide", "record_transition_plan", "close"]
    assert timedelta(days=8) < timedelta(seconds=timers(path)[0]) < timedelta(days=11)
    earlier = [p for p in RECORDED if not p.stem.startswith(("v11-", "mase-"))]
    assert all("record_transition_plan" not in update_names(p) for p in earlier)
