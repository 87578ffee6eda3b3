"""Publishing a policy never moves a running case (issue: a case's rules never move under it).

On the real dev server, worker.py runs cases under the shipped policy; an operator then adds
a file back-dated to before their referrals, with shorter clocks, and restarts the worker.
Every case replays from its history on the new worker: its due dates stay where they were,
no workflow task fails, and it still takes updates. A case started after the file was
published takes the new version.
"""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import (
    REPO,
    TemporalCli,
    clean_env,
    iso,
    seconds,
    tail,
    worker_process,
)

pytestmark = pytest.mark.e2e


def back_dated_file(effective_from: str) -> str:
    return f"""
version = "borough-back-dated"
effective_from = {effective_from}
[deadlines]
referral_decision = {{ amount = 2, unit = "working_days" }}
assessment = {{ amount = 20, unit = "working_days" }}
return_home_interview = {{ amount = 1, unit = "hours" }}
"""


class Deployment:
    """One worker.py at a time on its own task queue, policy folder and ledger."""

    def __init__(self, address: str, folder: Path) -> None:
        self.policies = folder / "policies"
        self.policies.mkdir()
        shutil.copy(REPO / "policies" / "directive-2018.toml", self.policies)
        self.task_queue = f"policy-{uuid.uuid4().hex[:10]}"
        self.log = folder / "worker.log"
        self.env = clean_env(
            TEMPORAL_ADDRESS=address,
            CSE_TASK_QUEUE=self.task_queue,
            CSE_OUTBOX_FILE=str(folder / "outbox.jsonl"),
            CSE_POLICY_DIR=str(self.policies),
            CSE_POLICY_LEDGER=str(folder / "policy-ledger.json"),
            CSE_PANEL_SCHEDULE_ID=f"panel-{self.task_queue}",
            CSE_WORKER_CACHED_CASES="10",
        )

    def running(self) -> Any:
        return worker_process(self.env, self.log)


@pytest.fixture
def deployment(temporal_server: str, tmp_path: Path) -> Deployment:
    return Deployment(temporal_server, tmp_path)


def dues(status: dict[str, Any]) -> dict[str, str]:
    return {clock["id"]: clock["due_at"] for clock in status["clocks"]}


def failed_workflow_tasks(temporal: TemporalCli, workflow_id: str) -> list[dict[str, Any]]:
    history = temporal("workflow", "show", "--workflow-id", workflow_id)
    events = history["events"] if isinstance(history, dict) else history
    return [e for e in events if "workflowTaskFailedEventAttributes" in e]


def test_a_back_dated_policy_published_moves_no_running_case(
    deployment: Deployment,
    temporal: TemporalCli,
    make_referral: Callable[..., dict[str, Any]],
) -> None:
    now = datetime.now(UTC)
    this_morning = make_referral(received_at=iso(seconds(now - timedelta(hours=2))))
    went_missing = make_referral(received_at=iso(seconds(now - timedelta(days=2))))
    cases = [f"referral-{r['referral_id']}" for r in (this_morning, went_missing)]
    with deployment.running():
        for referral in (this_morning, went_missing):
            temporal.start(deployment.task_queue, referral)
        missing = {
            "went_missing_at": iso(seconds(now - timedelta(hours=30))),
            "returned_at": iso(seconds(now - timedelta(hours=3))),
            "actor": "sw-1",
        }
        temporal.update(cases[1], "record_missing_episode", missing)
        before = {case: temporal.status(case) for case in cases}
    assert any(c["name"] == "return_home_interview" for c in before[cases[1]]["clocks"])

    effective = (now - timedelta(days=3)).date().isoformat()  # before both referrals
    (deployment.policies / "borough-back-dated.toml").write_text(back_dated_file(effective))
    with deployment.running():
        for case in cases:
            after = temporal.status(case)  # a new worker: the case replays from its history
            assert dues(after) == dues(before[case]), case
            assert after["policy_version"] == "directive-2018"
            allocated = {
                "social_worker": "sw-2",
                "team": "E2E-T",
                "allocated_at": iso(seconds(now)),
            }
            temporal.update(case, "allocate", {**allocated, "actor": "tm-1"})
            assert failed_workflow_tasks(temporal, case) == []
        later = make_referral(received_at=iso(seconds(now - timedelta(hours=1))))
        temporal.start(deployment.task_queue, later)
        newer = temporal.status(f"referral-{later['referral_id']}")
        assert newer["policy_version"] == "borough-back-dated"
    assert "applies only to referrals started from now on" in tail(deployment.log)
