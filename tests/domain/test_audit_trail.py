"""The audit trail's details (docs/rules.md, Stages and Events): a screening's indicators and CSE
models, a strategy discussion's agencies and the decision, as JSON lists and values that
survive the status's round trip; never free text (push/pull factors, notes, rationale,
reasons, the referral's summary)."""

from __future__ import annotations

from datetime import timedelta

from domain.events import RecordReview, RecordScreening
from domain.status import CaseStatus, HistoryEntry
from domain.vocabulary import Concern, CseModel, Indicator, Stage
from tests.domain.builders import (
    CHILD_REF,
    CONCERN_NOTE,
    SOCIAL_WORKER,
    SUMMARY,
    T,
    case_at,
    close,
    complete_assessment,
    decide,
    open_case,
    professional_concern,
    record,
    strategy_discussion,
)

PUSH_PULL = "older boyfriend with a car"
RATIONALE = "support under a child in need plan is proportionate for now"
DECISION_REASON = "the school reports the child seen with older men"


def full_screening() -> RecordScreening:
    return RecordScreening(
        score=2,
        indicators=[Indicator.running_away, Indicator.use_of_technology],
        cse_models=[CseModel.online, CseModel.inappropriate_relationship],
        push_pull_factors=[PUSH_PULL],
        professional_concern=Concern.medium,
        screened_at=T.screened,
        actor=SOCIAL_WORKER,
    )


def a_review(**given: object) -> RecordReview:
    fields: dict[str, object] = {
        "score": 3,
        "professional_concern": Concern.high,
        "reviewed_at": T.reviewed + timedelta(days=1),
        "actor": SOCIAL_WORKER,
    }
    return RecordReview.model_validate(fields | given)


def entry(case_history: list[HistoryEntry], event: str) -> HistoryEntry:
    return [h for h in case_history if h.event == event][-1]


def test_a_screening_keeps_its_indicators_and_models_in_the_trail_but_not_its_factors() -> None:
    case = open_case()
    record(case, decide("assess"), full_screening())
    details = entry(case.status().history, "record_screening").details
    assert details == {
        "score": 2,
        "complex": False,
        "indicators": ["running_away", "use_of_technology"],
        "cse_models": ["online", "inappropriate_relationship"],
    }


def test_a_review_gives_indicators_and_models_only_when_it_records_them() -> None:
    case = case_at(Stage.review)
    record(case, a_review())
    assert entry(case.history, "record_review").details == {"score": 3}
    record(
        case,
        a_review(
            reviewed_at=T.reviewed + timedelta(days=2),
            indicators=[Indicator.gangs_older_age_groups_crime],
            cse_models=[],
            push_pull_factors=[PUSH_PULL],
        ),
    )
    assert entry(case.history, "record_review").details == {
        "score": 3,
        "indicators": ["gangs_older_age_groups_crime"],
        "cse_models": [],
    }


def test_a_strategy_discussion_keeps_its_agencies_and_decide_its_decision() -> None:
    case = open_case(significant_harm_suspected=True)
    record(case, decide("strategy_discussion"))
    assert entry(case.history, "decide").details == {"decision": "strategy_discussion"}
    record(case, strategy_discussion("s47", at=T.screened))
    assert entry(case.history, "record_strategy_discussion").details == {
        "outcome": "s47",
        "chair_role": "team_manager",
        "agencies": ["police", "health", "education"],
    }


def test_the_details_survive_the_status_round_trip_as_lists() -> None:
    case = open_case()
    record(case, decide("assess"), full_screening())
    status = case.status()
    again = CaseStatus.model_validate_json(status.model_dump_json())
    assert again == status
    assert entry(again.history, "record_screening").details["cse_models"] == [
        "online",
        "inappropriate_relationship",
    ]
    assert HistoryEntry.model_validate(
        entry(status.history, "record_screening").model_dump(mode="json")
    ) == entry(status.history, "record_screening")


def test_no_free_text_reaches_the_trail() -> None:
    case = open_case()
    record(
        case,
        decide("assess", reason=DECISION_REASON),
        full_screening(),
        professional_concern(Concern.high, T.screened + timedelta(hours=1)),
        complete_assessment("cin", RATIONALE),
        close("the family moved to Scotland", at=T.assessed + timedelta(days=1)),
    )
    trail = "".join(h.model_dump_json(include={"details"}) for h in case.status().history)
    for text in (PUSH_PULL, RATIONALE, DECISION_REASON, CONCERN_NOTE, SUMMARY, CHILD_REF):
        assert text not in trail
    assert "Scotland" not in trail
