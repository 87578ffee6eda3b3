"""The monthly panel end to end, on the real dev server: the project's worker.py creates the
Schedule, cases are driven with the `temporal` CLI, the Schedule is triggered with
`temporal schedule trigger`, and the agenda and report (read as the API reads them: the run
found by its date, asked through its `document` query) and the outbox are checked against the
cases created.

The worker runs in a subprocess of its own: its own task queue, schedule id (so runs on a
shared server never collide) and outbox, and the panel named MACE.
"""

from __future__ import annotations

import asyncio
import csv
import io
import json
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from temporalio.client import (
    Client,
    ScheduleActionExecutionStartWorkflow,
    ScheduleActionStartWorkflow,
)

from activities.mase import visibility_queries
from contract.workflows import PanelOutcome
from domain.oversight import PanelRun, window_start
from edge.client import connect
from edge.panel_runs import panel_document
from edge.schedules import ensure_panel_schedule
from edge.settings import Settings
from tests.e2e.conftest import (
    LONDON,
    REPO,
    TemporalCli,
    clean_env,
    independent_working_day_due,
    iso,
    seconds,
    tail,
    wait_until,
    worker_process,
)

pytestmark = pytest.mark.e2e

SW, TM = "sw-e2e-mase", "tm-e2e-mase"
PANEL_RUN_TIMEOUT = 90.0
VISIBILITY_WAIT = 30.0


@dataclass(frozen=True)
class PanelService:
    address: str
    task_queue: str
    schedule_id: str
    outbox: Path
    log: Path


@pytest.fixture(scope="module")
def panel_service(
    temporal_server: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[PanelService]:
    """worker.py in a subprocess, with a task queue, schedule id and folders of its own."""
    folder = tmp_path_factory.mktemp("mase")
    tag = uuid.uuid4().hex[:10]
    service = PanelService(
        address=temporal_server,
        task_queue=f"e2e-mase-{tag}",
        schedule_id=f"mase-panel-e2e-{tag}",
        outbox=folder / "outbox.jsonl",
        log=folder / "worker.log",
    )
    env = clean_env(
        TEMPORAL_ADDRESS=temporal_server,
        CSE_TASK_QUEUE=service.task_queue,
        CSE_PANEL_SCHEDULE_ID=service.schedule_id,
        CSE_PANEL_NAME="MACE",
        CSE_OUTBOX_FILE=str(service.outbox),
        CSE_POLICY_DIR=str(REPO / "policies"),
    )
    try:
        with worker_process(env, service.log):
            yield service
    finally:
        TemporalCli(temporal_server).run("schedule", "delete", "--schedule-id", service.schedule_id)


@pytest.fixture
async def client(temporal_server: str) -> Client:
    return await connect(Settings(temporal_address=temporal_server, plaintext_payloads=True))


# ---- the cases ----------------------------------------------------------------------------


@dataclass
class Cases:
    """The cases one test creates, by name, with when each was received."""

    cli: TemporalCli
    task_queue: str
    make_referral: Callable[..., dict[str, Any]]
    received: dict[str, datetime]
    ids: dict[str, str]

    def open(self, name: str, received: datetime) -> str:
        referral = self.make_referral(received_at=iso(received), significant_harm_suspected=False)
        self.cli.start(self.task_queue, referral)
        self.received[name], self.ids[name] = received, referral["referral_id"]
        return f"referral-{referral['referral_id']}"

    def act(self, name: str, update: str, seconds_after: int, **payload: Any) -> None:
        at = iso(self.received[name] + timedelta(seconds=seconds_after))
        time_field = payload.pop("time_field")
        self.cli.update(f"referral-{self.ids[name]}", update, {**payload, time_field: at})


def assessed(cases: Cases, name: str, score: int) -> None:
    cases.act(name, "decide", 1, decision="assess", reason="", actor=SW, time_field="decided_at")
    cases.act(
        name,
        "record_screening",
        2,
        score=score,
        professional_concern="medium",
        actor=SW,
        time_field="screened_at",
    )


def discussed(cases: Cases, name: str, score: int, outcome: str, cris_number: str = "") -> None:
    assessed(cases, name, score)
    cases.act(
        name,
        "complete_assessment",
        3,
        outcome="strategy_discussion",
        actor=SW,
        time_field="completed_at",
    )
    cases.act(
        name,
        "record_strategy_discussion",
        4,
        chair_role="team_manager",
        agencies=["police"],
        outcome=outcome,
        cris_number=cris_number,
        actor=TM,
        time_field="held_at",
    )


def create_cases(cases: Cases) -> None:
    """Two referred, three scoring 1-3 unreferred (each blocked differently), one scoring 0,
    one closed, and one received ten days ago and never decided (its decision clock breached).
    """
    now = seconds(datetime.now(UTC))
    month_start = now.astimezone(LONDON).replace(day=1, hour=0, minute=0, second=0)
    recent = max(now - timedelta(hours=2), month_start.astimezone(UTC))
    for name in ("R1", "R2", "U1", "U2", "U3", "Z1", "C1"):
        cases.open(name, recent)
    cases.open("L1", now - timedelta(days=10))
    discussed(cases, "R1", 2, "s47", cris_number="CRIS-E2E-1")
    cases.act("R1", "refer_to_mase", 5, actor=TM, time_field="referred_at")
    discussed(cases, "R2", 3, "cin")
    cases.act(
        "R2", "refer_to_mase", 5, cris_number="CRIS-E2E-2", actor=TM, time_field="referred_at"
    )
    assessed(cases, "U1", 2)
    cases.act(
        "U1",
        "record_missing_episode",
        5,
        returned_at=iso(cases.received["U1"] + timedelta(seconds=6)),
        actor=SW,
        time_field="went_missing_at",
    )
    discussed(cases, "U2", 1, "cin")
    discussed(cases, "U3", 3, "s47", cris_number="CRIS-E2E-3")
    assessed(cases, "Z1", 0)
    cases.act(
        "C1", "decide", 1, decision="nfa", reason="no concern", actor=SW, time_field="decided_at"
    )


def wait_until_visible(cli: TemporalCli, task_queue: str, cases: Cases) -> None:
    """Visibility is eventually consistent: wait until each panel query finds exactly ours."""
    wid = {name: f"referral-{rid}" for name, rid in cases.ids.items()}
    expected = {
        "referred": {wid["R1"], wid["R2"]},
        "not_referred": {wid["U1"], wid["U2"], wid["U3"]},
        "reported": set(wid.values()),
    }
    queries = visibility_queries(task_queue, window_start(datetime.now(UTC)))
    for name, query in queries.items():

        def found(query: str = query, want: set[str] = expected[name]) -> bool:
            return {e["execution"]["workflowId"] for e in cli.list(query)} == want

        wait_until(f"visibility to list the {name} cases", found, VISIBILITY_WAIT, interval=0.5)


# ---- the runs -----------------------------------------------------------------------------


async def triggered_run(cli: TemporalCli, client: Client, schedule_id: str) -> tuple[str, datetime]:
    """Trigger the schedule now; the run's workflow id and the action time."""
    handle = client.get_schedule_handle(schedule_id)
    before = len((await handle.describe()).info.recent_actions)
    cli("schedule", "trigger", "--schedule-id", schedule_id)

    async def action() -> tuple[str, datetime]:
        while True:
            recent = (await handle.describe()).info.recent_actions
            if len(recent) > before:
                started = recent[-1].action
                assert isinstance(started, ScheduleActionExecutionStartWorkflow)
                return started.workflow_id, recent[-1].scheduled_at
            await asyncio.sleep(0.3)

    return await asyncio.wait_for(action(), timeout=30)


async def outcome_of(client: Client, workflow_id: str) -> PanelOutcome:
    handle = client.get_workflow_handle(workflow_id, result_type=PanelOutcome)
    result = await asyncio.wait_for(handle.result(), timeout=PANEL_RUN_TIMEOUT)
    assert isinstance(result, PanelOutcome)
    return result


def panel_notifications(outbox: Path) -> list[dict[str, Any]]:
    lines = [json.loads(line) for line in outbox.read_text().splitlines()]
    panel = [n for n in lines if n["kind"] in ("mase_agenda", "oversight_report")]
    return sorted(panel, key=lambda n: str(n["kind"]))


# ---- the tests ----------------------------------------------------------------------------


async def test_the_worker_creates_the_first_tuesday_schedule(
    panel_service: PanelService, client: Client
) -> None:
    [started] = [x for x in worker_events(panel_service) if x["event"] == "worker started"]
    assert started["panel_schedule"] == {panel_service.schedule_id: "created"}
    described = await client.get_schedule_handle(panel_service.schedule_id).describe()
    action = described.schedule.action
    assert isinstance(action, ScheduleActionStartWorkflow)
    assert (action.workflow, action.task_queue, action.id) == (
        "MasePanelWorkflow",
        panel_service.task_queue,
        panel_service.schedule_id,
    )
    [run] = client.data_converter.payload_converter.from_payloads(list(action.args), [PanelRun])
    assert run == PanelRun(panel_name="MACE")
    assert described.schedule.spec.time_zone_name == "Europe/London"
    upcoming = [t.astimezone(LONDON) for t in described.info.next_action_times]
    assert len(upcoming) >= 3
    for moment in upcoming:
        assert (moment.weekday(), moment.hour, moment.minute) == (1, 9, 0), moment
        assert moment.day <= 7, moment
    months = [(m.year, m.month) for m in upcoming]
    assert len(set(months)) == len(months)  # once a month


async def test_a_triggered_panel_lists_the_right_cases_and_reports_their_figures(
    panel_service: PanelService,
    client: Client,
    temporal: TemporalCli,
    make_referral: Callable[..., dict[str, Any]],
) -> None:
    cases = Cases(temporal, panel_service.task_queue, make_referral, {}, {})
    create_cases(cases)
    wait_until_visible(temporal, panel_service.task_queue, cases)

    workflow_id, scheduled_at = await triggered_run(temporal, client, panel_service.schedule_id)
    assert workflow_id.startswith(f"{panel_service.schedule_id}-")
    outcome = await outcome_of(client, workflow_id)
    assert outcome.run_date == scheduled_at.astimezone(LONDON).date()

    async def document(name: str) -> str:
        async def found() -> str | None:
            run = await panel_document(client, panel_service.task_queue, outcome.run_date, name)
            return None if run is None else run.content

        return await _first(found)

    # -- the agenda: exactly the right referral ids, with why not --------------------------------
    rows = list(csv.DictReader(io.StringIO(await document("agenda.csv"))))
    ids = cases.ids
    assert sorted((r["section"], r["referral_id"], r["why_not_referred"]) for r in rows) == sorted(
        [
            ("referred", ids["R1"], ""),
            ("referred", ids["R2"], ""),
            (
                "not_referred",
                ids["U1"],
                "a case referred to MASE must have had a strategy discussion",
            ),
            (
                "not_referred",
                ids["U2"],
                "a case referred to MASE must have a police CSE CRIS number",
            ),
            ("not_referred", ids["U3"], "not yet referred"),
        ]
    )
    agenda_page = await document("agenda.html")
    assert "MACE panel agenda" in agenda_page
    for name in ("Z1", "C1", "L1"):
        assert ids[name] not in agenda_page

    # -- the oversight report: the figures of the cases created ------------------------------------
    report = json.loads(await document("oversight.json"))
    expected_report(report, cases)
    report_text = await document("oversight.html") + json.dumps(report)
    assert "MACE oversight report" in report_text
    assert report_text.count("<svg") == 3  # new referrals, re-referrals, breaches
    for rid in ids.values():
        assert rid not in report_text

    # -- the notifications: a link each, to the panel roles, ids from the run ---------------------
    run_key = f"{workflow_id}@{scheduled_at:%Y%m%dT%H%M%SZ}"
    sent = panel_notifications(panel_service.outbox)
    day = outcome.run_date.isoformat()
    assert [(n["notification_id"], n["roles"], n["link"]) for n in sent] == [
        (
            f"{run_key}:mase_agenda",
            ["mase_chair", "mash"],
            f"http://127.0.0.1:8000/reports/{day}/agenda.html",
        ),
        (
            f"{run_key}:oversight_report",
            ["head_of_service", "data_analyst"],
            f"http://127.0.0.1:8000/reports/{day}/oversight.html",
        ),
    ]
    for rid in ids.values():
        assert rid not in json.dumps(sent)

    # -- the same run again (a reset replays it from the start): nothing is sent twice ------------
    first_run = temporal.describe(workflow_id)["workflowExecutionInfo"]["execution"]["runId"]
    temporal(
        "workflow",
        "reset",
        "--workflow-id",
        workflow_id,
        "--type",
        "FirstWorkflowTask",
        "--reason",
        "e2e: the panel run again",
        output=None,
    )

    def rerun_completed() -> bool:
        info = temporal.describe(workflow_id)["workflowExecutionInfo"]
        rerun = info["execution"]["runId"] != first_run
        return bool(rerun and info["status"] == "WORKFLOW_EXECUTION_STATUS_COMPLETED")

    wait_until("the reset panel run to complete", rerun_completed, PANEL_RUN_TIMEOUT, 0.5)
    asked = [x for x in worker_events(panel_service) if x["event"] == "notification"]
    assert [x["notification_id"] for x in asked].count(f"{run_key}:mase_agenda") == 2
    assert panel_notifications(panel_service.outbox) == sent


async def _first(probe: Callable[[], Awaitable[str | None]]) -> str:
    """What `probe` answers once it answers (visibility lists a finished run a moment late)."""
    for _ in range(int(VISIBILITY_WAIT / 0.3)):
        answer = await probe()
        if answer is not None:
            return answer
        await asyncio.sleep(0.3)
    raise AssertionError("the panel run's document was not found")


def worker_events(service: PanelService) -> list[dict[str, Any]]:
    return [json.loads(x) for x in tail(service.log, 1_000_000).splitlines() if x[:1] == "{"]


def expected_report(report: dict[str, Any], cases: Cases) -> None:
    """Compare the report with what was done to each case (computed independently)."""
    received = cases.received
    month = report["month"]
    assert (report["cases_covered"], report["open_cases"], report["cases_unreadable"]) == (8, 7, 0)
    assert report["open_by_stage"] == {
        "referral_received": 1,  # L1
        "assessment": 2,  # U1, Z1
        "strategy_discussion": 0,
        "s47_enquiry": 2,  # R1, U3
        "child_in_need": 2,  # R2, U2
        "safety_plan": 0,
        "review": 0,
        "cp_plan": 0,
    }
    assert report["open_by_score"] == {"0": 1, "1": 1, "2": 2, "3": 2, "unscored": 1}
    months = Counter(at.astimezone(LONDON).strftime("%Y-%m") for at in received.values())
    assert report["new_referrals_this_month"] == months[month]
    tallies = {t["clock"]: (t["met"], t["breached"]) for t in report["deadlines"]}
    assert tallies["referral_decision"] == (7, 1)
    assert tallies["assessment"] == (4, 0)
    assert tallies["strategy_discussion"] == (4, 0)
    assert {c: t for c, t in tallies.items() if t != (0, 0)}.keys() == {
        "referral_decision",
        "assessment",
        "strategy_discussion",
    }
    assert report["open_cases_with_missing_episodes"] == 1
    u1_month = received["U1"].astimezone(LONDON).strftime("%Y-%m")
    assert report["missing_episodes_this_month"] == (1 if u1_month == month else 0)
    late_due = independent_working_day_due(received["L1"], 1).strftime("%Y-%m")
    trend = {m["month"]: (m["new_referrals"], m["breaches"]) for m in report["trend"]}
    assert len(trend) == 12
    assert month in trend
    expected_trend = {m: (months[m], 1 if m == late_due else 0) for m in trend}
    assert trend == expected_trend


async def test_the_schedule_follows_the_settings(temporal_server: str, client: Client) -> None:
    schedule_id = f"mase-panel-e2e-settings-{uuid.uuid4().hex[:8]}"
    first = Settings(
        temporal_address=temporal_server,
        panel_schedule_id=schedule_id,
        panel_schedule="second monday 10:30 Europe/London",
        task_queue="e2e-mase-settings",
    )
    try:
        assert await ensure_panel_schedule(client, first) == "created"
        assert await ensure_panel_schedule(client, first) == "unchanged"
        assert (
            await ensure_panel_schedule(client, first.model_copy(update={"panel_name": "MACE"}))
            == "updated"
        )
        default_day = first.model_copy(update={"panel_schedule": Settings().panel_schedule})
        assert await ensure_panel_schedule(client, default_day) == "updated"
        assert await ensure_panel_schedule(client, default_day) == "unchanged"
        described = await client.get_schedule_handle(schedule_id).describe()
        for moment in (t.astimezone(LONDON) for t in described.info.next_action_times):
            assert (moment.weekday(), moment.hour, moment.minute, moment.day <= 7) == (
                1,
                9,
                0,
                True,
            )
    finally:
        await client.get_schedule_handle(schedule_id).delete()
