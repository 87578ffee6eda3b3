"""The pathway (pathway.md section 1) as one state machine: the single source of its events.

Each event is declared here once: its transitions (which stage it leads to, chosen by named
conditions on its outcome), the guards it must pass (named validators raising `RuleBroken`
with the rule's words) and its effect on the case's facts (a named action); stages open and
close their own clocks on entry and exit. Conditions and guards live in domain/rules.py,
actions in domain/effects.py, both on the model the machine reads (`CaseOnPathway`); the
machine's construction fails if any named callback is missing, and this module's import fails
if the machine's events and the contract's payloads (`EVENT_TYPES`) differ.

The machine serves two questions: `next_stage` asks where an event leads and changes nothing
(the update validator's question), `record` takes the event and applies its effects.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from functools import reduce
from operator import or_
from typing import TYPE_CHECKING

from statemachine import State, StateMachine
from statemachine.callbacks import CallbackPriority
from statemachine.exceptions import TransitionNotAllowed
from statemachine.transition_list import TransitionList

from domain.effects import EventEffects
from domain.errors import EventNotAllowed, RuleBroken
from domain.events import EVENT_TYPES, Event
from domain.notifications import Notification
from domain.rules import PathwayRules
from domain.vocabulary import Stage

if TYPE_CHECKING:
    from domain.case import Case


def _wire(transitions: TransitionList, *guards: str, effect: str) -> None:
    """An event's guards, checked in order before its outcome selects a transition, and its
    effect on the case, run before the stage it leaves is left."""
    for transition in transitions:
        transition.validators.add(list(guards), priority=CallbackPriority.INLINE)
        transition.before.add(effect, priority=CallbackPriority.INLINE)
        transition.before.add("only_asking", priority=CallbackPriority.GENERIC)


_CLOSINGS_ON_NO_FURTHER_ACTION: list[TransitionList] = []


def _no_further_action(source: State, closed: State) -> TransitionList:
    """An outcome of no further action that closes the case (its guard asks where these are)."""
    closing: TransitionList = source.to(closed, cond="outcome_is_nfa")
    _CLOSINGS_ON_NO_FURTHER_ACTION.append(closing)
    return closing


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
        | _no_further_action(assessment, closed)
    )
    record_strategy_discussion = (
        strategy_discussion.to(s47_enquiry, cond="outcome_is_s47")
        | strategy_discussion.to(child_in_need, cond="outcome_is_cin")
        | _no_further_action(strategy_discussion, closed)
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
        | _no_further_action(s47_enquiry, closed)
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

    record_disruption_activity = reduce(or_, (s.to.itself(internal=True) for s in _open))

    # Every event: the guards it must pass whatever transition its outcome selects, in the
    # order they are checked, and its effect (domain/effects.py).
    _wire(decide, effect="apply_decide")
    _wire(record_screening, effect="apply_record_screening")
    _wire(
        complete_assessment,
        "screening_recorded",
        "nfa_needs_score_zero",
        "rationale_for_scored_case",
        effect="apply_complete_assessment",
    )
    _wire(
        record_strategy_discussion,
        "further_meeting_is_due",
        "complex_case_chair",
        "nfa_needs_score_zero",
        effect="apply_record_strategy_discussion",
    )
    _wire(conclude_s47, "nfa_needs_score_zero", effect="apply_conclude_s47")
    _wire(agree_cin_plan, effect="apply_agree_cin_plan")
    _wire(record_safety_plan, effect="apply_record_safety_plan")
    _wire(record_review, effect="apply_record_review")
    _wire(refer_to_mase, "mase_referral_allowed", effect="apply_refer_to_mase")
    _wire(record_missing_episode, effect="apply_record_missing_episode")
    _wire(record_cp_conference, "initial_cp_conference_is_due", effect="apply_record_cp_conference")
    _wire(record_cp_review, "cp_review_is_due", effect="apply_record_cp_review")
    _wire(
        record_return_interview, "return_interview_is_due", effect="apply_record_return_interview"
    )
    _wire(raise_professional_concern, effect="apply_raise_professional_concern")
    _wire(record_consultation, "consultation_is_due", effect="apply_record_consultation")
    _wire(record_disruption_activity, effect="apply_record_disruption_activity")
    _wire(allocate, effect="apply_allocate")
    _wire(close, effect="apply_close")


class _OnlyAsked(Exception):  # a control signal, not an error
    """Raised by the machine's first action when it was only asked where an event leads."""

    def __init__(self, target: str) -> None:
        self.target = target


class CaseOnPathway(PathwayRules, EventEffects):
    """The model the machine reads and acts on: one case (the stage is the case's own), its
    conditions and guards (PathwayRules) and its effects (EventEffects)."""

    def __init__(self, case: Case) -> None:
        self.case = case
        self.recording = False
        self.notices: list[Notification] = []

    @property
    def stage(self) -> str:
        return self.case.stage.value

    @stage.setter
    def stage(self, value: str) -> None:
        self.case.stage = Stage(value)

    def only_asking(self, target: State) -> None:
        """Every transition's first action: a question ends here, with its answer, before
        any effect has run (guards and conditions have passed by now)."""
        if not self.recording:
            raise _OnlyAsked(target.value)


def _closes_on_no_further_action() -> frozenset[tuple[str, str]]:
    return frozenset(
        (transition.source.value, event.id)
        for closing in _CLOSINGS_ON_NO_FURTHER_ACTION
        for transition in closing
        for event in transition.events
    )


CaseOnPathway.closes_on_no_further_action = _closes_on_no_further_action()


class PathwayChecker:
    """One machine answering for case after case: building one costs about 4 ms (it resolves
    every callback name), asking it far less. Each question starts from the asking case's own
    stage; a question that took it to the final stage stops its engine, which the next question
    starts again."""

    def __init__(self, case: Case) -> None:
        self.model = CaseOnPathway(case)
        self.machine = PathwayMachine(model=self.model, state_field="stage")

    def _reopen(self) -> None:
        """A question that led to the final stage stops the machine's engine; the next one
        starts it again (the stage itself is read from the case), rather than paying ~4 ms to
        build another machine after every closed case. python-statemachine is pinned below 4,
        and the pathway tests run questions across closings."""
        self.machine._engine.running = True

    def next_stage(self, case: Case, event: Event) -> Stage:
        """Where `event` takes `case`; raises a PathwayRefusal and changes nothing if not."""
        try:
            self._send(case, event, recording=False)
        except _OnlyAsked as answer:
            return Stage(answer.target)
        raise AssertionError("a question reached the effects")  # pragma: no cover

    def record(self, case: Case, event: Event) -> list[Notification]:
        """Take `event`: check it as `next_stage` does, then run its effects; returns the
        notifications they raised. A refused event changes nothing."""
        self._send(case, event, recording=True)
        return self.model.notices

    def _send(self, case: Case, event: Event, recording: bool) -> None:
        if self.machine.is_terminated:
            self._reopen()
        self.model.case, self.model.recording, self.model.notices = case, recording, []
        try:
            self.machine.send(event.name, payload=event)
        except TransitionNotAllowed:
            raise EventNotAllowed(_not_allowed_message(case.stage, event)) from None


_PER_THREAD = threading.local()


def _checker(case: Case) -> PathwayChecker:
    """One machine per thread serves every case (a worker runs many cases, and a case's first
    question would otherwise pay for building one): a question is asked and answered with
    nothing awaited in between, so no other case ever sees the machine mid-question."""
    checker: PathwayChecker | None = getattr(_PER_THREAD, "checker", None)
    if checker is None:
        checker = _PER_THREAD.checker = PathwayChecker(case)
    return checker


def next_stage(case: Case, event: Event) -> Stage:
    """Where `event` takes `case`; raises a PathwayRefusal and changes nothing if it may not."""
    return _checker(case).next_stage(case, event)


def record(case: Case, event: Event) -> list[Notification]:
    """Record `event` on `case` (its stage, facts and clocks); raises a PathwayRefusal and
    changes nothing if it may not be recorded."""
    return _checker(case).record(case, event)


def events_allowed_in(stage: Stage) -> list[str]:
    """The events that have a transition from `stage`, in the machine's order (their guards
    may still refuse them for a particular case)."""
    state = next(s for s in PathwayMachine.states if s.value == stage.value)
    return list(dict.fromkeys(e.id for t in state.transitions for e in t.events))


@dataclass(frozen=True)
class Move:
    """A transition from one stage to another, as the machine declares it."""

    source: Stage
    target: Stage
    event: str
    condition: str | None  # the condition on the event's outcome that selects it, if any


def moves() -> list[Move]:
    """Every move between two stages, in the machine's order."""
    return [
        Move(Stage(state.value), Stage(t.target.value), e.id, next(map(str, t.cond), None))
        for state in PathwayMachine.states
        for t in state.transitions
        if t.target is not state
        for e in t.events
    ]


def stages() -> list[tuple[Stage, str]]:
    """Every stage and its name, in the order the machine declares them."""
    return [(Stage(s.value), str(s.name)) for s in PathwayMachine.states]


def mase_blocker(case: Case) -> str | None:
    """Why an open case scoring 1-3 is not yet at the MASE panel; None when nothing blocks."""
    if case.is_closed or case.mase.referred:
        return None
    try:
        CaseOnPathway(case).mase_referral_allowed(_NO_CRIS_GIVEN)
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


def machine_events() -> set[str]:
    """The events the machine declares."""
    return {e.id for s in PathwayMachine.states for t in s.transitions for e in t.events}


if machine_events() != set(EVENT_TYPES):
    raise TypeError(  # a mis-wired pathway fails at import, before any case can reach it
        "the pathway machine's events and the contract's payloads differ: "
        f"{sorted(machine_events() ^ set(EVENT_TYPES))}"
    )
