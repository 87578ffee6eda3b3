"""Cases at every stage, and with each clock that a guard asks about running, built in memory
with the domain tests' builders. Each comes with the moment payloads are judged at."""

from __future__ import annotations

from datetime import datetime, timedelta

from domain.case import Case
from domain.vocabulary import Concern, Stage
from tests.domain.builders import (
    T,
    case_at,
    close,
    complete_assessment,
    cp_conference,
    decide,
    last_happened,
    missing_episode,
    open_case,
    record,
    refer_to_mase,
    review,
    screening,
    strategy_discussion,
)

Template = tuple[str, Case, datetime]
DAY = timedelta(days=1)


def _with(case: Case, *events: object) -> Case:
    record(case, *events)  # type: ignore[arg-type]
    return case


def templates() -> list[Template]:
    """(label, case, now): `now` is three days after the latest thing that happened."""
    built = {
        "received": open_case(),
        "received_significant_harm": open_case(significant_harm_suspected=True),
        "assessment": case_at(Stage.assessment),
        "assessment_scored_0": _with(case_at(Stage.assessment), screening(0, Concern.low)),
        "assessment_scored_0_high_concern": _with(
            case_at(Stage.assessment), screening(0, Concern.high)
        ),
        "assessment_scored_1": _with(case_at(Stage.assessment), screening(1)),
        "assessment_missing_returned": _with(
            case_at(Stage.assessment), missing_episode(T.screened, T.screened + DAY)
        ),
        "strategy_discussion": case_at(Stage.strategy_discussion),
        "strategy_discussion_complex": case_at(Stage.strategy_discussion, complex=True),
        "strategy_discussion_scored_0": case_at(Stage.strategy_discussion, score=0),
        "s47_enquiry": case_at(Stage.s47_enquiry),
        "s47_enquiry_with_cris": _with(
            case_at(Stage.assessment),
            screening(2),
            complete_assessment(),
            strategy_discussion("s47", cris_number="CRIS-1/26"),
        ),
        "child_in_need": case_at(Stage.child_in_need),
        "safety_plan_s47": case_at(Stage.safety_plan),
        "safety_plan_cin": case_at(Stage.safety_plan, route="cin"),
        "safety_plan_cp_plan": _with(case_at(Stage.safety_plan), cp_conference("cp_plan")),
        "review": case_at(Stage.review),
        "review_further_meeting_due": _with(case_at(Stage.review), review(3)),
        "review_referred_to_mase": _with(case_at(Stage.review), refer_to_mase()),
        "closed_nfa": _with(open_case(), decide("nfa")),
        "closed_by_manager": _with(case_at(Stage.review), close(at=T.reviewed)),
    }
    return [(label, case, last_happened(case) + 3 * DAY) for label, case in built.items()]
