"""Every committed history replays against today's workflow code.

A change that cannot replay these would break cases already running: CI fails instead.
Record new paths with `python -m tests.workflows.scenarios <version>`; never rewrite old ones.
"""

import asyncio
import base64
import json
from pathlib import Path

import pytest
from temporalio.client import WorkflowHistory
from temporalio.worker import Replayer

from domain.policy import Policy, PolicyBook
from edge.converter import data_converter
from tests.workflows.scenarios import HISTORIES, LONG_CASE_POLICY
from workflows import configuration
from workflows.mase_panel import DOCUMENTS_IN_HISTORY, MasePanelWorkflow
from workflows.referral import (
    EARLIER_CASES_ASKED_LOCALLY,
    EARLIER_CASES_ASKED_THROUGH_THE_SERVER,
    ONE_ALARM_UNTIL_IT_MOVES,
    ONE_CASE_PER_REFERRAL_ID,
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


@pytest.mark.parametrize("path", RECORDED, ids=[p.stem for p in RECORDED])
def test_history_replays(path: Path) -> None:
    policy = LONG_CASE_POLICY if "continued_as_new" in path.stem else Policy()
    configuration.install(configuration.ANY_TASK_QUEUE, PolicyBook(versions=[policy]))
    history = WorkflowHistory.from_json(recorded_workflow_id(path), path.read_text())
    replayer = Replayer(
        workflows=[ReferralWorkflow, MasePanelWorkflow],
        data_converter=data_converter,
        workflow_runner=workflow_runner(strict=True),
    )
    result = asyncio.run(replayer.replay_workflow(history, raise_on_replay_failure=True))
    assert result.replay_failure is None


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
