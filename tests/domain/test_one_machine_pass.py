"""An update is asked about (its validator) and then recorded (its handler): the guards pass
once when nothing was recorded in between, and again whenever something was (issue 16,
item 6: one machine pass per update)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from domain import pathway
from domain.case import Case
from domain.errors import RuleBroken
from domain.pathway import CaseOnPathway
from domain.vocabulary import Stage
from tests.domain.builders import (
    T,
    case_at,
    close,
    conclude_s47,
    recorded_at,
    refer_to_mase,
)


@pytest.fixture
def guard_calls(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """The names of the guards the machine ran, in order, counted by a machine built for the
    test (the thread's machine resolves its guards when it is built)."""
    calls: list[str] = []
    monkeypatch.setattr(pathway._PER_THREAD, "checker", None, raising=False)
    for guard in ("mase_referral_allowed", "nfa_needs_score_zero"):
        original = getattr(CaseOnPathway, guard)

        def counted(self: CaseOnPathway, payload: Any, _o: Any = original, _g: str = guard) -> None:
            calls.append(_g)
            _o(self, payload)

        monkeypatch.setattr(CaseOnPathway, guard, counted)
    yield calls
    pathway._PER_THREAD.checker = None  # the next test's machine resolves the real guards


def at(stage: Stage, calls: list[str]) -> Case:
    """A case brought to `stage`, the guards run on the way forgotten."""
    case = case_at(stage)
    calls.clear()
    return case


def ask_then_record(case: Case, event: Any) -> Stage:
    now = recorded_at(event)
    asked = case.check(event, now)
    case.apply(event, now)
    return asked


def test_asked_then_recorded_passes_the_guards_once(guard_calls: list[str]) -> None:
    case = at(Stage.s47_enquiry, guard_calls)
    event = refer_to_mase()
    assert ask_then_record(case, event) == Stage.s47_enquiry
    assert guard_calls == ["mase_referral_allowed"]
    assert case.mase.referred


def test_the_answer_moves_the_case_as_asked(guard_calls: list[str]) -> None:
    case = at(Stage.s47_enquiry, guard_calls)
    event = conclude_s47("cp_conference")
    assert ask_then_record(case, event) == Stage.safety_plan == case.stage
    assert guard_calls == ["nfa_needs_score_zero"] * 2  # once for each track it moves
    assert case.tracks["plan_track"] == "conference_due"


def test_an_event_recorded_in_between_makes_the_guards_run_again(
    guard_calls: list[str],
) -> None:
    """Two updates accepted together: both were allowed when asked, the first one recorded
    makes the second one wrong, and the second is refused, changing nothing."""
    case = at(Stage.s47_enquiry, guard_calls)
    first, second = refer_to_mase(), refer_to_mase(cris_number="CRIS-9/26")
    case.check(first, recorded_at(first))
    case.check(second, recorded_at(second))
    case.apply(first, recorded_at(first))
    before = case.model_dump()
    with pytest.raises(RuleBroken, match="already referred"):
        case.apply(second, recorded_at(second))
    assert case.model_dump() == before
    assert guard_calls == ["mase_referral_allowed"] * 4


def test_an_answer_for_one_case_is_not_taken_for_another(guard_calls: list[str]) -> None:
    asked, other = at(Stage.s47_enquiry, guard_calls), at(Stage.s47_enquiry, guard_calls)
    event = refer_to_mase()
    asked.check(event, recorded_at(event))
    other.apply(event, recorded_at(event))
    assert guard_calls == ["mase_referral_allowed"] * 2


def test_an_answer_for_another_event_is_not_taken(guard_calls: list[str]) -> None:
    case = at(Stage.s47_enquiry, guard_calls)
    asked = refer_to_mase()  # taken where the case stands: its selection moves nothing
    case.check(asked, recorded_at(asked))
    case.apply(close(at=T.strategy_held), T.strategy_held)
    assert case.stage == Stage.closed
