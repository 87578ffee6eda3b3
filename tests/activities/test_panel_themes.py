"""The themes the panel looks for (docs/rules.md, The MASE panel) through its activities: the read
activity takes each case's latest screening and its strategy discussions' missing agencies
from the status query, the build activity counts them, and the facts a panel run recorded
before them still build."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from google.protobuf import json_format
from temporalio.api.common.v1 import Payload
from temporalio.testing import ActivityEnvironment, WorkflowEnvironment

from activities.mase import PanelCases, build_panel_documents
from contract.activities import BuildRequest, ReadCases, ReadRequest
from domain.events import RecordScreening, RecordStrategyDiscussion
from domain.oversight import CaseFacts, Oversight
from domain.roles import Role
from domain.vocabulary import CseModel, Indicator
from edge.converter import data_converter
from tests.conftest import Outbox, running_worker
from tests.domain.builders import (
    complete_assessment,
    decide,
    open_case,
    record,
    refer_to_mase,
    strategy_discussion,
)
from tests.workflows.helpers import now, start
from tests.workflows.scenarios import HISTORIES

AS_OF = datetime(2026, 9, 8, 8, 0, tzinfo=UTC)
PUSH_PULL = "a new phone from an adult"


def screened(at: datetime, *models: CseModel) -> RecordScreening:
    return RecordScreening(
        score=2,
        indicators=[Indicator.running_away, Indicator.use_of_technology],
        cse_models=list(models),
        push_pull_factors=[PUSH_PULL],
        professional_concern="medium",
        screened_at=at,
        actor="sw-7",
    )


async def test_the_read_activity_carries_each_cases_themes_from_its_status(
    env: WorkflowEnvironment, task_queue: str
) -> None:
    async with running_worker(env.client, task_queue, Outbox()):
        case = await start(env, task_queue, significant_harm_suspected=True)
        t = await now(env)
        await case.execute_update("decide", decide("strategy_discussion", at=t))
        await case.execute_update("record_screening", screened(t, CseModel.online))
        held = RecordStrategyDiscussion(
            held_at=t, chair_role=Role.team_manager, agencies=["police"], outcome="s47", actor="tm"
        )
        await case.execute_update("record_strategy_discussion", held)
        cases = PanelCases(env.client, task_queue)
        read = await ActivityEnvironment().run(
            cases.read_panel_cases, ReadRequest(workflow_ids=[case.id])
        )

    [facts] = read.cases
    assert facts.latest_cse_models == [CseModel.online]
    assert facts.latest_indicators == [Indicator.running_away, Indicator.use_of_technology]
    assert [d.missing_agencies for d in facts.strategy_discussions] == [["health"]]
    assert PUSH_PULL not in facts.model_dump_json()


def facts_of(referral_id: str, *events: Any) -> CaseFacts:
    case = open_case(referral_id=referral_id, team=f"TEAM-{referral_id}")
    record(case, *events)
    return CaseFacts.from_status(case.status())


async def test_the_built_documents_count_the_themes_and_the_missing_agencies() -> None:
    at = datetime(2026, 9, 2, 9, tzinfo=UTC)
    without_health = strategy_discussion().model_copy(update={"agencies": ["police"]})
    cases = [
        facts_of(
            "R-REFERRED",
            decide("assess"),
            screened(at, CseModel.county_lines),
            complete_assessment(),
            without_health,
            refer_to_mase(),
        ),
        facts_of("R-WAITING", decide("assess"), screened(at, CseModel.online)),
    ]
    request = BuildRequest(
        panel_name="MASE",
        as_of=AS_OF,
        agenda_candidates=["referral-R-REFERRED", "referral-R-WAITING"],
        read=ReadCases(cases=cases),
    )
    built = await ActivityEnvironment().run(build_panel_documents, request)

    report = Oversight.model_validate_json(built.files["oversight.json"])
    assert report.open_by_cse_model[CseModel.county_lines] == 1
    assert report.open_by_cse_model[CseModel.online] == 1
    assert report.open_by_indicator[Indicator.running_away] == 2
    without = {a.agency: a.this_month for a in report.strategy_discussions.without}
    assert without == {"police": 0, "health": 1}
    assert "Themes of these cases" in built.files["agenda.html"]
    everything = "".join(built.files.values())
    assert PUSH_PULL not in everything
    report_text = built.files["oversight.html"] + built.files["oversight.json"]
    assert "R-REFERRED" not in report_text  # and so not its team, TEAM-R-REFERRED


def recorded_build_request(history: str) -> BuildRequest:
    """The build activity's input, as an older panel run kept it in its history."""
    events = json.loads((HISTORIES / history).read_text())["events"]
    [scheduled] = [
        e["activityTaskScheduledEventAttributes"]
        for e in events
        if e.get("activityTaskScheduledEventAttributes", {}).get("activityType", {}).get("name")
        == "build_panel_documents"
    ]
    [payload] = scheduled["input"]["payloads"]
    proto = json_format.ParseDict(payload, Payload())
    [request] = data_converter.payload_converter.from_payloads([proto], [BuildRequest])
    assert isinstance(request, BuildRequest)
    return request


async def test_facts_an_older_panel_run_recorded_still_build_with_no_themes() -> None:
    request = recorded_build_request("mase-v2-agenda_and_report.json")
    assert request.read.cases, "the recorded run read cases"
    assert all(c.latest_cse_models == [] for c in request.read.cases)
    built = await ActivityEnvironment().run(build_panel_documents, request)
    report = Oversight.model_validate_json(built.files["oversight.json"])
    assert set(report.open_by_cse_model.values()) == {0}
    assert report.strategy_discussions.held_last_12_months == 0
    assert report.open_cases == len([c for c in request.read.cases if c.is_open])
    assert built.referred + built.not_referred > 0
