"""An update is asked about (its validator) and then recorded (its handler): the guards pass
once when nothing was recorded in between, and again whenever something was (issue 16,
item 6: one machine pass per update)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

import pytest

from domain import pathway
from domain.case import Case
from domain.errors import RuleBroken
from domain.events import Close
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
def guard_calls(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The names of the guards the machine ran, in order, counted by a machine built for the
    test (the thread's machine resolves its guards when it is built)."""
    calls: list[str] = []
    monkeypatch.setattr(pathway, "_THE_CHECKER", [])
    for guard in ("mase_referral_allowed", "nfa_needs_score_zero"):
        original = getattr(CaseOnPathway, guard)

        def counted(self: CaseOnPathway, payload: Any, _o: Any = original, _g: str = guard) -> None:
            calls.append(_g)
            _o(self, payload)

        monkeypatch.setattr(CaseOnPathway, guard, counted)
    return calls  # monkeypatch puts back the machine that resolved the real guards


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


def test_threads_share_one_machine_and_each_gets_its_own_case_answered() -> None:
    """A worker's workflow threads ask the one machine at once: every answer is the asking
    case's, and an answer left on one thread is never taken on another."""
    stages = [Stage.assessment, Stage.s47_enquiry, Stage.review, Stage.child_in_need]
    cases = [case_at(stage) for stage in stages for _ in range(3)]
    asked = [(case, close(at=T.reviewed + timedelta(days=1))) for case in cases]

    def ask(pair: tuple[Case, Close]) -> list[Stage]:
        case, event = pair
        return [case.check(event, T.reviewed + timedelta(days=1)) for _ in range(50)]

    with ThreadPoolExecutor(max_workers=6) as pool:
        answers = list(pool.map(ask, asked))
    assert all(a == [Stage.closed] * 50 for a in answers)
    assert len(pathway._THE_CHECKER) == 1
    for case, event in asked:
        case.apply(event, T.reviewed + timedelta(days=1))
        assert case.stage == Stage.closed
