"""Journeys across the tracks, generated: whatever practitioners record, in whatever order,
no case with a child protection plan in force is ever closed, and no clock of a track still
open is ever cancelled (docs/rules.md, Stages). Domain level: every event is offered, the
refused ones change nothing, the accepted ones are checked against the invariants."""

from __future__ import annotations

from datetime import datetime, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import event as hypothesis_event
from hypothesis import strategies as st

from domain.case import Case
from domain.errors import PathwayRefusal
from domain.events import (
    AgreeCinPlan,
    Allocate,
    Close,
    CompleteAssessment,
    ConcludeS47,
    Decide,
    Event,
    RecordCpConference,
    RecordCpReview,
    RecordMissingEpisode,
    RecordReview,
    RecordSafetyPlan,
    RecordScreening,
    RecordStrategyDiscussion,
)
from domain.pathway import ASSESSMENT_TRACK, PLAN_TRACK
from domain.policy import ClockName
from domain.status import ClockState
from domain.vocabulary import Concern, Stage
from tests.domain.builders import T, open_case

ACTOR = "sw-1"
SCORES = st.integers(min_value=0, max_value=3)
CONCERNS = st.sampled_from(list(Concern))


def _events(at: datetime) -> st.SearchStrategy[Event]:
    return st.one_of(
        st.builds(
            Decide,
            decision=st.sampled_from(["assess", "nfa", "strategy_discussion"]),
            decided_at=st.just(at),
            reason=st.just(""),
            actor=st.just(ACTOR),
        ),
        st.builds(
            RecordScreening,
            score=SCORES,
            professional_concern=CONCERNS,
            screened_at=st.just(at),
            indicators=st.just([]),
            cse_models=st.just([]),
            push_pull_factors=st.just([]),
            complex=st.booleans(),
            actor=st.just(ACTOR),
        ),
        st.builds(
            CompleteAssessment,
            outcome=st.sampled_from(["strategy_discussion", "cin", "nfa"]),
            rationale=st.just("rationale"),
            completed_at=st.just(at),
            actor=st.just(ACTOR),
        ),
        st.builds(
            RecordStrategyDiscussion,
            held_at=st.just(at),
            chair_role=st.just("specialist_safeguarding_lead"),
            outcome=st.sampled_from(["s47", "cin", "nfa", "continue"]),
            agencies=st.just(["police"]),
            cris_number=st.just(""),
            actor=st.just(ACTOR),
        ),
        st.builds(
            ConcludeS47,
            outcome=st.sampled_from(["cp_conference", "risk_of_harm", "cin", "nfa"]),
            concluded_at=st.just(at),
            actor=st.just(ACTOR),
        ),
        st.builds(AgreeCinPlan, agreed_at=st.just(at), actor=st.just(ACTOR)),
        st.builds(
            RecordCpConference,
            held_at=st.just(at),
            outcome=st.sampled_from(["cp_plan", "no_plan"]),
            actor=st.just(ACTOR),
        ),
        st.builds(
            RecordCpReview,
            held_at=st.just(at),
            outcome=st.sampled_from(["continue_plan", "end_plan"]),
            actor=st.just(ACTOR),
        ),
        st.builds(RecordSafetyPlan, agreed_at=st.just(at), actor=st.just(ACTOR)),
        st.builds(
            RecordReview,
            score=SCORES,
            professional_concern=CONCERNS,
            reviewed_at=st.just(at),
            indicators=st.none(),
            cse_models=st.none(),
            push_pull_factors=st.none(),
            actor=st.just(ACTOR),
        ),
        st.builds(
            RecordMissingEpisode,
            went_missing_at=st.just(at),
            returned_at=st.just(at),
            actor=st.just(ACTOR),
        ),
        st.builds(
            Allocate,
            social_worker=st.just(ACTOR),
            team=st.just("T"),
            allocated_at=st.just(at),
            actor=st.just(ACTOR),
        ),
        st.builds(Close, reason=st.just("closing"), closed_at=st.just(at), actor=st.just(ACTOR)),
    )


def _to_a_plan(at: datetime) -> list[Event]:
    """The way to a plan in force, so half the journeys go on from one."""
    return [
        Decide(decision="assess", decided_at=at, actor=ACTOR),
        RecordScreening(score=3, professional_concern=Concern.high, screened_at=at, actor=ACTOR),
        CompleteAssessment(outcome="strategy_discussion", completed_at=at, actor=ACTOR),
        RecordStrategyDiscussion(
            held_at=at, chair_role="specialist_safeguarding_lead", outcome="s47", actor=ACTOR
        ),
        ConcludeS47(outcome="cp_conference", concluded_at=at, actor=ACTOR),
        RecordCpConference(held_at=at, outcome="cp_plan", actor=ACTOR),
    ]


@st.composite
def journeys(draw: st.DrawFn) -> list[Event]:
    steps = draw(st.integers(min_value=5, max_value=40))
    start = _to_a_plan(T.decided) if draw(st.booleans()) else []
    return start + [draw(_events(T.decided + timedelta(days=3 * n + 1))) for n in range(steps)]


def _running(case: Case, name: ClockName) -> set[str]:
    return {c.id for c in case.clocks if c.name == name and c.running}


@settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(journey=journeys(), harm=st.booleans())
def test_no_case_with_a_plan_in_force_is_closed_and_no_open_tracks_clock_is_cancelled(
    journey: list[Event], harm: bool
) -> None:
    case = open_case(significant_harm_suspected=harm)
    planned = 0
    for event in journey:
        before = case.model_copy(deep=True)
        try:
            case.apply(event, event.occurred_at + timedelta(minutes=1))
        except PathwayRefusal:
            assert case == before, f"{event.name} was refused but changed the case"
            continue
        plan_was_in_force = before.cp_plan_in_force
        planned += plan_was_in_force
        if case.stage == Stage.closed:
            ended_the_plan = isinstance(event, RecordCpReview) and event.outcome == "end_plan"
            assert not plan_was_in_force or ended_the_plan, f"closed by {event.name} under a plan"
            continue
        cancelled = {c.id for c in case.clocks if c.state == ClockState.cancelled}
        if case.tracks[PLAN_TRACK] == "plan_in_force":
            assert not _running(before, ClockName.cp_review_conference) & cancelled
            assert _running(case, ClockName.cp_review_conference), "a plan without its review"
        if case.tracks[ASSESSMENT_TRACK] == "assessing":
            assert not _running(before, ClockName.assessment) & cancelled
            assert _running(case, ClockName.assessment), "an assessment without its clock"
    event_tally(planned)


def event_tally(planned: int) -> None:
    """How many journeys went on under a plan (`pytest --hypothesis-show-statistics`)."""
    hypothesis_event("went on under a plan" if planned else "never under a plan")
