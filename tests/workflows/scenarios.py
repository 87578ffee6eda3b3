"""Whole cases, one per path of the pathway, for recording replay histories.

`python -m tests.workflows.scenarios` runs each on the time-skipping server and writes its
history to tests/histories/. Histories are never rewritten once committed: a change to the
workflow that cannot replay them would break the cases running in production.
"""

import asyncio
import sys
from collections.abc import Awaitable, Callable
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from temporalio.api.enums.v1 import EventType
from temporalio.testing import WorkflowEnvironment

from domain.calendar import LONDON
from domain.child_index import normalised
from domain.events import (
    AgreeCinPlan,
    AgreedAction,
    Allocate,
    Close,
    CompleteAssessment,
    CompleteMaseAction,
    ConcludeS47,
    Decide,
    RaiseProfessionalConcern,
    RecordConsultation,
    RecordCpConference,
    RecordCpReview,
    RecordMaseDecision,
    RecordMissingEpisode,
    RecordReturnInterview,
    RecordReview,
    RecordSafetyPlan,
    RecordScreening,
    RecordStrategyDiscussion,
    RecordTransitionPlan,
    ReferToMase,
)
from domain.policy import Policy
from domain.status import EarlierReferral
from domain.vocabulary import Stage
from tests.workflows.helpers import Handle, now, skip_to, start
from tests.workflows.updates import index_child, send
from workflows.referral import ReferralWorkflow

RECORDING_QUEUE = "replay-recording"
LONG_CASE_QUEUE = "replay-recording-long"
TEAMS_QUEUE = "replay-recording-teams"  # a worker with teams: the others accept any team
REFERRED_AGAIN = "PERSON-TEST-0002"
UNINDEXED_QUEUE = "replay-recording-unindexed"  # its opening answers no index
INDEXED_LATER = "PERSON-TEST-0003"
LONG_CASE_POLICY = Policy(continue_as_new_after_events=30)  # cases continue as new early
HISTORIES = Path(__file__).parent.parent / "histories"
SW, TM = "sw-7", "tm-1"

Scenario = Callable[[WorkflowEnvironment], Awaitable[Handle]]


_CLOSING_EVENTS = {
    EventType.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED,
    EventType.EVENT_TYPE_WORKFLOW_EXECUTION_FAILED,
    EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW,
}


async def finished(handle: Handle) -> None:
    """Wait for the case to end without `result()`, which lets the time-skipping server jump
    years ahead once nothing is left to run (past the calendar's last year, after a few)."""
    for _ in range(200):
        history = await handle.fetch_history()
        if history.events[-1].event_type in _CLOSING_EVENTS:
            return
        await asyncio.sleep(0.05)
    raise TimeoutError(f"{handle.id} did not finish")


async def assessed(
    env: WorkflowEnvironment, score: int, **referral: Any
) -> tuple[Handle, datetime]:
    handle = await start(env, RECORDING_QUEUE, **referral)
    t = await now(env)
    await send(
        handle,
        Allocate(social_worker=SW, team="RAI-2", allocated_at=t, actor=TM),
        Decide(decision="assess", decided_at=t, actor=SW),
        RecordScreening(
            score=score,
            indicators=["sexual_health"],
            cse_models=["online"],
            professional_concern="medium",
            screened_at=t,
            actor=SW,
        ),
    )
    return handle, t


async def nfa_at_referral(env: WorkflowEnvironment) -> Handle:
    handle = await start(env, RECORDING_QUEUE)
    t = await now(env)
    await send(handle, Decide(decision="nfa", decided_at=t, reason="no concern", actor=SW))
    return handle


async def child_in_need_to_closed(env: WorkflowEnvironment) -> Handle:
    handle, t = await assessed(env, score=1)
    await send(
        handle,
        CompleteAssessment(
            outcome="cin", rationale="needs met under CIN", completed_at=t, actor=SW
        ),
        AgreeCinPlan(agreed_at=t, actor=SW),
        RecordSafetyPlan(agreed_at=t, actor=SW),
        RecordReview(score=0, professional_concern="low", reviewed_at=t, actor=SW),
    )
    return handle


async def strategy_discussion_nfa(env: WorkflowEnvironment) -> Handle:
    handle, t = await assessed(env, score=0)
    await send(
        handle,
        CompleteAssessment(outcome="strategy_discussion", completed_at=t, actor=SW),
        RecordStrategyDiscussion(
            held_at=t, chair_role="team_manager", agencies=["police"], outcome="nfa", actor=SW
        ),
    )
    return handle


async def s47_conference_review_to_closed(env: WorkflowEnvironment) -> Handle:
    handle, t = await assessed(env, score=3, significant_harm_suspected=True)
    await send(
        handle,
        CompleteAssessment(outcome="strategy_discussion", completed_at=t, actor=SW),
        RecordStrategyDiscussion(
            held_at=t,
            chair_role="team_manager",
            agencies=["police", "health"],
            outcome="s47",
            cris_number="CRIS-7",
            actor=SW,
        ),
        ReferToMase(referred_at=t, actor=SW),
        ConcludeS47(outcome="cp_conference", concluded_at=t, actor=SW),
        RecordCpConference(held_at=t, outcome="cp_plan", actor=SW),
        RecordSafetyPlan(agreed_at=t, actor=SW),
        RecordMissingEpisode(went_missing_at=t, returned_at=t, actor=SW),
        RecordReturnInterview(held_at=t, actor=SW),
        RaiseProfessionalConcern(level="high", note="seen with older males", raised_at=t, actor=SW),
        RecordCpReview(held_at=t, outcome="continue_plan", actor=SW),
        RecordReview(score=2, professional_concern="high", reviewed_at=t, actor=SW),
        RecordStrategyDiscussion(
            held_at=t, chair_role="team_manager", outcome="continue", actor=SW
        ),
        RecordCpReview(held_at=t, outcome="end_plan", actor=SW),
        RecordReview(score=1, professional_concern="low", reviewed_at=t, actor=SW),
    )
    return handle


async def review_back_to_s47_then_closed_by_manager(env: WorkflowEnvironment) -> Handle:
    handle, t = await assessed(env, score=2)
    await send(
        handle,
        CompleteAssessment(outcome="strategy_discussion", completed_at=t, actor=SW),
        RecordStrategyDiscussion(held_at=t, chair_role="team_manager", outcome="cin", actor=SW),
        AgreeCinPlan(agreed_at=t, actor=SW),
        RecordSafetyPlan(agreed_at=t, actor=SW),
        RecordReview(score=3, professional_concern="high", reviewed_at=t, actor=SW),
        RecordStrategyDiscussion(held_at=t, chair_role="team_manager", outcome="s47", actor=SW),
        ConcludeS47(outcome="risk_of_harm", concluded_at=t, actor=SW),
        Close(reason="moved to another local authority", closed_at=t, actor=TM),
    )
    return handle


async def ladders_run_then_closed(env: WorkflowEnvironment) -> Handle:
    handle = await start(env, RECORDING_QUEUE, significant_harm_suspected=True)
    await skip_to(env, await now(env) + timedelta(days=12))
    t = await now(env)
    await send(handle, Close(reason="duplicate referral", closed_at=t, actor=TM))
    return handle


async def recorded_late(env: WorkflowEnvironment) -> Handle:
    handle = await start(env, RECORDING_QUEUE, received_at=await now(env) - timedelta(days=20))
    t = await now(env)
    await send(handle, Decide(decision="nfa", decided_at=t, actor=SW))
    return handle


async def consultation_and_repeated_missing(env: WorkflowEnvironment) -> Handle:
    handle, t = await assessed(env, score=0)
    await send(
        handle, RaiseProfessionalConcern(level="high", note="worrying", raised_at=t, actor=SW)
    )
    await skip_to(env, t + timedelta(days=4))
    t = await now(env)
    await send(
        handle,
        RecordConsultation(held_at=t, outcome="continue", actor=TM),
        CompleteAssessment(outcome="cin", completed_at=t, actor=SW),
    )
    for hours in (1, 2, 3):
        went = t + timedelta(minutes=hours)
        await send(handle, RecordMissingEpisode(went_missing_at=went, returned_at=went, actor=SW))
    await skip_to(env, t + timedelta(days=1))
    t = await now(env)
    await send(
        handle,
        RecordStrategyDiscussion(held_at=t, chair_role="team_manager", outcome="s47", actor=SW),
        Close(reason="case transferred", closed_at=t, actor=TM),
    )
    return handle


async def plan_in_force_when_the_risk_falls(env: WorkflowEnvironment) -> Handle:
    """A plan in force when a review scores 1: runs before contract v3 closed here; since,
    the case waits in cp_plan until the plan's own review conference ends it."""
    handle, t = await assessed(env, score=3, significant_harm_suspected=True)
    await send(
        handle,
        CompleteAssessment(outcome="strategy_discussion", completed_at=t, actor=SW),
        RecordStrategyDiscussion(
            held_at=t, chair_role="team_manager", agencies=["police"], outcome="s47", actor=SW
        ),
        ConcludeS47(outcome="cp_conference", concluded_at=t, actor=SW),
        RecordCpConference(held_at=t, outcome="cp_plan", actor=SW),
        RecordSafetyPlan(agreed_at=t, actor=SW),
        RecordReview(score=1, professional_concern="low", reviewed_at=t, actor=SW),
    )
    if (await handle.query(ReferralWorkflow.status)).stage.value == "cp_plan":
        await send(handle, RecordCpReview(held_at=t, outcome="end_plan", actor=SW))
    return handle


async def strategy_discussion_when_harm_is_suspected(env: WorkflowEnvironment) -> Handle:
    """Contract v3: a strategy discussion decided at once and held during the assessment,
    which runs on into the enquiry and is completed there."""
    handle = await start(env, RECORDING_QUEUE, significant_harm_suspected=True)
    t = await now(env)
    await send(
        handle,
        Decide(decision="strategy_discussion", decided_at=t, actor=SW),
        RecordScreening(score=2, professional_concern="medium", screened_at=t, actor=SW),
        RecordStrategyDiscussion(
            held_at=t,
            chair_role="team_manager",
            agencies=["police", "health"],
            outcome="s47",
            actor=SW,
        ),
        CompleteAssessment(outcome="cin", rationale="plan agreed", completed_at=t, actor=SW),
        ConcludeS47(outcome="cin", concluded_at=t, actor=SW),
        Close(reason="moved away", closed_at=t, actor=TM),
    )
    return handle


async def re_referral_of_a_child(env: WorkflowEnvironment) -> Handle:
    """Issue 19: a child referred three months after an earlier, closed case. The opening
    answer indexes the case and names the earlier case, so the case is a re-referral."""
    from tests.conftest import EARLIER_REFERRALS

    t = await now(env)
    earlier = EarlierReferral(
        referral_id="R-EARLIER-1",
        received_at=t - timedelta(days=91),
        closed_at=t - timedelta(days=30),
        stage=Stage.closed,
    )
    EARLIER_REFERRALS[normalised(REFERRED_AGAIN)] = [earlier]
    handle = await start(env, RECORDING_QUEUE, child_ref=f"{REFERRED_AGAIN.lower()} ")
    t = await now(env)
    await send(
        handle,
        Decide(decision="assess", decided_at=t, actor=SW),
        Close(reason="moved away", closed_at=t, actor=TM),
    )
    return handle


async def unknown_team_refused(env: WorkflowEnvironment) -> Handle:
    """Issue 19: a start on a team that is not one of the worker's fails at its own check."""
    from tests.conftest import Outbox, running_worker

    async with running_worker(env.client, TEAMS_QUEUE, Outbox(), teams=("RAI-2", "RAI-3")):
        handle = await start(env, TEAMS_QUEUE, team="RAI-Z")
        await finished(handle)
    return handle


async def indexed_by_an_operator(env: WorkflowEnvironment) -> Handle:
    """Issue 19: a case started before the child index (its opening answered no index) is
    indexed by an operator's `index_child`, finds the child's earlier case and is a
    re-referral; then it moves on and closes."""
    from contract.child_indexing import IndexChild
    from tests.conftest import EARLIER_REFERRALS, Outbox
    from tests.workflows.unindexed import unindexed_worker

    async with unindexed_worker(env.client, UNINDEXED_QUEUE, Outbox()):
        handle = await start(env, UNINDEXED_QUEUE, child_ref=INDEXED_LATER)
        t = await now(env)
        await send(handle, Decide(decision="assess", decided_at=t, actor=SW))
        earlier = EarlierReferral(
            referral_id="R-EARLIER-2", received_at=t - timedelta(days=120), stage=Stage.closed
        )
        EARLIER_REFERRALS[normalised(INDEXED_LATER)] = [earlier]
        await index_child(handle, IndexChild(actor="ops-1"))
        t = await now(env)
        await send(handle, Close(reason="moved away", closed_at=t, actor=TM))
        await finished(handle)
    return handle


async def referred_to_mase(
    env: WorkflowEnvironment, task_queue: str, decided_by: str, cris_number: str
) -> tuple[Handle, datetime]:
    """A case where harm is suspected: a strategy discussion decided at once, held with police
    and health, which starts an enquiry and refers the child to MASE (all at one time, given
    back with the case)."""
    handle = await start(env, task_queue, significant_harm_suspected=True)
    t = await now(env)
    await send(
        handle,
        Decide(decision="strategy_discussion", decided_at=t, actor=decided_by),
        RecordScreening(score=2, professional_concern="medium", screened_at=t, actor=SW),
        RecordStrategyDiscussion(
            held_at=t,
            chair_role="team_manager",
            agencies=["police", "health"],
            outcome="s47",
            cris_number=cris_number,
            actor=TM,
        ),
        ReferToMase(referred_at=t, actor=TM),
    )
    return handle, t


async def the_panel_at_work(env: WorkflowEnvironment) -> Handle:
    """docs/rules.md, The MASE panel: partners told when harm is suspected and of the referral to
    MASE; a decision with two actions, one completed and one left to breach on its owner's
    ladder; stepped down, then closed."""
    handle, t = await referred_to_mase(env, RECORDING_QUEUE, decided_by=SW, cris_number="CRIS-3/26")
    due = t + timedelta(days=7)
    actions = [
        AgreedAction(action="disruption plan", owner_role="police_spoc", due_at=due),
        AgreedAction(action="health check", owner_role="named_nurse", due_at=due),
    ]
    await send(
        handle,
        RecordMaseDecision(held_at=t, decision="keep_open", actions=actions, actor=TM),
        CompleteMaseAction(action_id="action-2", completed_at=t, actor=SW),
    )
    await skip_to(env, due + timedelta(days=3))
    t = await now(env)
    await send(
        handle,
        RecordMaseDecision(held_at=t, decision="step_down", actor=TM),
        Close(reason="moved away", closed_at=t, actor=TM),
    )
    return handle


async def transition_planning_while_open(env: WorkflowEnvironment) -> Handle:
    """docs/rules.md, Clocks: a child who reaches 17 years 6 months ten days after the referral. The
    case wakes for the birthday and opens the transition planning clock, which the plan
    agreed a day later stops; then the case closes."""
    birthday = (await now(env) + timedelta(days=10)).astimezone(LONDON).date()
    birthday = birthday.replace(day=min(birthday.day, 28))
    months = birthday.year * 12 + birthday.month - 1 - (17 * 12 + 6)
    born = date(months // 12, months % 12 + 1, birthday.day)
    handle = await start(env, RECORDING_QUEUE, date_of_birth=born)
    t = await now(env)
    await send(handle, Decide(decision="assess", decided_at=t, actor=SW))
    opens_at = datetime(birthday.year, birthday.month, birthday.day, tzinfo=LONDON)
    await skip_to(env, opens_at + timedelta(days=1))
    await opened(handle, "transition_planning")
    t = await now(env)
    await send(
        handle,
        RecordTransitionPlan(agreed_at=t, actor=SW),
        Close(reason="moved away", closed_at=t, actor=TM),
    )
    return handle


async def opened(handle: Handle, clock: str) -> None:
    """Wait for the case to have opened `clock` (a timer's effects land on its next task)."""
    for _ in range(200):
        status = await handle.query(ReferralWorkflow.status)
        if any(c.name == clock for c in status.clocks):
            return
        await asyncio.sleep(0.05)
    raise TimeoutError(f"{handle.id} did not open {clock}")


SCENARIOS: dict[str, Scenario] = {
    "nfa_at_referral": nfa_at_referral,
    "child_in_need_to_closed": child_in_need_to_closed,
    "strategy_discussion_nfa": strategy_discussion_nfa,
    "s47_conference_review_to_closed": s47_conference_review_to_closed,
    "review_back_to_s47_then_closed_by_manager": review_back_to_s47_then_closed_by_manager,
    "ladders_run_then_closed": ladders_run_then_closed,
    "recorded_late": recorded_late,
    "consultation_and_repeated_missing": consultation_and_repeated_missing,
    "plan_in_force_when_the_risk_falls": plan_in_force_when_the_risk_falls,
    "strategy_discussion_when_harm_is_suspected": strategy_discussion_when_harm_is_suspected,
    "re_referral_of_a_child": re_referral_of_a_child,
    "unknown_team_refused": unknown_team_refused,
    "the_panel_at_work": the_panel_at_work,
    "transition_planning_while_open": transition_planning_while_open,
    "indexed_by_an_operator": indexed_by_an_operator,
}


async def record(version: str, only: list[str]) -> None:
    """Record every scenario, or only those named, and both runs of a long case (unless
    names are given) under `version`."""
    from tests.conftest import Outbox, running_worker, start_test_server

    async with await start_test_server(sealed=False) as env:
        async with running_worker(env.client, RECORDING_QUEUE, Outbox()):
            for name, scenario in SCENARIOS.items():
                if only and name not in only:
                    continue
                handle = await scenario(env)
                await finished(handle)
                history = await handle.fetch_history()
                path = HISTORIES / f"{version}-{name}.json"
                path.write_text(history.to_json())
                print(f"recorded {path} ({len(history.events)} events)")
        if only:
            return
        async with running_worker(env.client, LONG_CASE_QUEUE, Outbox(), LONG_CASE_POLICY):
            await record_continued_as_new(env, version)


async def record_continued_as_new(env: WorkflowEnvironment, version: str) -> None:
    """Both runs of a case that continued as new, the second closed by its manager."""
    handle = await start(env, LONG_CASE_QUEUE, significant_harm_suspected=True)
    first_run = (await handle.describe()).run_id
    t = await now(env)
    for n in range(10):
        await send(
            handle, Allocate(social_worker=f"sw-{n}", team="RAI-2", allocated_at=t, actor=TM)
        )
    latest = env.client.get_workflow_handle_for(ReferralWorkflow.run, handle.id)
    await send(latest, Close(reason="test over", closed_at=t, actor=TM))
    await finished(latest)
    for label, run_id in (("first", first_run), ("second", None)):
        run = env.client.get_workflow_handle(handle.id, run_id=run_id)
        history = await run.fetch_history()
        path = HISTORIES / f"{version}-continued_as_new_{label}_run.json"
        path.write_text(history.to_json())
        print(f"recorded {path} ({len(history.events)} events)")


if __name__ == "__main__":
    asyncio.run(record(sys.argv[1] if len(sys.argv) > 1 else "v1", sys.argv[2:]))
