"""starter.py, the intake command, as a subprocess against the real dev server and worker.

Exit codes (starter.py): 0 started (prints the workflow id), 2 bad referral (each bad field
named), 3 a case already exists for the referral id (left untouched), 66 unreadable file.

starter.py ends with os._exit after flushing: the SDK's native runtime could otherwise abort
the interpreter's shutdown (temporalio/sdk-python#300) and replace the exit code with -6.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import (
    REPO,
    RunningWorker,
    TemporalCli,
    clean_env,
    iso,
    run_python,
    seconds,
)

pytestmark = pytest.mark.e2e

Starter = Callable[[Path], subprocess.CompletedProcess[str]]


@pytest.fixture
def starter(service_worker: RunningWorker, tmp_path: Path) -> Starter:
    """Run `python starter.py FILE` from a directory that is not the repository."""

    def run(path: Path) -> subprocess.CompletedProcess[str]:
        env = clean_env(
            TEMPORAL_ADDRESS=service_worker.address,
            CSE_TASK_QUEUE=service_worker.task_queue,
            CSE_POLICY_DIR=str(REPO / "policies"),  # the worker's: its clock-skew tolerance
        )
        return run_python(str(REPO / "starter.py"), str(path), env=env, cwd=tmp_path)

    return run


def assert_exit(done: subprocess.CompletedProcess[str], expected: int) -> None:
    assert done.returncode == expected, (
        f"exit {done.returncode}, expected {expected}\nstdout:\n{done.stdout}\n"
        f"stderr:\n{done.stderr}"
    )


def write(folder: Path, referral: dict[str, Any] | str, name: str = "referral.json") -> Path:
    path = folder / name
    text = referral if isinstance(referral, str) else json.dumps(referral)
    path.write_text(text, encoding="utf-8")
    return path


def assert_no_case(temporal: TemporalCli, workflow_id: str) -> None:
    missing = temporal.fails("workflow", "describe", "--workflow-id", workflow_id)
    assert "not found" in missing.stderr.lower()


def test_a_good_referral_starts_a_case(
    starter: Starter,
    temporal: TemporalCli,
    service_worker: RunningWorker,
    make_referral: Callable[..., dict[str, Any]],
    tmp_path: Path,
) -> None:
    referral = make_referral()
    wid = f"referral-{referral['referral_id']}"

    done = starter(write(tmp_path, referral))

    assert_exit(done, 0)
    assert done.stdout.strip() == wid
    status = temporal.status(wid)
    assert status["referral_id"] == referral["referral_id"]
    assert status["stage"] == "referral_received"
    assert status["team"] == referral["team"]
    assert {c["name"] for c in status["clocks"]} == {"referral_decision", "strategy_discussion"}
    info = temporal.describe(wid)["workflowExecutionInfo"]
    assert info["type"]["name"] == "ReferralWorkflow"
    assert info["taskQueue"] == service_worker.task_queue
    assert info["status"] == "WORKFLOW_EXECUTION_STATUS_RUNNING"


def test_a_bad_referral_is_refused_naming_each_bad_field(
    starter: Starter,
    temporal: TemporalCli,
    make_referral: Callable[..., dict[str, Any]],
    tmp_path: Path,
) -> None:
    referral = make_referral(
        received_at="2026-11-27T10:00:00",  # no offset
        concerns=["sexual_health", "witchcraft"],  # not a SAFEGUARDED indicator
    )
    del referral["child_ref"]
    del referral["referrer_agency"]

    done = starter(write(tmp_path, referral))

    assert done.returncode == 2, done.stderr
    assert done.stdout == ""
    bad_fields = {
        line.strip().split(":")[0] for line in done.stderr.splitlines() if line.startswith("  ")
    }
    assert bad_fields == {"received_at", "child_ref", "referrer_agency", "concerns.1"}
    assert "timezone" in done.stderr
    assert_no_case(temporal, f"referral-{referral['referral_id']}")


def test_a_file_that_is_not_json_is_refused(starter: Starter, tmp_path: Path) -> None:
    done = starter(write(tmp_path, "referral_id: R-1\n"))

    assert done.returncode == 2
    assert "Invalid JSON" in done.stderr


def test_a_referral_received_in_the_future_is_refused(
    starter: Starter,
    temporal: TemporalCli,
    make_referral: Callable[..., dict[str, Any]],
    tmp_path: Path,
) -> None:
    referral = make_referral(received_at=iso(seconds(datetime.now(UTC) + timedelta(hours=1))))

    done = starter(write(tmp_path, referral))

    assert done.returncode == 2
    assert "received_at: is in the future" in done.stderr
    assert_no_case(temporal, f"referral-{referral['referral_id']}")


def test_the_same_referral_again_is_refused_and_the_case_untouched(
    starter: Starter,
    temporal: TemporalCli,
    make_referral: Callable[..., dict[str, Any]],
    tmp_path: Path,
) -> None:
    referral = make_referral()
    wid = f"referral-{referral['referral_id']}"
    assert_exit(starter(write(tmp_path, referral)), 0)
    before = temporal.settled(wid)["workflowExecutionInfo"]
    status_before = temporal.status(wid)

    # Same id, different content: must not replace or touch the open case.
    again = make_referral(referral_id=referral["referral_id"], team="E2E-OTHER")
    done = starter(write(tmp_path, again, "again.json"))

    assert_exit(done, 3)
    assert done.stdout == ""
    assert f"a case for referral {referral['referral_id']} already exists" in done.stderr
    after = temporal.settled(wid)["workflowExecutionInfo"]
    assert after["execution"]["runId"] == before["execution"]["runId"]
    assert after["historyLength"] == before["historyLength"]
    assert temporal.status(wid) == status_before

    # A closed case's referral id is refused too (never reused).
    decided_at = iso(datetime.fromisoformat(referral["received_at"]) + timedelta(minutes=5))
    closed = temporal.update(
        wid,
        "decide",
        {"decision": "nfa", "decided_at": decided_at, "reason": "e2e", "actor": "sw-e2e"},
    )
    assert closed["stage"] == "closed"
    temporal.wait_status(wid, "COMPLETED", timeout=15)
    done = starter(write(tmp_path, again, "again.json"))
    assert_exit(done, 3)
    assert f"a case for referral {referral['referral_id']} already exists" in done.stderr
    runs = temporal.list(f"WorkflowId = '{wid}'")
    assert [r["execution"]["runId"] for r in runs] == [before["execution"]["runId"]]


def test_a_missing_file_is_refused_clearly(starter: Starter, tmp_path: Path) -> None:
    missing = tmp_path / "no-such-referral.json"

    done = starter(missing)

    assert done.returncode != 0
    assert done.returncode == 66
    assert f"cannot read {missing}" in done.stderr
    assert "No such file or directory" in done.stderr


def test_the_starter_exits_with_its_own_exit_code(
    starter: Starter, make_referral: Callable[..., dict[str, Any]], tmp_path: Path
) -> None:
    """Repeated runs all exit with the code they mean (no abort while shutting down)."""
    referral = write(tmp_path, make_referral())
    assert_exit(starter(referral), 0)
    for _ in range(8):
        assert_exit(starter(referral), 3)
