"""MasePanelWorkflow on the time-skipping server: the listing and reading activities mocked
under their real names; building, storing and the outbox notifier for real."""

from __future__ import annotations

import json
from datetime import UTC
from pathlib import Path
from typing import Any

from temporalio.testing import WorkflowEnvironment

from activities.mase import PanelListing
from domain.oversight import Oversight
from tests.workflows.mase_scenarios import (
    CASES,
    LISTING,
    FakeVisibility,
    PanelHandle,
    panel_worker,
    start_panel,
)
from workflows.mase_panel import PanelOutcome


async def run_panel(
    env: WorkflowEnvironment, task_queue: str, panel_name: str = "MASE"
) -> tuple[PanelHandle, PanelOutcome]:
    handle = await start_panel(env, task_queue, panel_name)
    return handle, await handle.result()


def outbox_lines(outbox: Path) -> list[dict[str, Any]]:
    """The outbox in kind order (the two notifications are sent together, in either order)."""
    lines = [json.loads(line) for line in outbox.read_text().splitlines()]
    return sorted(lines, key=lambda n: str(n["kind"]))


async def test_a_run_stores_the_agenda_and_report_and_tells_the_panel_roles(
    env: WorkflowEnvironment, tmp_path: Path
) -> None:
    visibility = FakeVisibility()
    reports, outbox = tmp_path / "reports", tmp_path / "outbox.jsonl"
    async with panel_worker(env, visibility, reports, outbox) as task_queue:
        handle, outcome = await run_panel(env, task_queue, panel_name="MACE")

    [listed] = visibility.listed
    as_of = listed.as_of
    started = (await handle.describe()).start_time  # a run started by hand: its start time
    assert abs((as_of - started).total_seconds()) < 1
    assert [r.workflow_ids for r in visibility.read] == [sorted(LISTING.reported)]
    day = outcome.run_date.isoformat()
    assert (outcome.referred, outcome.not_referred) == (1, 1)
    assert outcome.links["agenda.html"] == f"/reports/{day}/agenda.html"
    folder = reports / day
    assert sorted(p.name for p in folder.iterdir()) == [
        "agenda.csv",
        "agenda.html",
        "oversight.html",
        "oversight.json",
    ]
    assert "MACE panel agenda" in (folder / "agenda.html").read_text()
    report = Oversight.model_validate_json((folder / "oversight.json").read_text())
    assert report.open_cases == 3

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
    reports, outbox = tmp_path / "reports", tmp_path / "outbox.jsonl"
    async with panel_worker(env, visibility, reports, outbox) as task_queue:
        _, outcome = await run_panel(env, task_queue)
    assert len(visibility.read) == 3
    assert len(outbox_lines(outbox)) == 2
    assert (outcome.referred, outcome.not_referred) == (1, 1)


async def test_a_month_with_no_cases_still_meets_and_reports_zeroes(
    env: WorkflowEnvironment, tmp_path: Path
) -> None:
    empty = PanelListing(referred=[], not_referred=[], reported=[])
    visibility = FakeVisibility(listing=empty, cases=[])
    reports, outbox = tmp_path / "reports", tmp_path / "outbox.jsonl"
    async with panel_worker(env, visibility, reports, outbox) as task_queue:
        _, outcome = await run_panel(env, task_queue)
    assert (outcome.referred, outcome.not_referred) == (0, 0)
    folder = reports / outcome.run_date.isoformat()
    assert (folder / "agenda.csv").read_text().count("\n") == 1  # the header alone
    report = Oversight.model_validate_json((folder / "oversight.json").read_text())
    assert (report.open_cases, report.cases_covered) == (0, 0)
    assert [n["kind"] for n in outbox_lines(outbox)] == ["mase_agenda", "oversight_report"]
