"""The hostile-input run's own time-skipping server, and its counts, printed at the end and
kept in test-artifacts/."""

import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from temporalio.testing import WorkflowEnvironment

from tests.conftest import start_test_server
from tests.property.tally import TALLY


@pytest.fixture(scope="package")
async def env() -> AsyncIterator[WorkflowEnvironment]:
    """A server of their own: hundreds of generated cases and weeks skipped must not weigh on
    (or, should it fail under load, take down) the server every other tier shares."""
    async with await start_test_server() as environment:
        yield environment


SUMMARY = Path(__file__).resolve().parents[2] / "test-artifacts" / "property-summary.json"


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if not TALLY:
        return
    counts = dict(sorted(TALLY.items()))
    counts["generated_inputs_tried"] = TALLY["domain.inputs"] + TALLY["workflow.inputs"]
    counts["state_changes_from_refusals"] = TALLY["state_changes_from_refusals"]
    counts["failed_workflow_tasks"] = TALLY["failed_workflow_tasks"]
    SUMMARY.parent.mkdir(exist_ok=True)
    SUMMARY.write_text(json.dumps(counts, indent=2) + "\n")
    terminalreporter.write_sep("-", "hostile input (tests/property)")
    for key in ("generated_inputs_tried", "domain.inputs", "workflow.inputs"):
        terminalreporter.write_line(f"{key}: {counts.get(key, 0)}")
    keys = ("workflow.hand_written", "domain.refusals", "workflow.refusals")
    for key in (*keys, "workflow.histories_checked"):
        terminalreporter.write_line(f"{key}: {counts.get(key, 0)}")
    for key in ("state_changes_from_refusals", "failed_workflow_tasks"):
        terminalreporter.write_line(f"{key}: {counts[key]}")
    unhandled = "workflow_tasks_failed_by_server_unhandled_command"
    terminalreporter.write_line(f"{unhandled}: {counts.get(unhandled, 0)}")
    terminalreporter.write_line(f"all counts: {SUMMARY}")
