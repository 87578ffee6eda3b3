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
from workflows.mase_panel import MasePanelWorkflow
from workflows.referral import ReferralWorkflow
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
        workflow_runner=workflow_runner(),
    )
    result = asyncio.run(replayer.replay_workflow(history, raise_on_replay_failure=True))
    assert result.replay_failure is None


def test_histories_recorded_before_and_after_the_one_case_patch_are_both_kept() -> None:
    """Replaying both proves old cases skip the duplicate check and new ones make it."""

    def marked(path: Path) -> bool:
        events = json.loads(path.read_text())["events"]
        return any(e["eventType"] == "EVENT_TYPE_MARKER_RECORDED" for e in events)

    cases = [p for p in RECORDED if not p.stem.startswith("mase-")]
    assert {p.stem for p in cases if not marked(p)} >= {"v1-nfa_at_referral"}
    fresh = [p for p in cases if p.stem.startswith("v2-") and "second_run" not in p.stem]
    assert fresh
    assert all(marked(p) for p in fresh)
