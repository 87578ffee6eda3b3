"""One case driven from referral to closed with the official `temporal` CLI alone, JSON only
(docs/rules.md, Events): no project code on the client side, exactly as an intake system or a
supervisor's script would do it.

Times are relative to now (received two hours ago, events in the minutes after), so the
clocks are genuinely open: a referral dated beyond its deadlines is shown as breached at once.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import pytest

from tests.e2e.conftest import (
    RunningWorker,
    TemporalCli,
    independent_working_day_due,
    instant,
    iso,
    search_attributes,
)

pytestmark = pytest.mark.e2e

ACTOR = "sw-e2e-7"


def clock(status: dict[str, Any], name: str) -> dict[str, Any]:
    """The one entry for a clock that has opened exactly once so far."""
    entries: list[dict[str, Any]] = [c for c in status["clocks"] if c["name"] == name]
    assert len(entries) == 1, f"{name}: {entries}"
    return entries[0]


def test_the_cli_drives_a_case_from_referral_to_closed(
    temporal: TemporalCli,
    service_worker: RunningWorker,
    make_referral: Callable[..., dict[str, Any]],
) -> None:
    referral = make_referral()
    wid = f"referral-{referral['referral_id']}"
    received = instant(referral["received_at"])

    def at(minutes: int) -> str:
        return iso(received + timedelta(minutes=minutes))

    started = temporal.start(service_worker.task_queue, referral)
    assert started["workflowId"] == wid
    assert started["type"] == "ReferralWorkflow"

    # -- received: the decision and (harm suspected) strategy discussion clocks are open --------
    status = temporal.status(wid)
    assert status["referral_id"] == referral["referral_id"]
    assert status["stage"] == "referral_received"
    decision = clock(status, "referral_decision")
    assert decision["state"] == "open"
    assert instant(decision["due_at"]) == independent_working_day_due(received, 1)
    assert instant(decision["opened_at"]) == received
    strategy = clock(status, "strategy_discussion")
    assert strategy["state"] == "open"
    assert instant(strategy["due_at"]) == independent_working_day_due(received, 3)
    assert status["overdue"] is False

    # -- decide: assess ------------------------------------------------------------------------
    status = temporal.update(
        wid,
        "decide",
        {"decision": "assess", "decided_at": at(10), "reason": "harm suspected", "actor": ACTOR},
    )
    assert status["stage"] == "assessment"
    decision = clock(status, "referral_decision")
    assert decision["state"] == "met"
    assert instant(decision["stopped_at"]) == received + timedelta(minutes=10)
    assert clock(status, "assessment")["state"] == "open"
    assert [(h["event"], h["actor"]) for h in status["history"]] == [("decide", ACTOR)]
    assert temporal.status(wid)["stage"] == "assessment"

    # -- refused: complete_assessment before a screening (rule: screening_required) ------------
    refused = temporal.refused_update(
        wid,
        "complete_assessment",
        {"outcome": "nfa", "rationale": "", "completed_at": at(15), "actor": ACTOR},
    )
    output = refused.stdout + refused.stderr
    assert "needs a CSE risk screening recorded first" in output
    assert "RuleBroken" in output
    after_refusal = temporal.status(wid)
    assert after_refusal["stage"] == "assessment"
    assert len(after_refusal["history"]) == 1
    assert after_refusal["risk_score"] is None

    # -- screening -----------------------------------------------------------------------------
    status = temporal.update(
        wid,
        "record_screening",
        {
            "score": 1,
            "indicators": ["sexual_health", "use_of_technology"],
            "cse_models": ["online"],
            "professional_concern": "medium",
            "complex": False,
            "screened_at": at(20),
            "actor": ACTOR,
        },
    )
    assert status["stage"] == "assessment"
    assert status["risk_score"] == 1
    assert temporal.status(wid)["stage"] == "assessment"

    # -- visible to supervisors while open: by stage, team and score, no child identifiers ------
    entry = temporal.wait_listed(
        f"CseStage = 'assessment' AND CseTeam = '{referral['team']}' AND CseRiskScore = 1",
        wid,
    )
    attributes = search_attributes(entry)
    assert attributes["CseStage"] == "assessment"
    assert attributes["CseTeam"] == referral["team"]
    assert attributes["CseOverdue"] is False
    assert instant(attributes["CseNextDue"]) == independent_working_day_due(received, 3)
    assert referral["child_ref"] not in json.dumps(attributes)

    # -- assessment completed: strategy discussion -----------------------------------------------
    status = temporal.update(
        wid,
        "complete_assessment",
        {
            "outcome": "strategy_discussion",
            "rationale": "score 1 with online contact",
            "completed_at": at(30),
            "actor": ACTOR,
        },
    )
    assert status["stage"] == "strategy_discussion"
    assert clock(status, "assessment")["state"] == "met"
    assert temporal.status(wid)["stage"] == "strategy_discussion"

    # -- strategy discussion: section 47 -------------------------------------------------------
    status = temporal.update(
        wid,
        "record_strategy_discussion",
        {
            "held_at": at(40),
            "chair_role": "team_manager",
            "agencies": ["police", "health", "education"],
            "outcome": "s47",
            "cris_number": "CRIS-E2E-1",
            "actor": "tm-e2e-1",
        },
    )
    assert status["stage"] == "s47_enquiry"
    assert clock(status, "strategy_discussion")["state"] == "met"
    assert temporal.status(wid)["stage"] == "s47_enquiry"

    # -- s47 concluded: risk of harm -> safety plan ----------------------------------------------
    status = temporal.update(
        wid,
        "conclude_s47",
        {"outcome": "risk_of_harm", "concluded_at": at(50), "actor": ACTOR},
    )
    assert status["stage"] == "safety_plan"
    assert clock(status, "safety_plan")["state"] == "open"
    assert temporal.status(wid)["stage"] == "safety_plan"

    # -- safety plan agreed -> review ------------------------------------------------------------
    status = temporal.update(wid, "record_safety_plan", {"agreed_at": at(60), "actor": ACTOR})
    assert status["stage"] == "review"
    assert clock(status, "safety_plan")["state"] == "met"
    assert clock(status, "risk_review")["state"] == "open"
    assert temporal.status(wid)["stage"] == "review"

    # -- review scores 0 -> closed ---------------------------------------------------------------
    status = temporal.update(
        wid,
        "record_review",
        {"score": 0, "professional_concern": "low", "reviewed_at": at(70), "actor": ACTOR},
    )
    assert status["stage"] == "closed"
    assert status["risk_score"] == 0
    assert status["closed_reason"] == "risk reduced: review scored 0"
    assert not [c for c in status["clocks"] if c["state"] == "open"]
    assert clock(status, "risk_review")["state"] == "met"
    assert [h["event"] for h in status["history"]] == [
        "decide",
        "record_screening",
        "complete_assessment",
        "record_strategy_discussion",
        "conclude_s47",
        "record_safety_plan",
        "record_review",
    ]

    # -- the workflow completes, and supervisors find the case among the closed ones --------------
    temporal.wait_status(wid, "COMPLETED", timeout=15)
    entry = temporal.wait_listed(f"CseStage = 'closed' AND CseTeam = '{referral['team']}'", wid)
    attributes = search_attributes(entry)
    assert attributes["CseStage"] == "closed"
    assert attributes["CseRiskScore"] == 0
    assert "CseNextDue" not in attributes  # nothing is due on a closed case
    assert temporal.list(f"CseStage = 'assessment' AND CseTeam = '{referral['team']}'") == []
    assert temporal.status(wid)["stage"] == "closed"  # still answers once closed


def started_and_assessed(
    temporal: TemporalCli, task_queue: str, referral: dict[str, Any]
) -> tuple[str, datetime, dict[str, Any]]:
    """Start the case with the CLI and decide at once to assess it: its workflow id, the
    referral's received time and the CLI's answer to the start."""
    wid = f"referral-{referral['referral_id']}"
    received = instant(referral["received_at"])
    started = temporal.start(task_queue, referral)
    temporal.update(
        wid,
        "decide",
        {"decision": "assess", "decided_at": iso(received), "reason": "", "actor": ACTOR},
    )
    return wid, received, started


def test_refused_updates_name_the_problem_and_change_nothing(
    temporal: TemporalCli,
    service_worker: RunningWorker,
    make_referral: Callable[..., dict[str, Any]],
) -> None:
    referral = make_referral()
    wid, received, _ = started_and_assessed(temporal, service_worker.task_queue, referral)
    before = temporal.settled(wid)
    status_before = temporal.status(wid)

    # in the future beyond the clock skew
    refused = temporal.refused_update(
        wid,
        "record_screening",
        {
            "score": 2,
            "professional_concern": "high",
            "screened_at": iso(received + timedelta(days=3)),
            "actor": ACTOR,
        },
    )
    assert "is in the future" in refused.stderr
    assert "InvalidEventTime" in refused.stderr

    # before the referral was received
    refused = temporal.refused_update(
        wid,
        "record_screening",
        {
            "score": 2,
            "professional_concern": "high",
            "screened_at": iso(received - timedelta(minutes=1)),
            "actor": ACTOR,
        },
    )
    assert "before the referral was received" in refused.stderr

    # a payload that is not the contract's: each bad field named
    refused = temporal.refused_update(wid, "decide", {"decision": "maybe", "actor": ACTOR})
    assert "InvalidInput" in refused.stderr
    assert "decision: Input should be 'assess', 'nfa' or 'strategy_discussion'" in refused.stderr
    assert "decided_at: Field required" in refused.stderr

    # an event that does not apply in the stage
    refused = temporal.refused_update(
        wid,
        "record_safety_plan",
        {"agreed_at": iso(received + timedelta(minutes=5)), "actor": ACTOR},
    )
    assert "record_safety_plan is not allowed while the case is in stage assessment" in (
        refused.stderr
    )

    after = temporal.settled(wid)
    assert temporal.status(wid) == status_before
    assert (
        after["workflowExecutionInfo"]["historyLength"]
        == before["workflowExecutionInfo"]["historyLength"]
    )


def test_a_second_start_with_the_same_workflow_id_is_refused(
    temporal: TemporalCli,
    service_worker: RunningWorker,
    make_referral: Callable[..., dict[str, Any]],
) -> None:
    referral = make_referral()
    wid, received, first = started_and_assessed(temporal, service_worker.task_queue, referral)
    before = temporal.settled(wid)
    status_before = temporal.status(wid)
    again = make_referral(
        referral_id=referral["referral_id"], team="E2E-OTHER", significant_harm_suspected=False
    )

    # While the case is open: refused (`--fail-existing`, the conflict policy Fail).
    refused = temporal.refused_start(service_worker.task_queue, again, "--fail-existing")
    assert "already" in refused.stderr.lower()

    after = temporal.settled(wid)
    assert after["workflowExecutionInfo"]["execution"]["runId"] == first["runId"]
    assert (
        after["workflowExecutionInfo"]["historyLength"]
        == before["workflowExecutionInfo"]["historyLength"]
    )
    assert temporal.status(wid) == status_before
    assert temporal.status(wid)["team"] == referral["team"]

    # Once closed: refused too (`--id-reuse-policy RejectDuplicate --fail-existing`).
    temporal.update(
        wid,
        "close",
        {"reason": "e2e", "closed_at": iso(received + timedelta(minutes=1)), "actor": ACTOR},
    )
    temporal.wait_status(wid, "COMPLETED", timeout=15)
    refused = temporal.refused_start(
        service_worker.task_queue, again, "--id-reuse-policy", "RejectDuplicate", "--fail-existing"
    )
    assert "already" in refused.stderr.lower()
    runs = temporal.list(f"WorkflowId = '{wid}'")
    assert [r["execution"]["runId"] for r in runs] == [first["runId"]]
    assert temporal.status(wid)["closed_reason"] == "e2e"


def test_a_cli_start_with_an_invalid_referral_fails_naming_each_bad_field(
    temporal: TemporalCli,
    service_worker: RunningWorker,
    make_referral: Callable[..., dict[str, Any]],
) -> None:
    referral = make_referral(concerns=["witchcraft"])
    del referral["child_ref"]
    referral["received_at"] = "2026-11-28T10:00:00"  # no offset
    wid = f"referral-{referral['referral_id']}"
    temporal.start(service_worker.task_queue, referral)

    temporal.wait_status(wid, "FAILED", timeout=10)
    failure = temporal.failure(wid)
    assert failure["applicationFailureInfo"]["type"] == "InvalidInput"
    message = failure["message"]
    assert message.startswith("invalid input: "), message
    for field in ("received_at", "child_ref", "concerns.0"):
        assert f" {field}: " in message, message
    assert "CarriedCase" not in message
    assert temporal.list(f"CseTeam = '{referral['team']}'") == []  # no case was opened
