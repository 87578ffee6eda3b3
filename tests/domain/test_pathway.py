"""The pathway's stages and guards (docs/rules.md, Stages, Guards and Events), on the Case
aggregate.

Every refusal is checked three ways: the exception type, its stable `rule`, and that its
message says the rule in words; and the case must be exactly as it was before.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import pytest
from pydantic import ValidationError

from domain.errors import EventNotAllowed, InvalidEventTime, RuleBroken
from domain.events import EVENT_TYPES, Event, RecordReview, RecordScreening
from domain.policy import ClockName, Policy
from domain.roles import Role
from domain.vocabulary import Concern, Stage
from tests.domain.builders import (
    MANAGER,
    MINUTE,
    T,
    agree_cin_plan,
    allocate,
    assert_refused,
    case_at,
    close,
    complete_assessment,
    complete_mase_action,
    conclude_s47,
    consultation,
    cp_conference,
    cp_review,
    decide,
    disruption_activity,
    last_happened,
    london,
    mase_decision,
    missing_episode,
    open_case,
    professional_concern,
    record,
    refer_to_mase,
    return_interview,
    review,
    safety_plan,
    screening,
    strategy_discussion,
    transition_plan,
)

OPEN_STAGES = [s for s in Stage if s != Stage.closed]
WITHOUT_A_PLAN = [s for s in OPEN_STAGES if s != Stage.cp_plan]


# =========================================================================== guards


class TestScreeningBeforeAssessmentCompletes:
    @pytest.mark.parametrize("outcome", ["strategy_discussion", "cin", "nfa"])
    def test_assessment_cannot_be_completed_without_a_risk_screening(self, outcome: str) -> None:
        case = case_at(Stage.assessment)
        assert_refused(
            case,
            complete_assessment(outcome, rationale="a written rationale"),  # type: ignore[arg-type]
            RuleBroken,
            "screening_required",
            "needs a CSE risk screening recorded first",
        )

    def test_assessment_completes_once_screened(self) -> None:
        case = case_at(Stage.assessment)
        record(case, screening(2), complete_assessment("strategy_discussion"))
        assert case.stage == Stage.strategy_discussion


class TestNoFurtherAction:
    @pytest.mark.parametrize("score", [1, 2, 3])
    def test_no_further_action_at_assessment_refused_when_the_child_scored_1_to_3(
        self, score: int
    ) -> None:
        case = case_at(Stage.assessment)
        record(case, screening(score, Concern.low))
        error = assert_refused(
            case,
            complete_assessment("nfa", rationale="family engaging well"),
            RuleBroken,
            "nfa_needs_score_zero",
            "no further action needs the latest screening score to be 0",
        )
        assert f"(it is {score})" in str(error)

    def test_no_further_action_at_assessment_accepted_with_score_0_and_low_concern(self) -> None:
        case = case_at(Stage.assessment)
        record(case, screening(0, Concern.low), complete_assessment("nfa"))
        assert case.stage == Stage.closed
        assert case.closed_reason == "complete_assessment: nfa"

    def test_no_further_action_refused_with_score_0_but_high_professional_concern(self) -> None:
        case = case_at(Stage.assessment)
        record(case, screening(0, Concern.high))
        assert_refused(
            case,
            complete_assessment("nfa"),
            RuleBroken,
            "nfa_with_high_concern",
            "no further action is refused while professional concern is high",
        )

    def test_high_concern_raised_after_a_zero_screening_also_blocks_no_further_action(
        self,
    ) -> None:
        case = case_at(Stage.assessment)
        record(
            case,
            screening(0, Concern.low),
            professional_concern(Concern.high, at=T.screened + timedelta(hours=2)),
        )
        assert_refused(
            case,
            complete_assessment("nfa", at=T.assessed),
            RuleBroken,
            "nfa_with_high_concern",
            "still needs consultation",
        )

    @pytest.mark.parametrize("score", [1, 2, 3])
    def test_no_further_action_after_strategy_discussion_needs_score_0(self, score: int) -> None:
        case = case_at(Stage.strategy_discussion, score=score)
        assert_refused(
            case,
            strategy_discussion("nfa"),
            RuleBroken,
            "nfa_needs_score_zero",
            "no further action needs the latest screening score to be 0",
        )

    def test_no_further_action_after_strategy_discussion_refused_with_high_concern(self) -> None:
        case = case_at(Stage.strategy_discussion, score=0, concern=Concern.high)
        assert_refused(
            case,
            strategy_discussion("nfa"),
            RuleBroken,
            "nfa_with_high_concern",
            "professional concern is high",
        )

    def test_no_further_action_after_strategy_discussion_accepted_with_score_0(self) -> None:
        case = case_at(Stage.strategy_discussion, score=0, concern=Concern.low)
        record(case, strategy_discussion("nfa"))
        assert case.stage == Stage.closed
        assert case.closed_reason == "record_strategy_discussion: nfa"

    @pytest.mark.parametrize("score", [1, 2, 3])
    def test_section_47_cannot_conclude_no_further_action_unless_score_is_0(
        self, score: int
    ) -> None:
        case = case_at(Stage.s47_enquiry, score=score)
        assert_refused(
            case,
            conclude_s47("nfa"),
            RuleBroken,
            "nfa_needs_score_zero",
            "no further action needs the latest screening score to be 0",
        )

    def test_section_47_concludes_no_further_action_after_a_rescreening_scores_0(self) -> None:
        case = case_at(Stage.s47_enquiry, score=2)
        record(
            case,
            screening(0, Concern.low, at=T.strategy_held + timedelta(days=3)),
            conclude_s47("nfa"),
        )
        assert case.stage == Stage.closed
        assert case.closed_reason == "conclude_s47: nfa"

    def test_referral_can_be_closed_with_no_further_action_before_any_screening(self) -> None:
        case = open_case()
        record(case, decide("nfa"))
        assert case.stage == Stage.closed
        assert case.closed_reason == "decide: nfa"

    def test_no_further_action_at_referral_keeps_the_reason_given(self) -> None:
        case = open_case()
        record(case, decide("nfa", reason="already known to the youth offending team"))
        assert case.stage == Stage.closed
        assert case.closed_reason == "decide: nfa (already known to the youth offending team)"
        assert case.status().closed_reason == case.closed_reason
        assert case.history[-1].details == {"decision": "nfa"}  # the reason is free text

    def test_a_blank_reason_is_no_reason(self) -> None:
        case = open_case()
        record(case, decide("nfa", reason="   "))
        assert case.closed_reason == "decide: nfa"

    def test_a_reason_given_when_deciding_to_assess_closes_nothing(self) -> None:
        case = open_case()
        record(case, decide("assess", reason="school and police both worried"))
        assert case.stage == Stage.assessment
        assert case.closed_reason is None


class TestRationaleForAScoredChild:
    @pytest.mark.parametrize("score", [1, 2, 3])
    @pytest.mark.parametrize("rationale", ["", "   "])
    def test_child_in_need_instead_of_strategy_discussion_needs_a_written_rationale(
        self, score: int, rationale: str
    ) -> None:
        case = case_at(Stage.assessment)
        record(case, screening(score))
        assert_refused(
            case,
            complete_assessment("cin", rationale=rationale),
            RuleBroken,
            "rationale_required",
            "needs a written rationale: a score of 1-3 necessitates consideration of a "
            "strategy meeting",
        )

    @pytest.mark.parametrize("score", [1, 2, 3])
    def test_child_in_need_accepted_with_a_written_rationale(self, score: int) -> None:
        case = case_at(Stage.assessment)
        record(
            case,
            screening(score),
            complete_assessment("cin", rationale="police already lead; family engaging"),
        )
        assert case.stage == Stage.child_in_need

    def test_child_in_need_with_score_0_needs_no_rationale(self) -> None:
        case = case_at(Stage.assessment)
        record(case, screening(0, Concern.low), complete_assessment("cin"))
        assert case.stage == Stage.child_in_need

    def test_strategy_discussion_with_a_scored_child_needs_no_rationale(self) -> None:
        case = case_at(Stage.assessment)
        record(case, screening(3), complete_assessment("strategy_discussion"))
        assert case.stage == Stage.strategy_discussion

    @pytest.mark.parametrize("score", [1, 2, 3])
    def test_no_further_action_with_a_rationale_is_still_refused_for_a_scored_child(
        self, score: int
    ) -> None:
        # The nfa rule comes first: a rationale cannot stand in for a score of 0.
        case = case_at(Stage.assessment)
        record(case, screening(score))
        assert_refused(
            case,
            complete_assessment("nfa", rationale="written rationale"),
            RuleBroken,
            "nfa_needs_score_zero",
            "score to be 0",
        )


class TestComplexCaseChair:
    @pytest.mark.parametrize("chair", [r for r in Role if r != Role.specialist_safeguarding_lead])
    def test_complex_case_strategy_discussion_not_chaired_by_the_specialist_lead_is_refused(
        self, chair: Role
    ) -> None:
        case = case_at(Stage.strategy_discussion, complex=True)
        assert_refused(
            case,
            strategy_discussion("s47", chair=chair),
            RuleBroken,
            "complex_case_chair",
            "a complex case's strategy discussion must be chaired by a specialist "
            "safeguarding lead",
        )

    def test_complex_case_strategy_discussion_chaired_by_the_specialist_lead_is_accepted(
        self,
    ) -> None:
        case = case_at(Stage.strategy_discussion, complex=True)
        record(case, strategy_discussion("s47", chair=Role.specialist_safeguarding_lead))
        assert case.stage == Stage.s47_enquiry
        assert case.strategy_discussions[-1].chair_role == Role.specialist_safeguarding_lead

    def test_a_case_that_is_not_complex_may_be_chaired_by_the_team_manager(self) -> None:
        case = case_at(Stage.strategy_discussion, complex=False)
        record(case, strategy_discussion("s47", chair=Role.team_manager))
        assert case.stage == Stage.s47_enquiry

    def test_further_strategy_meeting_in_review_for_a_complex_case_needs_the_specialist_lead(
        self,
    ) -> None:
        case = case_at(Stage.review, complex=True)
        record(case, review(3))
        assert_refused(
            case,
            strategy_discussion("continue", chair=Role.team_manager, at=T.reviewed + MINUTE),
            RuleBroken,
            "complex_case_chair",
            "must be chaired by a specialist safeguarding lead",
        )


class TestReferralToMase:
    def test_refused_without_a_strategy_discussion(self) -> None:
        case = case_at(Stage.assessment)
        record(case, screening(3))
        assert_refused(
            case,
            refer_to_mase("CRIS-1", at=T.screened + MINUTE),
            RuleBroken,
            "mase_needs_strategy_discussion",
            "a case referred to MASE must have had a strategy discussion",
        )

    def test_refused_without_a_police_cse_cris_number(self) -> None:
        case = case_at(Stage.s47_enquiry, score=2)
        assert_refused(
            case,
            refer_to_mase(cris_number=""),
            RuleBroken,
            "mase_needs_cris_number",
            "a case referred to MASE must have a police CSE CRIS number",
        )

    def test_accepted_with_the_cris_number_given_on_referral(self) -> None:
        case = case_at(Stage.s47_enquiry, score=2)
        record(case, refer_to_mase("CRIS-77"))
        assert case.mase.referred
        assert case.mase.referred_at == T.strategy_held
        assert case.mase.cris_number == "CRIS-77"
        assert case.stage == Stage.s47_enquiry

    def test_accepted_with_the_cris_number_recorded_at_the_strategy_discussion(self) -> None:
        case = case_at(Stage.strategy_discussion, score=3)
        record(case, strategy_discussion("s47", cris_number="CRIS-88"))
        record(case, refer_to_mase(cris_number=""))
        assert case.mase.referred
        assert case.mase.cris_number == "CRIS-88"

    def test_refused_when_the_latest_score_is_0(self) -> None:
        case = case_at(Stage.s47_enquiry, score=2)
        record(case, screening(0, Concern.low, at=T.strategy_held + MINUTE))
        error = assert_refused(
            case,
            refer_to_mase("CRIS-1", at=T.strategy_held + 2 * MINUTE),
            RuleBroken,
            "mase_needs_score",
            "a case referred to MASE must have a latest screening score of 1-3",
        )
        assert "(it is 0)" in str(error)

    @pytest.mark.parametrize("score", [1, 2, 3])
    def test_accepted_for_each_score_1_to_3(self, score: int) -> None:
        case = case_at(Stage.s47_enquiry, score=score)
        record(case, refer_to_mase())
        assert case.mase.referred

    def test_refused_a_second_time(self) -> None:
        case = case_at(Stage.s47_enquiry, score=2)
        record(case, refer_to_mase("CRIS-1"))
        assert_refused(
            case,
            refer_to_mase("CRIS-2", at=T.strategy_held + MINUTE),
            RuleBroken,
            "mase_already_referred",
            "already referred to MASE",
        )
        assert case.mase.cris_number == "CRIS-1"


class TestEventsThatOnlyStopAClock:
    def test_cp_conference_refused_when_none_is_due(self) -> None:
        case = case_at(Stage.s47_enquiry)
        assert_refused(
            case,
            cp_conference(at=T.strategy_held + MINUTE),
            RuleBroken,
            "no_initial_cp_conference_due",
            "no initial child protection conference is due for this case",
        )

    def test_cp_conference_refused_a_second_time(self) -> None:
        case = case_at(Stage.safety_plan)
        record(case, cp_conference("no_plan"))
        assert_refused(
            case,
            cp_conference(at=T.cp_conference_held + MINUTE),
            RuleBroken,
            "no_initial_cp_conference_due",
            "no initial child protection conference is due",
        )

    def test_cp_review_refused_when_no_review_conference_is_due(self) -> None:
        case = case_at(Stage.safety_plan)
        record(case, cp_conference("no_plan"))
        assert_refused(
            case,
            cp_review(at=T.cp_conference_held + MINUTE),
            RuleBroken,
            "no_cp_review_conference_due",
            "no child protection review conference is due for this case",
        )

    def test_return_interview_refused_when_no_return_is_recorded(self) -> None:
        case = case_at(Stage.s47_enquiry)
        went = T.strategy_held + timedelta(hours=2)
        record(case, missing_episode(went))  # still missing: nothing to interview about
        assert_refused(
            case,
            return_interview(went + MINUTE),
            RuleBroken,
            "no_return_home_interview_due",
            "no return home interview is due for this case",
        )

    def test_clock_stopping_events_are_accepted_in_whatever_open_stage_the_case_reached(
        self,
    ) -> None:
        case = case_at(Stage.review)  # conference still due since conclude_s47 on 18 Sep
        went, back = london(2026, 10, 2, 18), london(2026, 10, 3, 9)
        record(
            case,
            missing_episode(went, back),
            cp_conference("cp_plan", at=london(2026, 10, 5, 10)),
            return_interview(london(2026, 10, 5, 15)),
            cp_review("end_plan", at=london(2026, 12, 14, 10)),
        )
        assert case.stage == Stage.review
        assert [h.event for h in case.history[-4:]] == [
            "record_missing_episode",
            "record_cp_conference",
            "record_return_interview",
            "record_cp_review",
        ]


class TestStrategyMeetingDuringReview:
    @pytest.mark.parametrize("outcome", ["continue", "s47"])
    def test_refused_until_a_review_scoring_2_or_3_opens_the_further_meeting_clock(
        self, outcome: str
    ) -> None:
        case = case_at(Stage.review)
        assert_refused(
            case,
            strategy_discussion(outcome, at=T.safety_plan_agreed + MINUTE),  # type: ignore[arg-type]
            RuleBroken,
            "further_strategy_meeting_not_due",
            "outside the strategy discussion stage a strategy meeting is recorded only when "
            "one is due: after a review scoring 2-3 has opened the further strategy meeting "
            "clock",
        )

    def test_refused_again_once_the_further_meeting_has_been_held(self) -> None:
        case = case_at(Stage.review)
        record(case, review(2), strategy_discussion("continue", at=T.reviewed + MINUTE))
        assert_refused(
            case,
            strategy_discussion("continue", at=T.reviewed + 2 * MINUTE),
            RuleBroken,
            "further_strategy_meeting_not_due",
            "further strategy meeting clock",
        )


# =========================================================================== stage checks


ANY_STAGE_EVENTS: list[tuple[str, Callable[[datetime], Event]]] = [
    ("decide", lambda at: decide("assess", at=at)),
    ("record_screening", lambda at: screening(2, at=at)),
    ("complete_assessment", lambda at: complete_assessment("strategy_discussion", at=at)),
    ("record_strategy_discussion", lambda at: strategy_discussion("s47", at=at)),
    ("conclude_s47", lambda at: conclude_s47("cp_conference", at=at)),
    ("agree_cin_plan", lambda at: agree_cin_plan(at=at)),
    ("record_cp_conference", lambda at: cp_conference(at=at)),
    ("record_safety_plan", lambda at: safety_plan(at=at)),
    ("record_review", lambda at: review(2, at=at)),
    ("refer_to_mase", lambda at: refer_to_mase(at=at)),
    ("record_missing_episode", lambda at: missing_episode(at, at)),
    ("record_cp_review", lambda at: cp_review(at=at)),
    ("record_return_interview", lambda at: return_interview(at)),
    ("raise_professional_concern", lambda at: professional_concern(Concern.high, at)),
    ("record_consultation", lambda at: consultation(at)),
    ("allocate", lambda at: allocate(at)),
    ("record_disruption_activity", lambda at: disruption_activity(at)),
    ("close", lambda at: close(at=at)),
    ("record_mase_decision", lambda at: mase_decision("keep_open", at=at)),
    ("complete_mase_action", lambda at: complete_mase_action("action-1", at=at)),
    ("record_transition_plan", lambda at: transition_plan(at)),
]


# docs/rules.md, Events: the updates the intake system and supervisors rely on.
CONTRACT_EVENTS = {
    "decide",
    "record_screening",
    "complete_assessment",
    "record_strategy_discussion",
    "conclude_s47",
    "agree_cin_plan",
    "record_cp_conference",
    "record_safety_plan",
    "record_review",
    "refer_to_mase",
    "record_missing_episode",
    "record_cp_review",
    "record_return_interview",
    "raise_professional_concern",
    "allocate",
    "close",
}


def test_the_list_of_events_covers_every_event_of_the_contract() -> None:
    assert len(CONTRACT_EVENTS) == 16
    added = {"record_consultation", "record_disruption_activity"}
    added |= {"record_mase_decision", "complete_mase_action"}  # docs/rules.md, The MASE panel
    added |= {"record_transition_plan"}  # docs/rules.md, Clocks
    assert set(EVENT_TYPES) == CONTRACT_EVENTS | added
    assert {name for name, _ in ANY_STAGE_EVENTS} == set(EVENT_TYPES)


@pytest.mark.parametrize(
    ("stage", "event"),
    [
        (Stage.referral_received, screening(2, at=T.received + MINUTE)),
        (Stage.referral_received, complete_assessment(at=T.received + MINUTE)),
        (Stage.referral_received, strategy_discussion(at=T.received + MINUTE)),
        (Stage.assessment, decide("assess", at=T.decided + MINUTE)),
        (Stage.assessment, conclude_s47(at=T.decided + MINUTE)),
        (Stage.strategy_discussion, complete_assessment(at=T.assessed + MINUTE)),
        (Stage.strategy_discussion, strategy_discussion("continue")),
        (Stage.strategy_discussion, conclude_s47(at=T.assessed + MINUTE)),
        (Stage.s47_enquiry, agree_cin_plan(at=T.strategy_held + MINUTE)),
        (Stage.s47_enquiry, review(2, at=T.strategy_held + MINUTE)),
        (Stage.safety_plan, review(2, at=T.s47_concluded + MINUTE)),
        (Stage.safety_plan, agree_cin_plan(at=T.s47_concluded + MINUTE)),
        (Stage.review, safety_plan(at=T.safety_plan_agreed + MINUTE)),
        (Stage.review, conclude_s47(at=T.safety_plan_agreed + MINUTE)),
        (Stage.review, decide("nfa", at=T.safety_plan_agreed + MINUTE)),
    ],
    ids=lambda v: v.value if isinstance(v, Stage) else v.name,
)
def test_an_event_that_does_not_apply_in_the_stage_is_refused(stage: Stage, event: Event) -> None:
    case = case_at(stage)
    error = assert_refused(
        case, event, EventNotAllowed, "event_not_allowed_in_stage", "is not allowed"
    )
    assert event.name in str(error)
    assert f"while the case is in stage {stage.value}" in str(error)


@pytest.mark.parametrize(
    ("stage", "route"),
    [
        (Stage.s47_enquiry, None),
        (Stage.child_in_need, "cin"),
        (Stage.safety_plan, "s47"),
        (Stage.safety_plan, "cin"),
    ],
    ids=["s47_enquiry", "child_in_need", "safety_plan-after-s47", "safety_plan-after-cin"],
)
@pytest.mark.parametrize("outcome", ["s47", "continue"])
def test_outside_its_stage_a_strategy_discussion_is_refused_unless_one_is_due(
    stage: Stage, route: Any, outcome: str
) -> None:
    case = case_at(stage, route=route)
    assert not case.running(ClockName.strategy_discussion)
    assert_refused(
        case,
        strategy_discussion(outcome, at=last_happened(case) + MINUTE),  # type: ignore[arg-type]
        RuleBroken,
        "further_strategy_meeting_not_due",
        "outside the strategy discussion stage a strategy meeting is recorded only when one is due",
    )


def test_child_in_need_cannot_take_a_strategy_discussion_when_none_is_due() -> None:
    case = case_at(Stage.child_in_need, route="cin")
    error = assert_refused(
        case,
        strategy_discussion("s47", at=T.assessed + MINUTE),
        RuleBroken,
        "further_strategy_meeting_not_due",
        "a strategy meeting is recorded only when one is due",
    )
    assert str(error).startswith(
        "outside the strategy discussion stage a strategy meeting is recorded only when one is due"
    )


@pytest.mark.parametrize(("name", "make"), ANY_STAGE_EVENTS, ids=[n for n, _ in ANY_STAGE_EVENTS])
def test_every_event_is_refused_once_the_case_is_closed(
    name: str, make: Callable[[datetime], Event]
) -> None:
    case = case_at(Stage.review)
    record(case, review(0, Concern.low))
    assert case.stage == Stage.closed
    assert_refused(
        case,
        make(T.reviewed + MINUTE),
        EventNotAllowed,
        "event_not_allowed_in_stage",
        f"{name} is refused: the case is closed",
    )


# =========================================================================== event times


class TestWhenThingsHappened:
    NOW = london(2026, 9, 1, 12)

    def test_an_event_dated_beyond_the_clock_skew_in_the_future_is_refused(self) -> None:
        case = open_case()
        later = self.NOW + timedelta(minutes=5, seconds=1)
        error = assert_refused(
            case,
            decide("assess", at=later),
            InvalidEventTime,
            "event_time_in_future",
            "is in the future; record what has happened",
            now=self.NOW,
        )
        assert later.isoformat() in str(error)

    def test_an_event_within_the_clock_skew_is_accepted(self) -> None:
        case = open_case()
        case.apply(decide("assess", at=self.NOW + timedelta(minutes=5)), self.NOW)
        assert case.stage == Stage.assessment

    def test_the_clock_skew_comes_from_the_policy(self) -> None:
        case = open_case(policy=Policy(clock_skew_minutes=0))
        assert_refused(
            case,
            decide("assess", at=self.NOW + timedelta(seconds=1)),
            InvalidEventTime,
            "event_time_in_future",
            "in the future",
            now=self.NOW,
        )

    def test_an_event_before_the_referral_was_received_is_refused(self) -> None:
        case = open_case()
        assert_refused(
            case,
            decide("assess", at=T.received - timedelta(seconds=1)),
            InvalidEventTime,
            "event_time_before_referral",
            "is before the referral was received",
            now=self.NOW,
        )

    def test_an_event_at_the_moment_of_referral_is_accepted(self) -> None:
        case = open_case()
        case.apply(decide("assess", at=T.received), self.NOW)
        assert case.stage == Stage.assessment

    def test_a_return_time_in_the_future_is_refused_even_when_the_episode_began_in_the_past(
        self,
    ) -> None:
        case = case_at(Stage.assessment)
        assert_refused(
            case,
            missing_episode(london(2026, 9, 1, 11), returned_at=self.NOW + timedelta(hours=1)),
            InvalidEventTime,
            "event_time_in_future",
            "record_missing_episode",
            now=self.NOW,
        )

    def test_time_is_checked_before_the_stage_rules(self) -> None:
        case = open_case()
        assert_refused(
            case,
            conclude_s47(at=T.received - MINUTE),
            InvalidEventTime,
            "event_time_before_referral",
            "before the referral was received",
            now=self.NOW,
        )


# =========================================================================== scores


@pytest.mark.parametrize("model", [RecordScreening, RecordReview])
@pytest.mark.parametrize("score", [4, -1, 2.5, "2", True, None])
def test_a_score_outside_the_integers_0_to_3_is_refused(model: type[Event], score: Any) -> None:
    payload = {
        "score": score,
        "professional_concern": "low",
        "screened_at": "2026-09-02T10:00:00+01:00",
        "reviewed_at": "2026-09-02T10:00:00+01:00",
        "actor": "sw.okafor",
    }
    payload.pop("reviewed_at" if model is RecordScreening else "screened_at")
    with pytest.raises(ValidationError) as refusal:
        model.model_validate(payload)
    assert [e["loc"] for e in refusal.value.errors()] == [("score",)]
    with pytest.raises(ValidationError) as from_json:
        model.model_validate_json(json.dumps(payload))
    assert [e["loc"] for e in from_json.value.errors()] == [("score",)]


@pytest.mark.parametrize("model", [RecordScreening, RecordReview])
@pytest.mark.parametrize("score", [0, 1, 2, 3])
def test_scores_0_to_3_are_accepted(model: type[Event], score: int) -> None:
    time_field = "screened_at" if model is RecordScreening else "reviewed_at"
    payload = {
        "score": score,
        "professional_concern": "medium",
        time_field: "2026-09-02T10:00:00+01:00",
        "actor": "sw.okafor",
    }
    assert model.model_validate_json(json.dumps(payload)).score == score  # type: ignore[attr-defined]


def test_closing_needs_a_reason() -> None:
    with pytest.raises(ValidationError) as refusal:
        close(reason="  ")
    assert [e["loc"] for e in refusal.value.errors()] == [("reason",)]


# =========================================================================== transitions

Path = list[tuple[Event, Stage]]

FULL_CP_ROUTE: Path = [
    (decide("assess"), Stage.assessment),
    (screening(2), Stage.assessment),
    (complete_assessment("strategy_discussion"), Stage.strategy_discussion),
    (strategy_discussion("s47"), Stage.s47_enquiry),
    (conclude_s47("cp_conference"), Stage.safety_plan),
    (cp_conference("cp_plan"), Stage.safety_plan),
    (safety_plan(), Stage.review),
    # The CSE risk falls, the plan stays in force (contract v3): only its review ends it.
    (review(1, Concern.low), Stage.cp_plan),
    (cp_review("end_plan", at=T.reviewed + timedelta(days=2)), Stage.closed),
]

PATHS: dict[str, Path] = {
    "referral received, no further action": [(decide("nfa"), Stage.closed)],
    "assessment, score 0, no further action": [
        (decide("assess"), Stage.assessment),
        (screening(0, Concern.low), Stage.assessment),
        (complete_assessment("nfa"), Stage.closed),
    ],
    "child protection route to review and closed": FULL_CP_ROUTE,
    "assessment straight to child in need, plan, safety plan, review, closed": [
        (decide("assess"), Stage.assessment),
        (screening(1), Stage.assessment),
        (complete_assessment("cin", rationale="early help already working"), Stage.child_in_need),
        (agree_cin_plan(), Stage.safety_plan),
        (safety_plan(), Stage.review),
        (review(0, Concern.low), Stage.closed),
    ],
    "strategy discussion to child in need": [
        (decide("assess"), Stage.assessment),
        (screening(2), Stage.assessment),
        (complete_assessment("strategy_discussion"), Stage.strategy_discussion),
        (strategy_discussion("cin"), Stage.child_in_need),
        (agree_cin_plan(at=T.strategy_held + timedelta(days=4)), Stage.safety_plan),
    ],
    "strategy discussion, score 0, no further action": [
        (decide("assess"), Stage.assessment),
        (screening(0, Concern.low), Stage.assessment),
        (complete_assessment("strategy_discussion"), Stage.strategy_discussion),
        (strategy_discussion("nfa"), Stage.closed),
    ],
    "section 47 to child in need": [
        (decide("assess"), Stage.assessment),
        (screening(2), Stage.assessment),
        (complete_assessment("strategy_discussion"), Stage.strategy_discussion),
        (strategy_discussion("s47"), Stage.s47_enquiry),
        (conclude_s47("cin"), Stage.child_in_need),
        (agree_cin_plan(at=T.s47_concluded + timedelta(days=3)), Stage.safety_plan),
    ],
    "section 47 finds risk of harm": [
        (decide("assess"), Stage.assessment),
        (screening(3), Stage.assessment),
        (complete_assessment("strategy_discussion"), Stage.strategy_discussion),
        (strategy_discussion("s47"), Stage.s47_enquiry),
        (conclude_s47("risk_of_harm"), Stage.safety_plan),
        (safety_plan(), Stage.review),
    ],
    "section 47, score 0, no further action": [
        (decide("assess"), Stage.assessment),
        (screening(0, Concern.low), Stage.assessment),
        (complete_assessment("strategy_discussion"), Stage.strategy_discussion),
        (strategy_discussion("s47"), Stage.s47_enquiry),
        (conclude_s47("nfa"), Stage.closed),
    ],
    "review scoring 2 stays in review; further meeting continues the review": [
        *FULL_CP_ROUTE[:-2],
        (review(2), Stage.review),
        (strategy_discussion("continue", at=T.reviewed + timedelta(days=1)), Stage.review),
        (review(0, Concern.low, at=T.reviewed + timedelta(days=30)), Stage.cp_plan),
    ],
    "review scoring 3; further meeting sends the case back to section 47": [
        *FULL_CP_ROUTE[:-2],
        (review(3), Stage.review),
        (strategy_discussion("s47", at=T.reviewed + timedelta(days=1)), Stage.s47_enquiry),
        (conclude_s47("risk_of_harm", at=T.reviewed + timedelta(days=10)), Stage.safety_plan),
        (safety_plan(at=T.reviewed + timedelta(days=14)), Stage.review),
    ],
}


@pytest.mark.parametrize("path", PATHS.values(), ids=PATHS.keys())
def test_the_case_follows_the_stage_diagram(path: Path) -> None:
    case = open_case()
    assert case.stage == Stage.referral_received
    for event, expected in path:
        record(case, event)
        assert case.stage == expected, f"after {event.name}"
    assert [h.event for h in case.history] == [event.name for event, _ in path]


def _edge(before: Stage, event: Event, after: Stage) -> tuple[str, str, str]:
    if isinstance(event, RecordReview):
        how = "score 0-1" if event.score <= 1 else "score 2-3"
    else:
        how = str(getattr(event, "outcome", None) or getattr(event, "decision", None) or "")
    return (before.value, f"{event.name}({how})", after.value)


# docs/rules.md, Stages: every arrow of the diagram and of the text beneath it.
DIAGRAM = {
    ("referral_received", "decide(assess)", "assessment"),
    ("referral_received", "decide(nfa)", "closed"),
    ("assessment", "complete_assessment(strategy_discussion)", "strategy_discussion"),
    ("assessment", "complete_assessment(cin)", "child_in_need"),
    ("assessment", "complete_assessment(nfa)", "closed"),
    ("strategy_discussion", "record_strategy_discussion(s47)", "s47_enquiry"),
    ("strategy_discussion", "record_strategy_discussion(cin)", "child_in_need"),
    ("strategy_discussion", "record_strategy_discussion(nfa)", "closed"),
    ("s47_enquiry", "conclude_s47(cp_conference)", "safety_plan"),
    ("s47_enquiry", "conclude_s47(risk_of_harm)", "safety_plan"),
    ("s47_enquiry", "conclude_s47(cin)", "child_in_need"),
    ("s47_enquiry", "conclude_s47(nfa)", "closed"),
    ("child_in_need", "agree_cin_plan()", "safety_plan"),
    ("safety_plan", "record_safety_plan()", "review"),
    ("review", "record_review(score 0-1)", "closed"),
    ("review", "record_review(score 2-3)", "review"),
    ("review", "record_strategy_discussion(continue)", "review"),
    ("review", "record_strategy_discussion(s47)", "s47_enquiry"),
    # side by side (docs/rules.md, Stages)
    ("review", "record_review(score 0-1)", "cp_plan"),
    ("cp_plan", "record_cp_review(end_plan)", "closed"),
}


def test_the_paths_take_every_arrow_of_the_stage_diagram() -> None:
    taken = set()
    for path in PATHS.values():
        before = Stage.referral_received
        for event, after in path:
            if before != after or event.name in ("record_review", "record_strategy_discussion"):
                taken.add(_edge(before, event, after))
            before = after
    assert taken == DIAGRAM


@pytest.mark.parametrize("stage", WITHOUT_A_PLAN, ids=[s.value for s in WITHOUT_A_PLAN])
def test_a_manager_can_close_the_case_from_any_open_stage_and_the_reason_is_kept(
    stage: Stage,
) -> None:
    case = case_at(stage)
    at = last_happened(case)
    record(case, close("family moved to Scotland; case transferred", at=at + MINUTE))
    assert case.stage == Stage.closed
    assert case.closed_reason == "family moved to Scotland; case transferred"
    assert case.history[-1].event == "close"
    assert case.history[-1].actor == MANAGER
    assert case.status().closed_reason == "family moved to Scotland; case transferred"


def test_a_low_review_score_closes_the_case_with_the_score_as_reason() -> None:
    case = case_at(Stage.review)
    record(case, review(1, Concern.low))
    assert case.closed_reason == "risk reduced: review scored 1"


@pytest.mark.parametrize("stage", WITHOUT_A_PLAN, ids=[s.value for s in WITHOUT_A_PLAN])
def test_checking_an_accepted_event_says_where_it_leads_and_changes_nothing(
    stage: Stage,
) -> None:
    case = case_at(stage)
    at = last_happened(case)
    before = case.model_dump()
    assert case.check(close(at=at + MINUTE), at + MINUTE) == Stage.closed
    assert case.model_dump() == before


def test_screening_in_a_later_stage_updates_the_score_and_complexity() -> None:
    case = case_at(Stage.s47_enquiry, score=1)
    record(case, screening(3, Concern.high, complex=True, at=T.strategy_held + MINUTE))
    assert (case.risk_score, case.professional_concern, case.complex) == (3, Concern.high, True)
    assert case.stage == Stage.s47_enquiry
    assert case.history[-1].details == {
        "score": 3,
        "complex": True,
        "indicators": ["running_away"],
        "cse_models": [],
    }


def test_allocation_names_the_worker_and_team_in_the_status() -> None:
    case = open_case()
    record(case, allocate(T.received + MINUTE, social_worker="sw.patel", team="Team South"))
    status = case.status()
    assert (status.allocated_to, status.team) == ("sw.patel", "Team South")
    assert status.stage == Stage.referral_received


def test_the_history_keeps_when_it_happened_when_it_was_recorded_and_who() -> None:
    case = open_case()
    record(case, decide("assess"), now=london(2026, 9, 2, 9))
    (entry,) = case.status().history
    assert entry.event == "decide"
    assert entry.at == T.decided
    assert entry.recorded_at == london(2026, 9, 2, 9)
    assert entry.actor == MANAGER
    assert entry.details == {"decision": "assess"}


def test_high_concern_with_a_low_score_asks_the_manager_and_specialist_lead_to_consult() -> None:
    case = case_at(Stage.assessment)
    record(case, screening(1, Concern.low))
    (notice,) = record(case, professional_concern(Concern.high, T.screened + MINUTE))
    assert notice.kind == "consultation"
    assert notice.roles == [Role.team_manager, Role.specialist_safeguarding_lead]
    assert case.professional_concern == Concern.high


@pytest.mark.parametrize(("score", "level"), [(2, Concern.high), (1, Concern.medium)])
def test_no_consultation_unless_concern_is_high_and_score_low(score: int, level: Concern) -> None:
    case = case_at(Stage.assessment)
    record(case, screening(score, Concern.low))
    assert record(case, professional_concern(level, T.screened + MINUTE)) == []


def test_the_status_reports_the_policy_version_the_case_started_with() -> None:
    custom = Policy(version="borough-2026", clock_skew_minutes=10)
    case = open_case(policy=custom)
    assert case.status().policy_version == "borough-2026"
    assert ClockName.referral_decision in [c.name for c in case.status().clocks]


@pytest.mark.parametrize("received_at", ["1999-12-31T23:00:00+00:00", "2100-01-01T00:00:00+00:00"])
def test_a_referral_outside_the_calendar_is_refused_naming_received_at(received_at: str) -> None:
    from pydantic import ValidationError

    from domain.referral import Referral

    with pytest.raises(ValidationError, match="received_at"):
        Referral.model_validate(
            {
                "referral_id": "R-OLD",
                "received_at": received_at,
                "child_ref": "P",
                "team": "T",
                "referrer_agency": "school",
            }
        )


def test_one_machine_answers_case_after_case_across_closings() -> None:
    """Every case shares one machine: a question that closes one case must leave it
    answering the next case from that case's own stage."""
    closing, assessing = open_case(), open_case()
    record(assessing, decide("assess"))
    for _ in range(3):
        assert closing.check(close(), T.decided) == Stage.closed
        assert assessing.check(screening(2), T.screened) == Stage.assessment
        with pytest.raises(EventNotAllowed):
            assessing.check(decide("assess"), T.screened)
        assert closing.check(decide("nfa"), T.decided) == Stage.closed
