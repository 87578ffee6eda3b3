"""MasePanelWorkflow on the time-skipping server: the listing and reading activities mocked
under their real names; building and the outbox notifier for real. The documents are read
back through the run's `document` query, as the API reads them."""

from __future__ import annotations

import json
import os
from datetime import UTC
from pathlib import Path
from typing import Any

import pytest
from temporalio.testing import WorkflowEnvironment

from contract.activities import PanelListing
from contract.workflows import PanelOutcome
from domain.oversight import Oversight
from domain.panel_documents import DOCUMENT_NAMES, DocumentRequest, PanelDocument
from tests.conftest import server_of_its_own  # noqa: F401  (the module's `env`)
from tests.workflows.mase_scenarios import (
    CASES,
    LISTING,
    FakeVisibility,
    PanelHandle,
    panel_worker,
    start_panel,
)
from workflows.mase_panel import MasePanelWorkflow


async def run_panel(
    env: WorkflowEnvironment, task_queue: str, panel_name: str = "MASE"
) -> tuple[PanelHandle, PanelOutcome]:
    handle = await start_panel(env, task_queue, panel_name)
    return handle, await handle.result()


async def document(handle: PanelHandle, name: str) -> str:
    answer = await handle.query(MasePanelWorkflow.document, DocumentRequest(name=name))
    assert isinstance(answer, PanelDocument)
    assert answer.content is not None, name
    return answer.content


def outbox_lines(outbox: Path) -> list[dict[str, Any]]:
    """The outbox in kind order (the two notifications are sent together, in either order)."""
    lines = [json.loads(line) for line in outbox.read_text().splitlines()]
    return sorted(lines, key=lambda n: str(n["kind"]))


async def test_a_run_keeps_the_agenda_and_report_and_tells_the_panel_roles(
    env: WorkflowEnvironment, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    visibility = FakeVisibility()
    outbox = tmp_path / "outbox.jsonl"
    async with panel_worker(env, visibility, outbox) as task_queue:
        handle, outcome = await run_panel(env, task_queue, panel_name="MACE")
        documents = {name: await document(handle, name) for name in DOCUMENT_NAMES}
        unknown = await handle.query(MasePanelWorkflow.document, DocumentRequest(name="x.txt"))

    [listed] = visibility.listed
    as_of = listed.as_of
    started = (await handle.describe()).start_time  # a run started by hand: its start time
    assert abs((as_of - started).total_seconds()) < 1
    assert [r.workflow_ids for r in visibility.read] == [sorted(LISTING.reported)]
    day = outcome.run_date.isoformat()
    assert (outcome.referred, outcome.not_referred) == (1, 1)
    assert outcome.links["agenda.html"] == f"/reports/{day}/agenda.html"
    assert outcome.links == {name: f"/reports/{day}/{name}" for name in DOCUMENT_NAMES}
    assert "MACE panel agenda" in documents["agenda.html"]
    assert "R-REFERRED" in documents["agenda.csv"]
    report = Oversight.model_validate_json(documents["oversight.json"])
    assert report.open_cases == 3
    assert unknown.content is None
    assert os.listdir(tmp_path) == ["outbox.jsonl"]  # no document on the worker's disk

    run_key = f"{handle.id}@{as_of.astimezone(UTC):%Y%m%dT%H%M%SZ}"
    sent = outbox_lines(outbox)
    assert [(n["notification_id"], n["kind"], n["roles"], n["link"]) for n in sent] == [
        (
            f"{run_key}:mase_agenda",
            "mase_agenda",
            ["mase_chair", "mash"],
            f"https://cse.example.org/reports/{day}/agenda.html",
        ),
        (
            f"{run_key}:oversight_report",
            "oversight_report",
            ["head_of_service", "data_analyst"],
            f"https://cse.example.org/reports/{day}/oversight.html",
        ),
    ]
    assert sorted(outcome.notifications) == [n["notification_id"] for n in sent]
    for case in CASES:
        assert case.referral_id not in json.dumps(sent)


async def test_a_visibility_outage_is_retried_and_nothing_is_sent_twice(
    env: WorkflowEnvironment, tmp_path: Path
) -> None:
    visibility = FakeVisibility(failures_before_reading=2)
    outbox = tmp_path / "outbox.jsonl"
    async with panel_worker(env, visibility, outbox) as task_queue:
        _, outcome = await run_panel(env, task_queue)
    assert len(visibility.read) == 3
    assert len(outbox_lines(outbox)) == 2
    assert (outcome.referred, outcome.not_referred) == (1, 1)


async def test_a_month_with_no_cases_still_meets_and_reports_zeroes(
    env: WorkflowEnvironment, tmp_path: Path
) -> None:
    empty = PanelListing(referred=[], not_referred=[], reported=[])
    visibility = FakeVisibility(listing=empty, cases=[])
    outbox = tmp_path / "outbox.jsonl"
    async with panel_worker(env, visibility, outbox) as task_queue:
        handle, outcome = await run_panel(env, task_queue)
        agenda_csv = await document(handle, "agenda.csv")
        report_json = await document(handle, "oversight.json")
    assert (outcome.referred, outcome.not_referred) == (0, 0)
    assert agenda_csv.count("\n") == 1  # the header alone
    report = Oversight.model_validate_json(report_json)
    assert (report.open_cases, report.cases_covered) == (0, 0)
    assert [n["kind"] for n in outbox_lines(outbox)] == ["mase_agenda", "oversight_report"]
