"""Side by side (docs/rules.md, Stages) through the workflow's updates and query: each rule refused
before history with a message naming it, or taken as the statechart says."""

from temporalio.testing import WorkflowEnvironment

from domain.events import (
    Close,
    CompleteAssessment,
    ConcludeS47,
    Decide,
    RecordCpConference,
    RecordCpReview,
    RecordReview,
    RecordSafetyPlan,
    RecordScreening,
    RecordStrategyDiscussion,
)
from tests.workflows.helpers import Handle, now, start
from tests.workflows.test_referral_workflow import refused
from tests.workflows.updates import act, send
from workflows.referral import ReferralWorkflow

SW, TM = "sw-7", "tm-1"


def running(status: object, name: str) -> bool:
    return any(c.name == name and c.running for c in status.clocks)  # type: ignore[attr-defined]


async def test_a_strategy_discussion_at_once_runs_beside_the_assessment(
    env: WorkflowEnvironment, task_queue: str, worker: object
) -> None:
    handle = await start(env, task_queue)
    t = await now(env)
    receipt = await act(
        handle,
        ReferralWorkflow.decide,
        Decide(decision="strategy_discussion", decided_at=t, actor=TM),
    )
    assert receipt.stage == "assessment"
    status = await handle.query(ReferralWorkflow.status)
    assert running(status, "assessment")
    assert running(status, "strategy_discussion")
    assert status.tracks == {"assessment_track": "assessing", "plan_track": "no_plan"}
    screening = RecordScreening(score=2, professional_concern="medium", screened_at=t, actor=SW)
    await act(handle, ReferralWorkflow.record_screening, screening)
    held = RecordStrategyDiscussion(
        held_at=t, chair_role="team_manager", agencies=["police"], outcome="s47", actor=TM
    )
    await act(handle, ReferralWorkflow.record_strategy_discussion, held)
    status = await handle.query(ReferralWorkflow.status)
    assert status.stage == "s47_enquiry"
    assert running(status, "assessment"), "the enquiry runs through the assessment"
    [discussion] = status.strategy_discussions
    assert discussion.missing_agencies == ["health"]
    done = CompleteAssessment(outcome="cin", rationale="plan", completed_at=t, actor=SW)
    receipt = await act(handle, ReferralWorkflow.complete_assessment, done)
    assert receipt.stage == "s47_enquiry"
    assert not running(await handle.query(ReferralWorkflow.status), "assessment")


async def plan_in_force(env: WorkflowEnvironment, task_queue: str) -> Handle:
    handle = await start(env, task_queue, significant_harm_suspected=True)
    t = await now(env)
    await send(
        handle,
        Decide(decision="assess", decided_at=t, actor=TM),
        RecordScreening(score=3, professional_concern="high", screened_at=t, actor=SW),
        CompleteAssessment(outcome="strategy_discussion", completed_at=t, actor=SW),
        RecordStrategyDiscussion(held_at=t, chair_role="team_manager", outcome="s47", actor=TM),
        ConcludeS47(outcome="cp_conference", concluded_at=t, actor=SW),
        RecordCpConference(held_at=t, outcome="cp_plan", actor=TM),
        RecordSafetyPlan(agreed_at=t, actor=SW),
    )
    return handle


async def test_a_plan_in_force_keeps_the_case_open_when_the_risk_falls(
    env: WorkflowEnvironment, task_queue: str, worker: object
) -> None:
    handle = await plan_in_force(env, task_queue)
    t = await now(env)
    refusal = await refused(
        handle, ReferralWorkflow.close, Close(reason="risk low", closed_at=t, actor=TM)
    )
    assert refusal.type == "RuleBroken"
    assert "child protection plan is in force" in str(refusal.message)
    low = RecordReview(score=1, professional_concern="low", reviewed_at=t, actor=SW)
    receipt = await act(handle, ReferralWorkflow.record_review, low)
    assert receipt.stage == "cp_plan"
    status = await handle.query(ReferralWorkflow.status)
    assert status.cp_plan_in_force
    assert running(status, "cp_review_conference")
    assert not running(status, "risk_review")
    ended = RecordCpReview(held_at=t, outcome="end_plan", actor=TM)
    receipt = await act(handle, ReferralWorkflow.record_cp_review, ended)
    assert receipt.stage == "closed"
    result = await handle.result()
    assert result.closed_reason == "the child protection plan ended and the CSE risk is low"
