"""The panel's activities in Temporal's ActivityEnvironment: reading cases (against the
time-skipping server), building the documents, and naming their links for runs from before
the documents stayed in the run's history."""

from __future__ import annotations

import csv
import io
import json
import os
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from temporalio import workflow
from temporalio.client import Client
from temporalio.testing import ActivityEnvironment, WorkflowEnvironment
from temporalio.worker import UnsandboxedWorkflowRunner, Worker

from activities.mase import (
    PanelCases,
    build_panel_documents,
    link_panel_documents,
    visibility_queries,
)
from contract.activities import BuildRequest, PanelDocuments, ReadCases, ReadRequest
from domain.events import RecordScreening
from domain.oversight import CaseFacts, Oversight
from domain.vocabulary import Stage
from edge.codec import CodecKeys, new_key_item
from edge.converter import sealed_data_converter
from tests.conftest import STARTED, Outbox, running_worker, start_test_server
from tests.domain.builders import (
    CHILD_REF,
    SUMMARY,
    complete_assessment,
    decide,
    open_case,
    record,
    refer_to_mase,
    screening,
    strategy_discussion,
)
from tests.workflows.helpers import now, referral, start
from tests.workflows.updates import act
from workflows.referral import ReferralWorkflow

AS_OF = datetime(2026, 9, 1, 8, 0, tzinfo=UTC)  # 09:00 in London, the first Tuesday


def facts_of(referral_id: str, *events: Any) -> CaseFacts:
    case = open_case(referral_id=referral_id, team=f"TEAM-{referral_id}")
    record(case, *events)
    return CaseFacts.from_status(case.status())


def a_month_of_cases() -> list[CaseFacts]:
    discussed = [decide("assess"), screening(2), complete_assessment(), strategy_discussion()]
    return [
        facts_of("R-REFERRED", *discussed, refer_to_mase()),
        facts_of("R-WAITING", decide("assess"), screening(3)),
        facts_of("R-LAGGING", *discussed, refer_to_mase()),  # not yet in visibility's (a)
        facts_of("R-ZERO", decide("assess"), screening(0)),
        facts_of("R-CLOSED", decide("nfa")),
    ]


def build_request(panel_name: str = "MACE", unreadable: int = 0) -> BuildRequest:
    return BuildRequest(
        panel_name=panel_name,
        as_of=AS_OF,
        agenda_candidates=["referral-R-REFERRED", "referral-R-WAITING", "referral-R-CLOSED"],
        read=ReadCases(cases=a_month_of_cases(), unreadable=unreadable),
    )


# ---- building the documents ---------------------------------------------------------------


async def test_the_documents_list_the_agenda_and_the_aggregates() -> None:
    built = await ActivityEnvironment().run(build_panel_documents, build_request())
    assert isinstance(built, PanelDocuments)
    assert built.run_date == date(2026, 9, 1)
    assert sorted(built.files) == ["agenda.csv", "agenda.html", "oversight.html", "oversight.json"]
    assert (built.referred, built.not_referred) == (1, 1)

    rows = list(csv.DictReader(io.StringIO(built.files["agenda.csv"])))
    assert [(r["section"], r["referral_id"], r["team"]) for r in rows] == [
        ("referred", "R-REFERRED", "TEAM-R-REFERRED"),
        ("not_referred", "R-WAITING", "TEAM-R-WAITING"),
    ]
    assert rows[1]["why_not_referred"] == (
        "a case referred to MASE must have had a strategy discussion"
    )
    agenda = built.files["agenda.html"]
    assert "MACE panel agenda: Tuesday 01 September 2026" in agenda
    assert "Cases referred to MACE (1)" in agenda
    assert "R-LAGGING" not in agenda  # the agenda is what visibility found, confirmed by status

    report = Oversight.model_validate_json(built.files["oversight.json"])
    assert report.cases_covered == 5
    assert report.open_cases == 4
    assert report.open_by_score == {"0": 1, "1": 0, "2": 2, "3": 1, "unscored": 0}
    assert "MACE oversight report: September 2026" in built.files["oversight.html"]


async def test_no_child_detail_and_no_referral_id_reaches_the_report() -> None:
    built = await ActivityEnvironment().run(build_panel_documents, build_request())
    everything = "".join(built.files.values())
    assert CHILD_REF not in everything
    assert SUMMARY not in everything
    report = built.files["oversight.html"] + built.files["oversight.json"]
    for case in a_month_of_cases():
        assert case.referral_id not in report
        assert case.team not in report


async def test_cases_that_could_not_be_read_are_flagged_on_both_documents() -> None:
    built = await ActivityEnvironment().run(build_panel_documents, build_request(unreadable=2))
    assert "2 case(s) could not be read" in built.files["agenda.html"]
    assert json.loads(built.files["oversight.json"])["cases_unreadable"] == 2


# ---- their links, for runs started before the documents stayed in the run --------------------


async def test_an_older_run_is_given_its_links_and_nothing_is_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    built = await ActivityEnvironment().run(build_panel_documents, build_request())
    stored = await ActivityEnvironment().run(link_panel_documents, built)
    assert stored.links == {
        name: f"/reports/2026-09-01/{name}"
        for name in ("agenda.html", "agenda.csv", "oversight.html", "oversight.json")
    }
    assert stored.folder == ""
    assert os.listdir(tmp_path) == []  # no document on the worker's disk


# ---- finding and reading cases --------------------------------------------------------------


def test_the_visibility_queries_are_scoped_to_the_task_queue() -> None:
    since = datetime(2025, 10, 1, tzinfo=UTC)
    queries = visibility_queries("cse-referrals", since)
    ours = "WorkflowType = 'ReferralWorkflow' AND TaskQueue = 'cse-referrals'"
    assert queries["referred"] == (
        f"{ours} AND CseMaseReferred = true AND ExecutionStatus = 'Running'"
    )
    assert queries["not_referred"] == (
        f"{ours} AND CseRiskScore >= 1 AND CseRiskScore <= 3 AND CseMaseReferred = false "
        "AND ExecutionStatus = 'Running'"
    )
    assert queries["reported"] == (
        f"{ours} AND (ExecutionStatus = 'Running' OR (ExecutionStatus = 'Completed' "
        "AND CloseTime >= '2025-10-01T00:00:00Z'))"
    )
    assert "TaskQueue = 'o\\'brien'" in visibility_queries("o'brien", since)["referred"]


@workflow.defn(name="NotACase")
class NotACase:
    """A workflow that cannot answer the status query."""

    @workflow.run
    async def run(self) -> None:
        await workflow.wait_condition(lambda: False)


@pytest.fixture
async def not_a_case(env: WorkflowEnvironment) -> AsyncIterator[str]:
    queue = f"not-a-case-{uuid.uuid4()}"
    runner = UnsandboxedWorkflowRunner()  # it waits and does nothing else
    async with Worker(env.client, task_queue=queue, workflows=[NotACase], workflow_runner=runner):
        handle = await env.client.start_workflow(
            NotACase.run, id=f"referral-BROKEN-{uuid.uuid4().hex[:8]}", task_queue=queue
        )
        yield handle.id
        await handle.terminate("test finished")


async def test_each_case_is_read_through_its_status_query(
    env: WorkflowEnvironment, task_queue: str, not_a_case: str
) -> None:
    async with running_worker(env.client, task_queue, Outbox()):
        first = await start(env, task_queue, team="TEAM-READ")
        second = await start(env, task_queue)
        t = await now(env)
        await act(second, ReferralWorkflow.decide, decide("assess", at=t))
        screened = RecordScreening(
            score=2, professional_concern="medium", screened_at=t, actor="sw-7"
        )
        await act(second, ReferralWorkflow.record_screening, screened)
        cases = PanelCases(env.client, task_queue)
        ids = [first.id, second.id, "referral-NEVER-STARTED", not_a_case]
        read = await ActivityEnvironment().run(
            cases.read_panel_cases, ReadRequest(workflow_ids=ids)
        )

    assert isinstance(read, ReadCases)
    assert read.unreadable == 1
    by_id = {f"referral-{c.referral_id}": c for c in read.cases}
    assert sorted(by_id) == sorted([first.id, second.id])
    assert by_id[first.id].team == "TEAM-READ"
    assert by_id[first.id].stage == Stage.referral_received
    assert (by_id[second.id].stage, by_id[second.id].risk_score) == (Stage.assessment, 2)
    assert by_id[second.id].mase_blocker is not None
    received = by_id[second.id].received_at
    assert received is not None
    assert abs(received - t) < timedelta(minutes=5)


@pytest.fixture
async def own_env() -> AsyncIterator[WorkflowEnvironment]:
    """A time-skipping server for this test alone: a workflow task failing over and over
    leaves the server unable to skip time for the tests after it, even once terminated."""
    async with await start_test_server() as environment:
        yield environment


async def test_a_stuck_case_is_counted_and_the_panel_reads_the_rest(
    own_env: WorkflowEnvironment, task_queue: str
) -> None:
    """A case whose workflow tasks fail (here: sealed with a key the worker does not hold)
    answers no query; the panel counts it as unreadable instead of failing its run."""
    env = own_env
    foreign = sealed_data_converter(CodecKeys.parse(new_key_item("lost-key")))
    stranger = Client(env.client.service_client, namespace="default", data_converter=foreign)
    async with running_worker(env.client, task_queue, Outbox()):
        readable = await start(env, task_queue)
        case = referral(await now(env))
        stuck = await stranger.start_workflow(
            "ReferralWorkflow", case, id=case.workflow_id, task_queue=task_queue
        )
        STARTED.append(stuck)
        cases = PanelCases(env.client, task_queue, query_timeout=timedelta(seconds=2))
        read = await ActivityEnvironment().run(
            cases.read_panel_cases, ReadRequest(workflow_ids=[readable.id, stuck.id])
        )
    assert read.unreadable == 1
    assert [f"referral-{c.referral_id}" for c in read.cases] == [readable.id]
