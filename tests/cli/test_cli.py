"""The supervisors' console scripts (`cases`, `case`, `forecast`, `cse`), run as subprocesses
against a REAL Temporal dev server and the project's worker (tests/e2e/conftest.py); cases are
started and moved on with the official temporal CLI (plain JSON)."""

from __future__ import annotations

import json
import subprocess
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.e2e.conftest import (  # noqa: F401  # fixtures, registered by being imported here
    BIN,
    CLI_TIMEOUT,
    REPO,
    VISIBILITY_TIMEOUT,
    RunningWorker,
    TemporalCli,
    clean_env,
    free_ports,
    iso,
    make_referral,
    seconds,
    service_worker,
    temporal,
    temporal_server,
    wait_until,
)

pytestmark = [pytest.mark.e2e, pytest.mark.slow]  # the cse command as a process per test

Run = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture(scope="session")
def run(service_worker: RunningWorker) -> Run:  # noqa: F811  # the imported fixture
    """`run("cases", "--json")`: a console script against the test server, from /tmp."""

    def command(script: str, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
        path = BIN / script
        assert path.exists(), f"no console script {path}: run `pip install -e '.[dev]'`"
        settings = {
            "TEMPORAL_ADDRESS": service_worker.address,
            "CSE_TASK_QUEUE": service_worker.task_queue,
            "CSE_POLICY_DIR": str(REPO / "policies"),
        }
        return subprocess.run(
            [str(path), *args],
            capture_output=True,
            text=True,
            timeout=CLI_TIMEOUT,
            env=clean_env(**(settings | env)),
            cwd="/tmp",
            check=False,
        )

    return command


def as_json(proc: subprocess.CompletedProcess[str]) -> Any:
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


@pytest.fixture(scope="module")
def team_cases(
    temporal: TemporalCli,  # noqa: F811  # the imported fixture
    service_worker: RunningWorker,  # noqa: F811  # the imported fixture
    run: Run,
) -> tuple[str, str, str]:
    """A team of its own: one case received 10 days ago (overdue at once), one received an
    hour ago with significant harm suspected, decided for assessment and screened 2."""
    team = f"CLI-{uuid.uuid4().hex[:8]}"
    now = datetime.now(UTC)
    late = referral(team, received=now - timedelta(days=10), harm=False)
    fresh = referral(team, received=now - timedelta(hours=1), harm=True)
    for case in (late, fresh):
        temporal.start(service_worker.task_queue, case)
    workflow_id = f"referral-{fresh['referral_id']}"
    moment = iso(seconds(now - timedelta(minutes=5)))
    temporal.update(
        workflow_id, "decide", {"decision": "assess", "decided_at": moment, "actor": "sw-cli"}
    )
    screening = {"score": 2, "professional_concern": "medium", "screened_at": moment}
    temporal.update(workflow_id, "record_screening", screening | {"actor": "sw-cli"})

    def listed() -> bool:
        found = as_json(run("cases", "--team", team, "--json"))
        return {c["stage"] for c in found} == {"referral_received", "assessment"}

    wait_until("both cases in visibility", listed, VISIBILITY_TIMEOUT)
    return team, late["referral_id"], fresh["referral_id"]


def referral(team: str, received: datetime, harm: bool) -> dict[str, Any]:
    return {
        "referral_id": f"CLI-{uuid.uuid4().hex[:12]}",
        "received_at": iso(seconds(received)),
        "child_ref": f"PERSON-{uuid.uuid4().hex[:6]}",
        "team": team,
        "referrer_agency": "police",
        "concerns": ["running_away"],
        "significant_harm_suspected": harm,
        "summary": "command-line test referral",
    }


def test_cases_overdue_in_a_team(run: Run, team_cases: tuple[str, str, str]) -> None:
    team, late, fresh = team_cases

    overdue = as_json(run("cases", "--overdue", "--team", team, "--json"))
    on_time = as_json(run("cases", "--no-overdue", "--team", team, "--json"))

    assert [c["referral_id"] for c in overdue] == [late]
    assert overdue[0]["overdue"] is True
    assert [c["referral_id"] for c in on_time] == [fresh]
    assert "child_ref" not in json.dumps(overdue + on_time)


def test_cases_by_stage_and_score_soonest_due_first(
    run: Run, team_cases: tuple[str, str, str]
) -> None:
    team, late, fresh = team_cases

    everything = as_json(run("cases", "--team", team, "--json"))
    scored = as_json(
        run("cases", "--team", team, "--stage", "assessment", "--score", "2", "--json")
    )
    none = as_json(run("cases", "--team", team, "--score", "0", "--json"))

    assert [c["referral_id"] for c in everything] == [late, fresh]
    assert [c["referral_id"] for c in scored] == [fresh]
    assert scored[0]["risk_score"] == 2
    assert none == []


def test_cases_as_a_table_marks_the_overdue_case(
    run: Run, team_cases: tuple[str, str, str]
) -> None:
    team, late, fresh = team_cases

    proc = run("cases", "--team", team)

    assert proc.returncode == 0, proc.stderr
    assert "2 cases, soonest due first" in proc.stdout
    late_line = next(line for line in proc.stdout.splitlines() if late in line)
    assert "OVERDUE" in late_line
    assert "on time" in next(line for line in proc.stdout.splitlines() if fresh in line)


def test_cse_has_the_same_commands(run: Run, team_cases: tuple[str, str, str]) -> None:
    team, late, _ = team_cases

    found = as_json(run("cse", "cases", "--overdue", "--team", team, "--json"))

    assert [c["referral_id"] for c in found] == [late]


def test_case_shows_stage_clocks_and_timeline(run: Run, team_cases: tuple[str, str, str]) -> None:
    _, _, fresh = team_cases

    status = as_json(run("case", fresh, "--json"))
    table = run("case", fresh)

    assert status["referral_id"] == fresh
    assert status["stage"] == "assessment"
    assert [h["event"] for h in status["history"]] == ["decide", "record_screening"]
    assert {c["name"] for c in status["clocks"]} >= {"referral_decision", "assessment"}
    assert table.returncode == 0, table.stderr
    assert f"Case {fresh}" in table.stdout
    assert "strategy_discussion" in table.stdout
    assert "reminder" in table.stdout  # the ladder steps
    assert "record_screening" in table.stdout


def test_case_of_an_unknown_referral_exits_1(run: Run) -> None:
    proc = run("case", "NO-SUCH-REFERRAL")

    assert proc.returncode == 1
    assert "no case has referral id NO-SUCH-REFERRAL" in proc.stderr


def test_forecast_lists_running_clocks_due_within_n_working_days(
    run: Run, team_cases: tuple[str, str, str]
) -> None:
    team, late, fresh = team_cases

    forecast = as_json(run("forecast", "--working-days", "5", "--team", team, "--json"))
    table = run("forecast", "--working-days", "5", "--team", team)

    assert forecast["working_days"] == 5
    due = [(c["referral_id"], c["clock"]) for c in forecast["clocks"]]
    assert (fresh, "strategy_discussion") in due
    assert late not in {referral_id for referral_id, _ in due}  # its clocks have breached
    assert table.returncode == 0, table.stderr
    assert fresh in table.stdout


@pytest.mark.parametrize(
    "args",
    [
        ("cases", "--score", "7"),
        ("cases", "--stage", "nowhere"),
        ("cases", "--team", " "),
        ("case", "not an id!"),
        ("case",),
        ("forecast", "--working-days", "0"),
        ("cse", "fly"),
    ],
)
def test_bad_usage_exits_2_naming_the_argument(run: Run, args: tuple[str, ...]) -> None:
    proc = run(*args)

    assert proc.returncode == 2
    assert "error:" in proc.stderr


def test_bad_settings_exit_2(run: Run) -> None:
    proc = run("forecast", CSE_POLICY_DIR="/nonexistent/policies")

    assert proc.returncode == 2
    assert "CSE_POLICY_DIR" in proc.stderr


def test_a_temporal_that_does_not_answer_exits_3(run: Run) -> None:
    (port,) = free_ports(1)

    proc = run("cases", TEMPORAL_ADDRESS=f"127.0.0.1:{port}")

    assert proc.returncode == 3
    assert f"Temporal at 127.0.0.1:{port} did not answer" in proc.stderr
