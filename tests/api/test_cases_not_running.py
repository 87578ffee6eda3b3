"""No case out of sight (issue 17, defect 2): a case whose run ended without the pathway
closing it (terminated from the CLI or a raw client's start with TERMINATE_EXISTING, timed
out, failed) is shown as such everywhere, and brought back with Temporal's own reset as
README "Operations" says.

On the real dev server with the sealed worker.py (tests/e2e/conftest.py) and the API in
process (tests/api/conftest.py); each test works in a team of its own and resets what it
terminated, so no other test's caseload shows its cases first.
"""

from __future__ import annotations

import asyncio
import json
import math
import re
import secrets
import shlex
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from google.protobuf.timestamp_pb2 import Timestamp
from pydantic import SecretStr
from temporalio.api.enums.v1 import ContinueAsNewInitiator
from temporalio.api.failure.v1 import Failure
from temporalio.api.history.v1 import (
    HistoryEvent,
    WorkflowExecutionCanceledEventAttributes,
    WorkflowExecutionContinuedAsNewEventAttributes,
    WorkflowExecutionFailedEventAttributes,
    WorkflowExecutionTerminatedEventAttributes,
    WorkflowExecutionTimedOutEventAttributes,
)
from temporalio.client import Client, WorkflowFailureError
from temporalio.common import WorkflowIDConflictPolicy
from temporalio.testing import ActivityEnvironment

from activities.mase import PanelCases, build_panel_documents
from api.app import create_app
from api.metrics import CasesNotRunning
from contract.activities import BuildRequest, ListingRequest, ReadCases, ReadRequest
from edge.client import connect
from edge.diagnosis import Reason, reset_command, run_ended, what_ended
from edge.settings import Settings
from tests.api.conftest import StartCase, User, Users, eventually, just_now
from tests.e2e.conftest import TemporalCli, iso, seconds
from tests.prometheus_text import parse, total

pytestmark = pytest.mark.slow  # terminates and resets cases on the dev server, waits for clocks

TERMINATED_BY_MISTAKE = "pressed terminate in the Web UI by mistake"
BACKTICKED = re.compile(r"`(temporal workflow reset [^`]*)`")
RETURN_INTERVIEW = timedelta(hours=72)  # policies/: return_home_interview
BREACH_DUE_IN = timedelta(seconds=12)  # the clock's breach step, after its missing episode
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


# ---- what ended a run, and how to bring it back -------------------------------------------


def closing(at: datetime, **attributes: Any) -> HistoryEvent:
    stamp = Timestamp()
    stamp.FromDatetime(at)
    return HistoryEvent(event_id=42, event_time=stamp, **attributes)


AT = datetime(2026, 12, 7, 17, 28, 18, tzinfo=UTC)


def test_what_ended_a_run_is_read_from_the_event_that_closed_it() -> None:
    terminated = WorkflowExecutionTerminatedEventAttributes(
        reason=TERMINATED_BY_MISTAKE, identity="ops@temporal-ui"
    )
    failed = WorkflowExecutionFailedEventAttributes(failure=Failure(message="sealed"))
    continued = WorkflowExecutionContinuedAsNewEventAttributes(
        new_execution_run_id="run-2",
        initiator=ContinueAsNewInitiator.CONTINUE_AS_NEW_INITIATOR_RETRY,
    )
    told = {
        "terminated": what_ended(
            closing(AT, workflow_execution_terminated_event_attributes=terminated)
        ),
        "timed out": what_ended(
            closing(
                AT,
                workflow_execution_timed_out_event_attributes=(
                    WorkflowExecutionTimedOutEventAttributes()
                ),
            )
        ),
        "failed": what_ended(
            closing(AT, workflow_execution_failed_event_attributes=failed),
            ("ActivityError", "notify gave up"),
        ),
        "canceled": what_ended(
            closing(
                AT,
                workflow_execution_canceled_event_attributes=(
                    WorkflowExecutionCanceledEventAttributes()
                ),
            )
        ),
        "continued": what_ended(
            closing(AT, workflow_execution_continued_as_new_event_attributes=continued)
        ),
    }

    assert told["terminated"] == (
        Reason.terminated,
        "its run was terminated at 2026-12-07 17:28:18 UTC by ops@temporal-ui "
        f"(reason given: {TERMINATED_BY_MISTAKE})",
    )
    assert told["timed out"] is not None
    assert told["timed out"][0] == Reason.timed_out
    assert told["failed"] == (
        Reason.failed,
        "its run failed at 2026-12-07 17:28:18 UTC: ActivityError: notify gave up",
    )
    assert told["canceled"] is not None
    assert told["canceled"][0] == Reason.canceled
    assert told["continued"] is not None
    assert told["continued"][0] == Reason.continued_as_new
    assert "run-2" in told["continued"][1]
    assert what_ended(closing(AT)) is None  # not an event that closes a run


def test_the_operator_is_given_temporals_own_reset_of_the_cases_run() -> None:
    command = reset_command("default", "referral-R-1", "run-of-the-case")
    said = run_ended(Reason.terminated, "its run was terminated", command)

    assert shlex.split(command) == [
        "temporal",
        "workflow",
        "reset",
        "--namespace",
        "default",
        "--workflow-id",
        "referral-R-1",
        "--run-id",
        "run-of-the-case",
        "--type",
        "LastWorkflowTask",
        "--reason",
        "bring the case back: its run ended without the pathway closing it",
    ]
    assert BACKTICKED.search(said.operator_action).group(1) == command  # type: ignore[union-attr]
    assert "its clocks no longer fire and nothing can be recorded" in said.detail
    assert "--event-id" in said.operator_action


async def test_the_metric_is_read_at_most_so_often_and_is_nan_while_unknown() -> None:
    now = [0.0]
    answers: list[int | Exception] = [3, 5, RuntimeError("visibility down")]

    async def count() -> int:
        answer = answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    gauge = CasesNotRunning(count, max_age=30, clock=lambda: now[0])
    first = await gauge.exposition()
    now[0] = 29.0
    cached = await gauge.value()
    now[0] = 31.0
    second = await gauge.value()
    now[0] = 62.0
    unknown = await gauge.exposition()

    assert parse(first)[0].name == "cse_cases_not_running"
    assert "# TYPE cse_cases_not_running gauge" in first
    assert (parse(first)[0].value, cached, second) == (3, 3, 5)
    assert math.isnan(parse(unknown)[0].value)


# ---- on the dev server ----------------------------------------------------------------------


def new_team() -> str:
    return f"OUT-{uuid.uuid4().hex[:8]}"


@pytest.fixture
async def raw_client(app: FastAPI) -> Client:
    """A client as an outside one would hold it: the SDK, the service's key, no reuse policy."""
    settings: Settings = app.state.settings
    return await connect(settings)


@pytest.fixture
def temporal(app: FastAPI) -> TemporalCli:
    settings: Settings = app.state.settings
    return TemporalCli(settings.temporal_address)


@pytest.fixture
async def metrics_app(api_settings: Settings) -> AsyncIterator[tuple[httpx.AsyncClient, str]]:
    """The API with its /metrics on, reading the count afresh at every scrape."""
    token = secrets.token_urlsafe(32)
    application = create_app(api_settings.model_copy(update={"metrics_token": SecretStr(token)}))
    async with application.router.lifespan_context(application):
        application.state.cases_not_running.max_age = 0
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(transport=transport, base_url="http://api") as http:
            yield http, token


async def not_running_metric(metrics: tuple[httpx.AsyncClient, str]) -> float:
    http, token = metrics
    answer = await http.get("/metrics", headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 200, answer.text
    return total(parse(answer.text), "cse_cases_not_running")


async def listing(api: httpx.AsyncClient, reader: User, team: str, **params: Any) -> Any:
    answer = await api.get("/cases", params={"team": team, **params}, headers=reader.headers)
    assert answer.status_code == 200, answer.text
    return answer.json()


def reset_as_told(temporal: TemporalCli, operator_action: str) -> str:
    """Run the reset the operator is told to run, as README "Operations" shows; the new run."""
    found = BACKTICKED.search(operator_action)
    assert found, operator_action
    args = shlex.split(found.group(1))
    assert args[:3] == ["temporal", "workflow", "reset"]
    answer = temporal(*args[1:])
    run_id: str = answer["runId"]
    return run_id


async def refused(client: Client, workflow_id: str, run_id: str) -> None:
    handle = client.get_workflow_handle(workflow_id, run_id=run_id)
    with pytest.raises(WorkflowFailureError):
        await asyncio.wait_for(handle.result(), timeout=30)


async def test_a_case_terminated_by_a_raw_start_is_flagged_everywhere_then_brought_back(
    api: httpx.AsyncClient,
    users: Users,
    start_case: StartCase,
    raw_client: Client,
    api_settings: Settings,
    temporal: TemporalCli,
    metrics_app: tuple[httpx.AsyncClient, str],
) -> None:
    """The probe's repro: a raw client starts `referral-R` with TERMINATE_EXISTING. The real
    case is terminated and the new run refused as a second case of the id; before, the API
    showed the case at its last stage, on time, every event refused "case is closed"."""
    reader = users.head_of_service
    before = await not_running_metric(metrics_app)
    team = new_team()
    case = await start_case(team=team)
    rid, wid = case["referral_id"], f"referral-{case['referral_id']}"
    await eventually("the case published", lambda: _published(api, users, team, rid))
    case_run = (await raw_client.get_workflow_handle(wid).describe()).run_id
    stray = await raw_client.start_workflow(
        "ReferralWorkflow",
        case,
        id=wid,
        task_queue=api_settings.task_queue,
        id_conflict_policy=WorkflowIDConflictPolicy.TERMINATE_EXISTING,
    )
    await refused(raw_client, wid, stray.result_run_id or "")

    shown = await api.get(f"/cases/{rid}", headers=reader.headers)
    assert shown.status_code == 503, shown.text
    body = shown.json()
    assert body["reason"] == "terminated"
    assert "is not running: its run was terminated at" in body["detail"]
    assert "its clocks no longer fire and nothing can be recorded" in body["detail"]
    command = BACKTICKED.search(body["operator_action"])
    assert command
    assert f"--workflow-id {wid} --run-id {case_run}" in command.group(1)
    assert "--type LastWorkflowTask" in command.group(1)
    for route in ("/history", "/diagram"):
        also = await api.get(f"/cases/{rid}{route}", headers=reader.headers)
        assert (also.status_code, also.json()["reason"]) == (503, "terminated"), route
    event = await api.post(
        f"/cases/{rid}/events/decide",
        json={"decision": "assess", "decided_at": just_now(), "reason": "harm"},
        headers=reader.headers,
    )
    assert event.status_code == 503, event.text
    assert (event.json()["reason"], event.json()["rule"]) == ("terminated", None)
    assert event.json()["idempotency_key"] == event.headers["Idempotency-Key"]

    async def flagged() -> Any:
        cases = (await listing(api, reader, team))["cases"]
        return cases if cases and cases[0]["needs_attention"] else None

    listed = (await eventually("the case flagged in the caseload", flagged))[0]
    assert (listed["referral_id"], listed["run_state"]) == (rid, "terminated")
    assert listed["ended_at"] is not None
    assert "without the pathway closing it" in listed["attention"]
    assert await not_running_metric(metrics_app) == before + 1

    new_run = reset_as_told(temporal, body["operator_action"])

    async def back() -> httpx.Response | None:
        answer = await api.get(f"/cases/{rid}", headers=reader.headers)
        return answer if answer.status_code == 200 else None

    status = (await eventually("the case to answer again", back)).json()
    assert (status["referral_id"], status["stage"]) == (rid, "referral_received")
    assert (await raw_client.get_workflow_handle(wid).describe()).run_id == new_run

    async def unflagged() -> Any:
        cases = (await listing(api, reader, team))["cases"]
        return cases if cases and not cases[0]["needs_attention"] else None

    assert [c["run_state"] for c in await eventually("the flag gone", unflagged)] == ["running"]
    assert await not_running_metric(metrics_app) == before
    decided = await api.post(
        f"/cases/{rid}/events/decide",
        json={"decision": "assess", "decided_at": just_now(), "reason": "harm"},
        headers=reader.headers,
    )
    assert decided.status_code == 200, decided.text


@pytest.mark.e2e
async def test_a_terminated_case_is_reset_as_the_readme_says_and_its_clock_escalates_again(
    api: httpx.AsyncClient,
    users: Users,
    start_case: StartCase,
    temporal: TemporalCli,
) -> None:
    """README "Operations", end to end: the return home interview clock's breach falls due
    12 s after the missing episode is recorded; the case is terminated (the CLI, as the Web
    UI's button does) before it does. Flagged by the API and the caseload; once the breach
    time has passed, `temporal workflow reset` as the API says; the breach fires, the flag
    goes."""
    reader = users.head_of_service
    team = new_team()
    rid = (await start_case(team=team, received_ago=timedelta(days=4)))["referral_id"]
    wid = f"referral-{rid}"
    breach_at = seconds(datetime.now(UTC)) + BREACH_DUE_IN
    returned_at = breach_at - RETURN_INTERVIEW
    episode = {
        "went_missing_at": iso(returned_at - timedelta(hours=3)),
        "returned_at": iso(returned_at),
    }
    recorded = await api.post(
        f"/cases/{rid}/events/record_missing_episode", json=episode, headers=reader.headers
    )
    assert recorded.status_code == 200, recorded.text
    assert breach_pending(recorded.json())
    temporal("workflow", "terminate", "--workflow-id", wid, "--reason", TERMINATED_BY_MISTAKE)

    told = await api.get(f"/cases/{rid}", headers=reader.headers)
    assert told.status_code == 503, told.text
    assert told.json()["reason"] == "terminated"
    assert f"(reason given: {TERMINATED_BY_MISTAKE})" in told.json()["detail"]

    async def flagged() -> Any:
        cases = (await listing(api, reader, team))["cases"]
        return cases if cases and cases[0]["needs_attention"] else None

    await eventually("the case flagged in the caseload", flagged)
    await eventually("the breach to fall due", lambda: _after(breach_at + timedelta(seconds=1)))
    still = await api.get(f"/cases/{rid}", headers=reader.headers)
    assert still.status_code == 503, "nothing brought the case back but the reset"

    reset_as_told(temporal, told.json()["operator_action"])

    async def breached() -> Any:
        answer = await api.get(f"/cases/{rid}", headers=reader.headers)
        if answer.status_code != 200:
            return None
        interview = return_interview(answer.json())
        return interview if interview["state"] == "breached" else None

    interview = await eventually("the breach to fire after the reset", breached, within=30)
    breach = next(s for s in interview["escalations"] if s["step"] == "breach")
    assert breach["status"] == "sent"
    assert datetime.fromisoformat(breach["sent_at"]) > breach_at

    async def unflagged() -> Any:
        cases = (await listing(api, reader, team))["cases"]
        return cases if cases and not cases[0]["needs_attention"] else None

    await eventually("the flag gone", unflagged)


async def _after(moment: datetime) -> bool:
    return datetime.now(UTC) > moment


def return_interview(status: dict[str, Any]) -> dict[str, Any]:
    clocks = [c for c in status["clocks"] if c["name"] == "return_home_interview"]
    assert len(clocks) == 1, status["clocks"]
    clock: dict[str, Any] = clocks[0]
    return clock


def breach_pending(status: dict[str, Any]) -> bool:
    interview = return_interview(status)
    steps: dict[str, str] = {s["step"]: s["status"] for s in interview["escalations"]}
    return bool(interview["state"] == "open" and steps["breach"] == "pending")


async def test_cases_needing_attention_come_first_on_every_page_and_once(
    api: httpx.AsyncClient,
    users: Users,
    start_case: StartCase,
    raw_client: Client,
    temporal: TemporalCli,
) -> None:
    """Three cases out of sight and three alive, paged two at a time: the three first, each
    once, then the rest by next due (visibility read fresh for every page here)."""
    reader = users.head_of_service
    team = new_team()
    alive = [(await start_case(team=team))["referral_id"] for _ in range(3)]
    ended = [(await start_case(team=team))["referral_id"] for _ in range(3)]

    async def all_listed() -> bool:
        return len((await listing(api, reader, team))["cases"]) == 6

    await eventually("the six cases published", all_listed)
    for rid in ended:
        await raw_client.get_workflow_handle(f"referral-{rid}").terminate(TERMINATED_BY_MISTAKE)

    async def all_flagged() -> Any:
        page = await listing(api, reader, team, page_size=50)
        flags = [c["needs_attention"] for c in page["cases"]]
        return page["cases"] if flags == [True] * 3 + [False] * 3 else None

    whole = await eventually("every case listed, the three flagged", all_flagged)
    seen: list[dict[str, Any]] = []
    token = None
    while True:
        params = {"page_size": 2, **({"next_page_token": token} if token else {})}
        page = await listing(api, reader, team, **params)
        seen += page["cases"]
        token = page["next_page_token"]
        if token is None:
            break
    assert [c["referral_id"] for c in seen] == [c["referral_id"] for c in whole]
    assert sorted(c["referral_id"] for c in seen[:3]) == sorted(ended)
    assert sorted(c["referral_id"] for c in seen[3:]) == sorted(alive)

    for rid in ended:  # as the operator would: no other test's caseload shows them first
        told = await api.get(f"/cases/{rid}", headers=reader.headers)
        reset_as_told(temporal, told.json()["operator_action"])


async def test_the_dashboard_lists_a_case_needing_attention_first_in_red(
    app: FastAPI,
    api: httpx.AsyncClient,
    users: Users,
    start_case: StartCase,
    raw_client: Client,
    temporal: TemporalCli,
) -> None:
    reader = users.head_of_service
    team = new_team()
    alive = (await start_case(team=team, received_ago=timedelta(days=10)))["referral_id"]
    ended = (await start_case(team=team))["referral_id"]

    async def both_listed() -> bool:
        return len((await listing(api, reader, team))["cases"]) == 2

    await eventually("both cases published", both_listed)
    await raw_client.get_workflow_handle(f"referral-{ended}").terminate(TERMINATED_BY_MISTAKE)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(
        transport=transport, base_url="http://dash", headers={"Origin": "http://dash"}
    ) as browser:
        login = await browser.get("/dashboard/login")
        csrf = CSRF.search(login.text)
        assert csrf
        form = {"token": reader.token, "csrf_token": csrf.group(1)}
        assert (await browser.post("/dashboard/login", data=form)).status_code == 303

        async def page() -> str | None:
            shown = await browser.get("/dashboard/", params={"team": team})
            assert shown.status_code == 200, shown.text
            text: str = shown.text
            return text if "needs-attention" in text and alive in text else None

        html = await eventually("the caseload page to flag the case", page)
        case_page = await browser.get(f"/dashboard/cases/{ended}")

    rows = re.findall(r'<tr class="([^"]*)">\s*<td><a href="/dashboard/cases/([^"]+)"', html)
    assert rows == [("needs-attention", ended), ("overdue", alive)]
    assert "1 case needs attention" in html
    assert "Needs attention: terminated" in html
    assert case_page.status_code == 503
    assert "temporal workflow reset" in case_page.text
    told = await api.get(f"/cases/{ended}", headers=reader.headers)
    reset_as_told(temporal, told.json()["operator_action"])


async def test_a_case_terminated_as_soon_as_it_started_is_still_a_case_out_of_sight(
    api: httpx.AsyncClient,
    users: Users,
    start_case: StartCase,
    raw_client: Client,
    temporal: TemporalCli,
) -> None:
    """Terminated before its first answer published its team: not "its start was refused"."""
    rid = (await start_case(team=new_team()))["referral_id"]
    await raw_client.get_workflow_handle(f"referral-{rid}").terminate(TERMINATED_BY_MISTAKE)

    told = await api.get(f"/cases/{rid}", headers=users.head_of_service.headers)
    other_team = await api.get(f"/cases/{rid}", headers=users.social_worker_a.headers)

    assert (told.status_code, told.json()["reason"]) == (503, "terminated"), told.text
    assert other_team.status_code == 403, other_team.text
    reset_as_told(temporal, told.json()["operator_action"])


async def test_the_panel_counts_a_case_out_of_sight_and_reads_a_closed_one_past_a_refusal(
    api: httpx.AsyncClient,
    users: Users,
    start_case: StartCase,
    raw_client: Client,
    api_settings: Settings,
    temporal: TemporalCli,
) -> None:
    """Its listing names the case out of sight (no query of open runs finds it); reading
    counts it, not its stale status. A closed case whose referral id a raw client started
    again (refused) is read from the case's own run, not the refusal."""
    team = new_team()
    ended = (await start_case(team=team))["referral_id"]
    closed = await start_case(team=team)
    answer = await api.post(
        f"/cases/{closed['referral_id']}/events/close",
        json={"reason": "moved out of the area", "closed_at": just_now()},
        headers=users.head_of_service.headers,
    )
    assert answer.status_code == 200, answer.text
    stray = await raw_client.start_workflow(
        "ReferralWorkflow",
        closed,
        id=f"referral-{closed['referral_id']}",
        task_queue=api_settings.task_queue,
    )
    await refused(raw_client, stray.id, stray.result_run_id or "")
    await eventually("the case published", lambda: _published(api, users, team, ended))
    await raw_client.get_workflow_handle(f"referral-{ended}").terminate(TERMINATED_BY_MISTAKE)
    panel = PanelCases(raw_client, api_settings.task_queue)

    async def listed() -> Any:
        found = await ActivityEnvironment().run(
            panel.list_panel_cases, ListingRequest(as_of=datetime.now(UTC))
        )
        return found if f"referral-{ended}" in found.not_running else None

    listing_ = await eventually("the panel to list the case out of sight", listed)
    assert f"referral-{ended}" in listing_.every_case
    ids = [f"referral-{ended}", f"referral-{closed['referral_id']}"]
    read = await ActivityEnvironment().run(panel.read_panel_cases, ReadRequest(workflow_ids=ids))

    assert isinstance(read, ReadCases)
    assert (read.not_running, read.unreadable) == (1, 0)
    assert [(c.referral_id, c.stage.value) for c in read.cases] == [
        (closed["referral_id"], "closed")
    ]
    told = await api.get(f"/cases/{ended}", headers=users.head_of_service.headers)
    reset_as_told(temporal, told.json()["operator_action"])


async def test_the_panel_documents_count_cases_out_of_sight() -> None:
    request = BuildRequest(
        panel_name="MACE",
        as_of=AT,
        agenda_candidates=[],
        read=ReadCases(cases=[], not_running=2),
    )
    built = await ActivityEnvironment().run(build_panel_documents, request)

    for document in ("agenda", "report"):
        page = built.files["agenda.html" if document == "agenda" else "oversight.html"]
        assert f"2 case(s) need attention and are missing from this {document}" in page
    assert json.loads(built.files["oversight.json"])["cases_not_running"] == 2


async def _published(api: httpx.AsyncClient, users: Users, team: str, rid: str) -> bool:
    cases = (await listing(api, users.head_of_service, team))["cases"]
    return rid in [c["referral_id"] for c in cases]
