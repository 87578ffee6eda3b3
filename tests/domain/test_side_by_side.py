"""What runs side by side (docs/rules.md, Stages, contract v3): the pathway as a statechart
whose tracks (the line, the assessment, the child protection plan) move together, and the
screenings and strategy discussions kept as the record."""

from __future__ import annotations

from datetime import timedelta

import pytest

from domain.case import Case
from domain.errors import EventNotAllowed, RuleBroken
from domain.events import RecordReview
from domain.pathway import ASSESSMENT_TRACK, PLAN_TRACK, events_allowed_in, tracks
from domain.policy import ClockName
from domain.status import ClockState
from domain.vocabulary import Concern, CseModel, Indicator, Stage
from tests.domain.builders import (
    SOCIAL_WORKER,
    T,
    allocate,
    assert_refused,
    case_at,
    clocks_named,
    close,
    complete_assessment,
    conclude_s47,
    cp_conference,
    cp_review,
    decide,
    end_of,
    missing_episode,
    only_clock,
    open_case,
    record,
    review,
    screening,
    stages_after,
    strategy_discussion,
)

DAY = timedelta(days=1)
HOUR = timedelta(hours=1)


# ------------------------------------------------ a strategy discussion when harm is suspected


class TestDecideStrategyDiscussion:
    def test_it_opens_the_assessment_and_a_strategy_discussion_due_in_three_working_days(
        self,
    ) -> None:
        case = open_case()
        record(case, decide("strategy_discussion"))  # Tue 1 Sep 2026
        assert case.stage == Stage.assessment
        assert case.tracks[ASSESSMENT_TRACK] == "assessing"
        assert only_clock(case, ClockName.referral_decision).state == ClockState.met
        assessment = only_clock(case, ClockName.assessment)
        assert assessment.opened_at == T.received
        assert assessment.running
        discussion = only_clock(case, ClockName.strategy_discussion)
        assert discussion.opened_at == T.decided
        assert discussion.due_at == end_of(2026, 9, 4)

    def test_an_open_strategy_discussion_clock_is_kept(self) -> None:
        case = open_case(significant_harm_suspected=True)
        record(case, decide("strategy_discussion"))
        [clock] = clocks_named(case, ClockName.strategy_discussion)
        assert clock.opened_at == T.received
        assert clock.running

    def test_check_says_where_it_leads_and_changes_nothing(self) -> None:
        case = open_case()
        before = case.model_dump()
        assert case.check(decide("strategy_discussion"), T.decided) == Stage.assessment
        assert case.model_dump() == before


class TestStrategyDiscussionDuringTheAssessment:
    def test_s47_moves_the_case_and_the_assessment_clock_runs_on(self) -> None:
        case = open_case(significant_harm_suspected=True)
        record(case, decide("assess"), screening(2))
        record(case, strategy_discussion("s47", at=T.screened + HOUR))
        assert case.stage == Stage.s47_enquiry
        assessment = only_clock(case, ClockName.assessment)
        assert assessment.running, "the enquiry is carried out through the assessment"
        assert case.tracks[ASSESSMENT_TRACK] == "assessing"
        assert only_clock(case, ClockName.strategy_discussion).state == ClockState.met

    def test_complete_assessment_is_accepted_later_without_moving_the_case(self) -> None:
        case = open_case(significant_harm_suspected=True)
        record(case, decide("assess"), screening(2))
        record(case, strategy_discussion("s47", at=T.screened + HOUR))
        record(case, complete_assessment("cin", "under a plan", at=T.s47_concluded))
        assert case.stage == Stage.s47_enquiry
        assert only_clock(case, ClockName.assessment).state == ClockState.met
        assert case.tracks[ASSESSMENT_TRACK] == "assessed"
        assert case.history[-1].details == {"outcome": "cin"}

    def test_complete_assessment_still_needs_a_screening(self) -> None:
        case = open_case()
        record(case, decide("strategy_discussion"))
        record(case, strategy_discussion("s47", at=T.decided + HOUR))
        assert_refused(
            case,
            complete_assessment(at=T.decided + 2 * HOUR),
            RuleBroken,
            "screening_required",
            "needs a CSE risk screening recorded first",
        )

    def test_complete_assessment_is_refused_once_the_assessment_has_ended(self) -> None:
        case = case_at(Stage.s47_enquiry)
        assert_refused(
            case,
            complete_assessment(at=T.strategy_held + HOUR),
            EventNotAllowed,
            "event_not_allowed_in_stage",
            "its assessment is not running",
        )

    @pytest.mark.parametrize("outcome", ["cin", "nfa"])
    def test_cin_and_nfa_leave_the_case_in_assessment(self, outcome: str) -> None:
        case = open_case(significant_harm_suspected=True)
        record(case, decide("assess"), screening(2))  # a score of 2: nfa here closes nothing
        record(case, strategy_discussion(outcome, at=T.screened + HOUR))  # type: ignore[arg-type]
        assert case.stage == Stage.assessment
        assert only_clock(case, ClockName.assessment).running
        assert not case.running(ClockName.strategy_discussion)

    def test_refused_in_assessment_without_a_strategy_discussion_clock(self) -> None:
        case = open_case()
        record(case, decide("assess"))
        assert_refused(
            case,
            strategy_discussion("s47", at=T.decided + HOUR),
            RuleBroken,
            "further_strategy_meeting_not_due",
            "a strategy meeting is recorded only when one is due",
        )


# ------------------------------------------------------- a child protection plan keeps it open


def plan_in_force() -> Case:
    case = case_at(Stage.review)  # the s47 route: an initial conference is due
    record(case, cp_conference("cp_plan", at=T.safety_plan_agreed + HOUR))
    assert case.cp_plan_in_force
    assert case.tracks[PLAN_TRACK] == "plan_in_force"
    return case


class TestAPlanInForce:
    def test_a_low_review_moves_the_case_to_cp_plan_not_closed(self) -> None:
        case = plan_in_force()
        record(case, review(1, Concern.low))
        assert case.stage == Stage.cp_plan
        assert case.running(ClockName.cp_review_conference) is not None
        assert case.running(ClockName.risk_review) is None, "the CSE risk reviews have ended"
        assert case.status().cp_plan_in_force

    def test_close_is_refused_naming_the_rule_in_every_stage(self) -> None:
        case = plan_in_force()
        assert_refused(
            case,
            close(at=T.reviewed),
            RuleBroken,
            "cp_plan_in_force",
            "cannot be closed while a child protection plan is in force",
        )
        record(case, review(1, Concern.low))
        assert_refused(
            case, close(at=T.reviewed + HOUR), RuleBroken, "cp_plan_in_force", "end_plan"
        )

    def test_no_further_action_is_refused_while_the_plan_is_in_force(self) -> None:
        case = plan_in_force()
        record(case, review(3, Concern.high))
        record(case, strategy_discussion("s47", at=T.reviewed + HOUR))
        record(case, screening(0, Concern.low, at=T.reviewed + 2 * HOUR))
        assert_refused(
            case,
            conclude_s47("nfa", at=T.reviewed + 3 * HOUR),
            RuleBroken,
            "cp_plan_in_force",
            "no further action is refused while a child protection plan is in force",
        )

    def test_section_4_events_are_taken_in_cp_plan(self) -> None:
        case = plan_in_force()
        record(case, review(1, Concern.low))
        went = T.reviewed + DAY
        record(case, missing_episode(went, went + HOUR), allocate(went + 2 * HOUR))
        assert case.stage == Stage.cp_plan
        assert case.running(ClockName.return_home_interview) is not None

    def test_the_plan_ending_at_its_review_closes_the_case(self) -> None:
        case = plan_in_force()
        record(case, review(1, Concern.low))
        record(case, cp_review("end_plan", at=T.reviewed + DAY))
        assert case.stage == Stage.closed
        assert case.closed_reason == "the child protection plan ended and the CSE risk is low"
        assert only_clock(case, ClockName.cp_review_conference).state == ClockState.met

    def test_a_continued_plan_stays_in_cp_plan_with_its_next_review(self) -> None:
        case = plan_in_force()
        record(case, review(1, Concern.low))
        record(case, cp_review("continue_plan", at=T.reviewed + DAY))
        assert case.stage == Stage.cp_plan
        assert len(clocks_named(case, ClockName.cp_review_conference)) == 2

    def test_a_screening_scoring_2_or_3_brings_the_reviews_back(self) -> None:
        case = plan_in_force()
        record(case, review(1, Concern.low))
        screened = T.reviewed + 10 * DAY
        record(case, screening(3, Concern.high, at=screened))
        assert case.stage == Stage.review
        clock = case.running(ClockName.risk_review)
        assert clock is not None
        assert clock.opened_at == screened
        assert clock.due_at.date() == (screened + timedelta(days=90)).date().replace(day=10)

    def test_a_low_screening_in_cp_plan_stays(self) -> None:
        case = plan_in_force()
        record(case, review(1, Concern.low))
        record(case, screening(1, Concern.low, at=T.reviewed + DAY))
        assert case.stage == Stage.cp_plan

    def test_a_plan_ended_while_reviews_run_lets_the_case_close_later(self) -> None:
        case = plan_in_force()
        record(case, cp_review("end_plan", at=T.reviewed - DAY))
        assert case.stage == Stage.review
        assert not case.cp_plan_in_force
        assert case.tracks[PLAN_TRACK] == "plan_ended"
        assert stages_after(case, [review(1, Concern.low)]) == [Stage.closed]

    def test_a_case_recorded_before_the_rule_closes_as_it_did(self) -> None:
        case = plan_in_force()
        case.plan_rule = False  # the workflow says so for a history recorded before it
        record(case, review(1, Concern.low))
        assert case.stage == Stage.closed

    def test_whether_the_rule_matters_is_asked_only_when_it_would_change_the_outcome(
        self,
    ) -> None:
        case = plan_in_force()
        case.plan_rule = None
        assert case.plan_rule_matters(review(1, Concern.low))
        assert not case.plan_rule_matters(allocate(T.reviewed))
        # A review that keeps the case in review is taken alike with and without the rule:
        # asking then would spend the run's one answer where nothing differs.
        assert not case.plan_rule_matters(review(2))
        assert (
            not case_at(Stage.review)
            .model_copy(update={"plan_rule": None})
            .plan_rule_matters(review(1, Concern.low))
        )


# ------------------------------------------------------------------- the record kept and shown


def test_every_screening_and_review_is_kept_oldest_first() -> None:
    case = case_at(Stage.review)
    record(case, review(2))
    chosen = RecordReview(
        score=3,
        professional_concern=Concern.high,
        reviewed_at=T.reviewed + DAY,
        indicators=[Indicator.gangs_older_age_groups_crime],
        cse_models=[CseModel.county_lines],
        push_pull_factors=["older boyfriend"],
        actor=SOCIAL_WORKER,
    )
    record(case, chosen)
    first, carried, changed = case.status().screenings
    assert (first.event, first.score, first.indicators) == (
        "record_screening",
        2,
        [Indicator.running_away],
    )
    assert (carried.event, carried.score, carried.indicators) == (
        "record_review",
        2,
        [Indicator.running_away],
    ), "a review without indicators keeps the last screening's"
    assert changed.indicators == [Indicator.gangs_older_age_groups_crime]
    assert changed.cse_models == [CseModel.county_lines]
    assert changed.push_pull_factors == ["older boyfriend"]
    assert changed.actor == SOCIAL_WORKER
    assert changed.at == T.reviewed + DAY


def test_a_strategy_discussion_keeps_its_agencies_and_those_missing() -> None:
    case = case_at(Stage.s47_enquiry)
    [held] = case.status().strategy_discussions
    assert held.agencies == ["police", "health", "education"]
    assert held.missing_agencies == []
    case = open_case(significant_harm_suspected=True)
    record(case, decide("assess"), screening(2))
    event = strategy_discussion("s47", at=T.screened + HOUR).model_copy(
        update={"agencies": ["Police", "education"]}
    )
    record(case, event)
    assert case.status().strategy_discussions[-1].missing_agencies == ["health"]


# ------------------------------------------------------------------------- the chart itself


def test_the_tracks_beside_the_line_and_their_states() -> None:
    assert [(t.id, [s for s, _ in t.states]) for t in tracks()] == [
        (ASSESSMENT_TRACK, ["assessment_not_started", "assessing", "assessed"]),
        (PLAN_TRACK, ["no_plan", "conference_due", "plan_in_force", "plan_ended"]),
    ]


def test_the_events_a_case_may_take_include_those_of_its_tracks() -> None:
    on_the_line = events_allowed_in(Stage.s47_enquiry)
    assert "complete_assessment" not in on_the_line
    assessing = events_allowed_in(Stage.s47_enquiry, {ASSESSMENT_TRACK: "assessing"})
    assert "complete_assessment" in assessing


def test_a_case_carried_over_from_before_the_tracks_is_read_from_its_stage_and_clocks() -> None:
    case = plan_in_force()
    carried = Case.model_validate(case.model_dump(exclude={"tracks"}))
    assert carried.tracks == {}
    assert carried.status().tracks == {ASSESSMENT_TRACK: "assessed", PLAN_TRACK: "plan_in_force"}
    record(carried, review(1, Concern.low))
    assert carried.stage == Stage.cp_plan
    assert carried.tracks == {ASSESSMENT_TRACK: "assessed", PLAN_TRACK: "plan_in_force"}


def test_closing_ends_every_track_and_cancels_every_running_clock() -> None:
    case = open_case(significant_harm_suspected=True)
    record(case, decide("assess"), screening(2))
    record(case, strategy_discussion("s47", at=T.screened + HOUR))
    record(case, close(at=T.screened + 2 * HOUR))
    assert case.stage == Stage.closed
    assert only_clock(case, ClockName.assessment).state == ClockState.cancelled
    assert case.status().tracks == {}
