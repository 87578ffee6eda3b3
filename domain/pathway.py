"""The pathway's stages, events and guards (pathway.md section 1) as one state machine.

The machine holds only states and transitions. Which transition an event takes is chosen by
named conditions on its outcome; whether it may be taken at all is decided by named guards
(validators) that raise `RuleBroken` with the rule's words. Both live on `PathwayRules`, the
model the machine reads, so nothing else re-implements the pathway. The machine is used as a
pure checker: `next_stage` asks it where an event leads and changes nothing.
"""

from __future__ import annotations

import threading
from functools import reduce
from operator import or_
from typing import TYPE_CHECKING, Any

from statemachine import State, StateMachine
from statemachine.callbacks import CallbackPriority
from statemachine.exceptions import TransitionNotAllowed
from statemachine.transition_list import TransitionList

from domain.errors import EventNotAllowed, RuleBroken
from domain.models import Concern, Event, Stage
from domain.policy import ClockName
from domain.roles import Role

if TYPE_CHECKING:
    from domain.case import Case


# Where an outcome of no further action closes the case (elsewhere it has no transition).
_NFA_CLOSES = {
    (Stage.assessment.value, "complete_assessment"),
    (Stage.strategy_discussion.value, "record_strategy_discussion"),
    (Stage.s47_enquiry.value, "conclude_s47"),
}


def _guard(transitions: TransitionList, *guards: str) -> None:
    """Attach named guards to every transition of an event, checked before its outcome."""
    for transition in transitions:
        transition.validators.add(list(guards), priority=CallbackPriority.INLINE)


class PathwayMachine(StateMachine):
    referral_received = State(value=Stage.referral_received.value, initial=True)
    assessment = State(value=Stage.assessment.value)
    strategy_discussion = State(value=Stage.strategy_discussion.value)
    s47_enquiry = State(value=Stage.s47_enquiry.value)
    child_in_need = State(value=Stage.child_in_need.value)
    safety_plan = State(value=Stage.safety_plan.value)
    review = State(value=Stage.review.value)
    closed = State(value=Stage.closed.value, final=True)

    _open = (
        referral_received,
        assessment,
        strategy_discussion,
        s47_enquiry,
        child_in_need,
        safety_plan,
        review,
    )

    decide = referral_received.to(assessment, cond="decision_is_assess") | referral_received.to(
        closed, cond="decision_is_nfa"
    )
    record_screening = reduce(or_, (s.to.itself(internal=True) for s in _open[1:]))
    complete_assessment = (
        assessment.to(strategy_discussion, cond="outcome_is_strategy_discussion")
        | assessment.to(child_in_need, cond="outcome_is_cin")
        | assessment.to(closed, cond="outcome_is_nfa")
    )
    record_strategy_discussion = (
        strategy_discussion.to(s47_enquiry, cond="outcome_is_s47")
        | strategy_discussion.to(child_in_need, cond="outcome_is_cin")
        | strategy_discussion.to(closed, cond="outcome_is_nfa")
        | review.to.itself(internal=True, cond="outcome_is_continue")
        | review.to(s47_enquiry, cond="outcome_is_s47")
        # A strategy meeting called outside the stage (repeated missing episodes, a
        # consultation) is recorded where the case stands, or takes it into an enquiry.
        | s47_enquiry.to.itself(internal=True, cond="outcome_is_continue")
        | child_in_need.to.itself(internal=True, cond="outcome_is_continue")
        | child_in_need.to(s47_enquiry, cond="outcome_is_s47")
        | safety_plan.to.itself(internal=True, cond="outcome_is_continue")
        | safety_plan.to(s47_enquiry, cond="outcome_is_s47")
    )
    conclude_s47 = (
        s47_enquiry.to(safety_plan, cond="outcome_calls_for_a_safety_plan")
        | s47_enquiry.to(child_in_need, cond="outcome_is_cin")
        | s47_enquiry.to(closed, cond="outcome_is_nfa")
    )
    agree_cin_plan = child_in_need.to(safety_plan)
    record_safety_plan = safety_plan.to(review)
    record_review = review.to(closed, cond="review_score_low") | review.to.itself(
        internal=True, cond="review_score_high"
    )
    refer_to_mase = reduce(or_, (s.to.itself(internal=True) for s in _open))
    record_missing_episode = reduce(or_, (s.to.itself(internal=True) for s in _open))
    record_cp_conference = reduce(or_, (s.to.itself(internal=True) for s in _open))
    record_cp_review = reduce(or_, (s.to.itself(internal=True) for s in _open))
    record_return_interview = reduce(or_, (s.to.itself(internal=True) for s in _open))
    raise_professional_concern = reduce(or_, (s.to.itself(internal=True) for s in _open))
    record_consultation = reduce(or_, (s.to.itself(internal=True) for s in _open))
    allocate = reduce(or_, (s.to.itself(internal=True) for s in _open))
    close = closed.from_(*_open)

    # The guards each event must pass, whatever transition its outcome selects.
    _guard(
        complete_assessment,
        "screening_recorded",
        "nfa_needs_score_zero",
        "rationale_for_scored_case",
    )
    _guard(
        record_strategy_discussion,
        "further_meeting_is_due",
        "complex_case_chair",
        "nfa_needs_score_zero",
    )
    _guard(conclude_s47, "nfa_needs_score_zero")
    _guard(refer_to_mase, "mase_referral_allowed")
    _guard(record_cp_conference, "initial_cp_conference_is_due")
    _guard(record_cp_review, "cp_review_is_due")
    _guard(record_return_interview, "return_interview_is_due")
    _guard(record_consultation, "consultation_is_due")


class PathwayRules:
    """The model the machine reads: the case's facts, the conditions and the named guards."""

    def __init__(self, case: Case) -> None:
        self.case = case
        self.stage: str = case.stage.value

    # -- conditions: which transition an event's outcome selects --------------------------
    def decision_is_assess(self, payload: Any) -> bool:
        return bool(payload.decision == "assess")

    def decision_is_nfa(self, payload: Any) -> bool:
        return bool(payload.decision == "nfa")

    def outcome_is_strategy_discussion(self, payload: Any) -> bool:
        return bool(payload.outcome == "strategy_discussion")

    def outcome_is_cin(self, payload: Any) -> bool:
        return bool(payload.outcome == "cin")

    def outcome_is_nfa(self, payload: Any) -> bool:
        return bool(payload.outcome == "nfa")

    def outcome_is_s47(self, payload: Any) -> bool:
        return bool(payload.outcome == "s47")

    def outcome_is_continue(self, payload: Any) -> bool:
        return bool(payload.outcome == "continue")

    def outcome_calls_for_a_safety_plan(self, payload: Any) -> bool:
        return payload.outcome in ("cp_conference", "risk_of_harm")

    def review_score_low(self, payload: Any) -> bool:
        return bool(payload.score <= 1)

    def review_score_high(self, payload: Any) -> bool:
        return bool(payload.score >= 2)

    # -- guards: each raises RuleBroken naming the rule -----------------------------------
    def screening_recorded(self, payload: Any) -> None:
        if self.case.risk_score is None:
            raise RuleBroken(
                "complete_assessment needs a CSE risk screening recorded first: the screening "
                "tool is completed as part of the initial assessment",
                rule="screening_required",
            )

    def nfa_needs_score_zero(self, payload: Any) -> None:
        if payload.outcome != "nfa" or (self.stage, payload.name) not in _NFA_CLOSES:
            return
        score = self.case.risk_score
        if score != 0:
            raise RuleBroken(
                f"no further action needs the latest screening score to be 0 (it is {score})",
                rule="nfa_needs_score_zero",
            )
        if self.case.professional_concern == Concern.high:
            raise RuleBroken(
                "no further action is refused while professional concern is high: a low score "
                "with high professional concern still needs consultation",
                rule="nfa_with_high_concern",
            )

    def rationale_for_scored_case(self, payload: Any) -> None:
        score = self.case.risk_score or 0
        if payload.outcome != "strategy_discussion" and score >= 1 and not payload.rationale:
            raise RuleBroken(
                f"with a screening score of {score}, completing the assessment as "
                f"{payload.outcome} instead of a strategy discussion needs a written rationale: "
                "a score of 1-3 necessitates consideration of a strategy meeting",
                rule="rationale_required",
            )

    def complex_case_chair(self, payload: Any) -> None:
        if self.case.complex and payload.chair_role != Role.specialist_safeguarding_lead:
            raise RuleBroken(
                "a complex case's strategy discussion must be chaired by a specialist "
                "safeguarding lead",
                rule="complex_case_chair",
            )

    def further_meeting_is_due(self, payload: Any) -> None:
        if self.stage == Stage.strategy_discussion:
            return
        due = self.case.running(ClockName.further_strategy_meeting) or self.case.running(
            ClockName.strategy_discussion
        )
        if not due:
            raise RuleBroken(
                "outside the strategy discussion stage a strategy meeting is recorded only when "
                "one is due: after a review scoring 2-3 has opened the further strategy meeting "
                "clock, or when repeated missing episodes or a consultation have called one",
                rule="further_strategy_meeting_not_due",
            )

    def mase_referral_allowed(self, payload: Any) -> None:
        case = self.case
        if case.mase.referred:
            raise RuleBroken("the case is already referred to MASE", rule="mase_already_referred")
        if not case.strategy_discussions:
            raise RuleBroken(
                "a case referred to MASE must have had a strategy discussion",
                rule="mase_needs_strategy_discussion",
            )
        if not (payload.cris_number or case.cris_number):
            raise RuleBroken(
                "a case referred to MASE must have a police CSE CRIS number",
                rule="mase_needs_cris_number",
            )
        if case.risk_score is None or not 1 <= case.risk_score <= 3:
            raise RuleBroken(
                f"a case referred to MASE must have a latest screening score of 1-3 "
                f"(it is {case.risk_score})",
                rule="mase_needs_score",
            )

    def initial_cp_conference_is_due(self, payload: Any) -> None:
        self._clock_is_running(
            ClockName.initial_cp_conference, "initial child protection conference"
        )

    def cp_review_is_due(self, payload: Any) -> None:
        self._clock_is_running(ClockName.cp_review_conference, "child protection review conference")

    def return_interview_is_due(self, payload: Any) -> None:
        self._clock_is_running(ClockName.return_home_interview, "return home interview")

    def consultation_is_due(self, payload: Any) -> None:
        self._clock_is_running(ClockName.consultation, "consultation")

    def _clock_is_running(self, clock: ClockName, words: str) -> None:
        if not self.case.running(clock):
            raise RuleBroken(f"no {words} is due for this case", rule=f"no_{clock.value}_due")


class PathwayChecker:
    """A machine that answers where an event takes a case, for one case after another:
    building a machine costs about 4 ms (it resolves every callback name), asking it far
    less. Each question starts from the asking case's own stage; a question that took it to
    the final stage stops its engine, which the next question starts again."""

    def __init__(self, case: Case) -> None:
        self.case = case
        self._build()

    def _build(self) -> None:
        self.rules = PathwayRules(self.case)
        self.machine = PathwayMachine(model=self.rules, state_field="stage")

    def _reopen(self) -> None:
        """A question that led to the final stage stops the machine's engine; the next one
        starts it again (the stage itself is set from the case before each question), rather
        than paying ~4 ms to build another machine after every closed case. python-statemachine
        is pinned below 4, and the pathway tests run questions across closings."""
        self.machine._engine.running = True

    def next_stage(self, event: Event) -> Stage:
        """Where `event` takes the case; raises a PathwayRefusal and changes nothing if not."""
        if self.machine.is_terminated:
            self._reopen()
        self.rules.case = self.case
        self.rules.stage = self.case.stage.value
        try:
            self.machine.send(event.name, payload=event)
        except TransitionNotAllowed:
            raise EventNotAllowed(_not_allowed_message(self.case.stage, event)) from None
        return Stage(self.rules.stage)


_PER_THREAD = threading.local()


def next_stage(case: Case, event: Event) -> Stage:
    """Where `event` takes `case`; raises a PathwayRefusal and changes nothing if it may not.

    One machine per thread serves every case (a worker runs many cases, and a case's first
    question would otherwise pay for building one): a question is asked and answered with
    nothing awaited in between, so no other case ever sees the machine mid-question."""
    checker: PathwayChecker | None = getattr(_PER_THREAD, "checker", None)
    if checker is None:
        checker = _PER_THREAD.checker = PathwayChecker(case)
    checker.case = case
    return checker.next_stage(event)


def mase_blocker(case: Case) -> str | None:
    """Why an open case scoring 1-3 is not yet at the MASE panel; None when nothing blocks."""
    if case.is_closed or case.mase.referred:
        return None
    try:
        PathwayRules(case).mase_referral_allowed(_NO_CRIS_GIVEN)
    except RuleBroken as refusal:
        return refusal.message
    return "not yet referred"


class _NoCrisGiven:
    cris_number = ""


_NO_CRIS_GIVEN = _NoCrisGiven()


def _not_allowed_message(stage: Stage, event: Event) -> str:
    if stage == Stage.closed:
        return f"{event.name} is refused: the case is closed"
    outcome = getattr(event, "outcome", None) or getattr(event, "decision", None)
    with_outcome = f" with outcome {outcome}" if outcome else ""
    return f"{event.name}{with_outcome} is not allowed while the case is in stage {stage.value}"
