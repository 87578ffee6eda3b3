"""What changed between two screenings (domain/screening_changes.py): score, indicators and
CSE models added or gone, professional concern and complexity; push/pull factors never."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from domain.screening_changes import changes_since, with_changes
from domain.status import Screening
from domain.vocabulary import Concern, CseModel, Indicator

AT = datetime(2026, 9, 2, 9, 0, tzinfo=UTC)


def screening(event: str = "record_screening", days: int = 0, **given: Any) -> Screening:
    recorded: dict[str, Any] = {
        "score": 1,
        "indicators": [Indicator.running_away],
        "cse_models": [CseModel.online],
        "push_pull_factors": ["older boyfriend"],
        "professional_concern": Concern.medium,
    }
    return Screening(event=event, at=AT + timedelta(days=days), actor="sw-1", **(recorded | given))


def test_the_score_going_up_and_what_was_added_and_gone() -> None:
    before = screening(indicators=[Indicator.running_away, Indicator.sexual_health])
    after = screening(
        "record_review",
        days=90,
        score=3,
        indicators=[Indicator.sexual_health, Indicator.use_of_technology],
        cse_models=[CseModel.online, CseModel.county_lines],
        professional_concern=Concern.high,
    )

    change = changes_since(before, after)

    assert (change.score_before, change.score_after, change.score_change) == (1, 3, 2)
    assert change.indicators_added == [Indicator.use_of_technology]
    assert change.indicators_gone == [Indicator.running_away]
    assert change.models_added == [CseModel.county_lines]
    assert change.models_gone == []
    assert change.concern_changed
    assert (change.concern_before, change.concern_after) == (Concern.medium, Concern.high)
    assert not change.complex_changed
    assert not change.unchanged


def test_the_score_going_down_is_negative() -> None:
    change = changes_since(screening(score=3), screening(score=0, cse_models=[]))

    assert change.score_change == -3
    assert change.models_gone == [CseModel.online]


def test_a_review_that_changes_nothing_says_so_whatever_its_factors() -> None:
    change = changes_since(screening(), screening(days=90, push_pull_factors=["new friends"]))

    assert change.unchanged
    assert change.score_change == 0


def test_complexity_marked_is_a_change() -> None:
    change = changes_since(screening(), screening(complex=True))

    assert change.complex_changed
    assert not change.unchanged


def test_lists_keep_the_order_recorded_and_name_each_once() -> None:
    after = screening(
        indicators=[Indicator.use_of_technology, Indicator.running_away, Indicator.familial_abuse]
    )

    change = changes_since(screening(), after)

    assert change.indicators_added == [Indicator.use_of_technology, Indicator.familial_abuse]


def test_each_screening_oldest_first_with_what_changed_since_the_one_before() -> None:
    first, second, third = screening(), screening(days=90, score=2), screening(days=180)

    history = with_changes([first, second, third])

    assert [s for s, _ in history] == [first, second, third]
    assert history[0][1] is None
    assert [change.score_change for _, change in history[1:] if change] == [1, -1]
    assert with_changes([]) == []
