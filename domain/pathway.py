"""The pathway (docs/rules.md, Stages) as one statechart: the single source of its events.

Practice does not move in one line, so the case's open life is a parallel state with three
regions, each a track that runs beside the others:

- `line`: where the case stands on the pathway, the contract's `stage` (referral, assessment,
  strategy discussion, section 47 enquiry or child in need, safety plan, CSE risk reviews,
  and `cp_plan` once the reviews have ended while a child protection plan is in force);
- `assessment_track`: the referral's assessment, which runs to its end even when the case
  moves on into a section 47 enquiry (enquiries are carried out through the assessment);
- `plan_track`: child protection conferences and the plan, in force from the initial
  conference to the review conference that ends it, whatever the line does meanwhile.

One event may move several tracks at once (`decide(assess)` enters the assessment stage and
starts the assessment); `closed`, outside the regions, ends them all. Each event is declared
here once: its transitions (chosen by named conditions on its outcome), the guards it must
pass (named validators raising `RuleBroken` with the rule's words) and its effect on the
case's facts (run once however many tracks it moves); states open and close their own
clocks on entry and exit. Conditions and guards live in domain/rules.py, effects in
domain/effects.py, both on the model the machine reads (`CaseOnPathway`); a missing one fails
this module's import, as does a difference between the machine's events and `EVENT_TYPES`.

The machine serves two questions: `next_stage` asks where an event leads and changes nothing
(the update validator's question), `record` takes the event and applies its effects.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from functools import reduce
from itertools import chain
from operator import or_
from typing import TYPE_CHECKING, Any

from statemachine import State, StateMachine
from statemachine.callbacks import CallbackPriority
from statemachine.engines.sync import SyncEngine
from statemachine.event_data import TriggerData
from statemachine.exceptions import TransitionNotAllowed
from statemachine.orderedset import OrderedSet
from statemachine.transition import Transition
from statemachine.transition_list import TransitionList

from domain.effects import EventEffects
from domain.errors import EventNotAllowed, RuleBroken
from domain.events import EVENT_TYPES, Event
from domain.notifications import Notification
from domain.policy import ClockName
from domain.rules import PathwayRules
from domain.vocabulary import Stage

if TYPE_CHECKING:
    from domain.case import Case

OPEN, LINE = "open", "line"
ASSESSMENT_TRACK, PLAN_TRACK = "assessment_track", "plan_track"
TRACKS = (ASSESSMENT_TRACK, PLAN_TRACK)
"""The regions beside the line, in the order the machine declares them."""

_EFFECTS: list[str] = []
"""Every effect the machine names (each a method of its model), checked at import."""


def _wire(transitions: TransitionList, *guards: str, effect: str) -> None:
    """An event's guards, checked in order before its outcome selects a transition, and its
    effect on the case, run once before any state it leaves is left."""
    take = _taking(effect)
    for transition in transitions:
        transition.validators.add(list(guards), priority=CallbackPriority.INLINE)
        transition.before.add(take, priority=CallbackPriority.INLINE)
    _EFFECTS.append(effect)


def _taking(effect: str) -> Callable[[CaseOnPathway, Event], None]:
    def take_effect(model: CaseOnPathway, payload: Event) -> None:
        model.take_effect(effect, payload)

    take_effect.__name__ = effect
    return take_effect


_CLOSINGS_ON_NO_FURTHER_ACTION: list[TransitionList] = []


def _no_further_action(source: State, closed: State) -> TransitionList:
    """An outcome of no further action that closes the case (its guard asks where these are)."""
    closing: TransitionList = source.to(closed, cond="outcome_is_nfa")
    _CLOSINGS_ON_NO_FURTHER_ACTION.append(closing)
    return closing


def _stays(states: Iterable[State], **kwargs: Any) -> TransitionList:
    """The event is taken where the case stands, moving nothing on this track."""
    stays: TransitionList = reduce(or_, (s.to(None, **kwargs) for s in states))
    return stays


class _PathwayEngine(SyncEngine):
    """The library's engine, selecting transitions the way it does but faster for this
    machine. A question is answered by the selection alone (`selection`), without sending
    the event; a recording can take the selection the question just made (`preselected`),
    so an event asked about and then recorded passes its guards once.

    - The pathway has no eventless transitions (checked at import), so the engine's scan for
      them before and after every event, about a tenth of a send, is skipped.
    - An event's transitions out of each state are looked up, not matched one by one.

    It overrides two of the engine's methods (python-statemachine is pinned below 4); the
    pathway tests run every transition through them."""

    preselected: OrderedSet[Transition] | None = None

    def select_eventless_transitions(self, trigger_data: TriggerData) -> OrderedSet[Transition]:
        return OrderedSet()

    def select_transitions(self, trigger_data: TriggerData) -> OrderedSet[Transition]:
        if self.preselected is not None:
            selected, self.preselected = self.preselected, None
        else:
            selected = self._filter_conflicting_transitions(self._enabled(trigger_data))
        return selected

    def selection(self, event: Event) -> OrderedSet[Transition]:
        """The transitions `event` would take from the current configuration, as
        `select_transitions` selects them when it is sent; raises what a guard raises."""
        trigger = getattr(self.sm, event.name).build_trigger(machine=self.sm, payload=event)
        self.clear_cache()
        return self.select_transitions(trigger)

    def _enabled(self, trigger_data: TriggerData) -> OrderedSet[Transition]:
        """For each active leaf state, the first transition of the event out of it or its
        ancestors whose guards and conditions pass, as the library selects them."""
        event = str(trigger_data.event)
        enabled = OrderedSet[Transition]()
        for state in self.sm.configuration:
            if state.is_atomic:
                for transition in _transitions_of(state, event):
                    if self._conditions_match(transition, trigger_data):
                        enabled.add(transition)
                        break
        return enabled


def _transitions_of(state: State, event: str) -> list[Transition]:
    return _BY_STATE_AND_EVENT.get((state.id, event), [])


class PathwayMachine(StateMachine):
    class open(State.Parallel):  # the state's id, as the diagram shows it
        class line(State.Compound):
            referral_received = State(initial=True)
            assessment = State()
            strategy_discussion = State()
            s47_enquiry = State()
            child_in_need = State()
            safety_plan = State()
            review = State()
            cp_plan = State()

        class assessment_track(State.Compound):
            assessment_not_started = State(initial=True)
            assessing = State()
            assessed = State()

        class plan_track(State.Compound):
            no_plan = State(initial=True)
            conference_due = State()
            plan_in_force = State()
            plan_ended = State()

    closed = State(final=True)

    _line = (
        open.line.referral_received,
        open.line.assessment,
        open.line.strategy_discussion,
        open.line.s47_enquiry,
        open.line.child_in_need,
        open.line.safety_plan,
        open.line.review,
        open.line.cp_plan,
    )

    decide = (
        open.line.referral_received.to(open.line.assessment, cond="decision_opens_assessment")
        | open.line.referral_received.to(closed, cond="decision_is_nfa")
        | open.assessment_track.assessment_not_started.to(
            open.assessment_track.assessing, cond="decision_opens_assessment"
        )
    )
    record_screening = open.line.cp_plan.to(open.line.review, cond="screening_score_high") | _stays(
        _line[1:]
    )
    complete_assessment = (
        open.line.assessment.to(
            open.line.strategy_discussion, cond="outcome_is_strategy_discussion"
        )
        | open.line.assessment.to(open.line.child_in_need, cond="outcome_is_cin")
        | _no_further_action(open.line.assessment, closed)
        # Accepted wherever the case has moved on to while the assessment runs (docs/rules.md,
        # Stages).
        | open.assessment_track.assessing.to(open.assessment_track.assessed)
    )
    record_strategy_discussion = (
        open.line.strategy_discussion.to(open.line.s47_enquiry, cond="outcome_is_s47")
        | open.line.strategy_discussion.to(open.line.child_in_need, cond="outcome_is_cin")
        | _no_further_action(open.line.strategy_discussion, closed)
        # Held as soon as harm is suspected, while the assessment runs (docs/rules.md, Stages).
        | open.line.assessment.to(open.line.s47_enquiry, cond="outcome_is_s47")
        | open.line.assessment.to(None, cond="outcome_is_cin_or_nfa")
        | open.line.review.to(None, cond="outcome_is_continue")
        | open.line.review.to(open.line.s47_enquiry, cond="outcome_is_s47")
        # A strategy meeting called outside the stage (repeated missing episodes, a
        # consultation) is recorded where the case stands, or takes it into an enquiry.
        | open.line.s47_enquiry.to(None, cond="outcome_is_continue")
        | open.line.child_in_need.to(None, cond="outcome_is_continue")
        | open.line.child_in_need.to(open.line.s47_enquiry, cond="outcome_is_s47")
        | open.line.safety_plan.to(None, cond="outcome_is_continue")
        | open.line.safety_plan.to(open.line.s47_enquiry, cond="outcome_is_s47")
        | open.line.cp_plan.to(None, cond="outcome_is_continue")
        | open.line.cp_plan.to(open.line.s47_enquiry, cond="outcome_is_s47")
    )
    conclude_s47 = (
        open.line.s47_enquiry.to(open.line.safety_plan, cond="outcome_calls_for_a_safety_plan")
        | open.line.s47_enquiry.to(open.line.child_in_need, cond="outcome_is_cin")
        | _no_further_action(open.line.s47_enquiry, closed)
        | open.plan_track.no_plan.to(
            open.plan_track.conference_due,
            cond=["concluding_an_enquiry", "outcome_is_cp_conference"],
        )
        | open.plan_track.plan_ended.to(
            open.plan_track.conference_due,
            cond=["concluding_an_enquiry", "outcome_is_cp_conference"],
        )
    )
    agree_cin_plan = open.line.child_in_need.to(open.line.safety_plan)
    record_safety_plan = open.line.safety_plan.to(open.line.review)
    record_review = (
        open.line.review.to(closed, cond="review_score_low", unless="plan_keeps_case_open")
        | open.line.review.to(open.line.cp_plan, cond=["review_score_low", "plan_keeps_case_open"])
        | open.line.review.to(None, cond="review_score_high")
    )
    record_cp_conference = _stays(_line) | (
        open.plan_track.conference_due.to(open.plan_track.plan_in_force, cond="outcome_is_cp_plan")
        | open.plan_track.conference_due.to(open.plan_track.no_plan, cond="outcome_is_no_plan")
    )
    record_cp_review = (
        open.line.cp_plan.to(closed, cond="outcome_is_end_plan")
        | _stays(_line)
        | open.plan_track.plan_in_force.to(open.plan_track.plan_ended, cond="outcome_is_end_plan")
        | open.plan_track.plan_in_force.to(None, cond="outcome_is_continue_plan")
    )
    refer_to_mase = _stays(_line)
    record_missing_episode = _stays(_line)
    record_return_interview = _stays(_line)
    raise_professional_concern = _stays(_line)
    record_consultation = _stays(_line)
    allocate = _stays(_line)
    close = closed.from_(*_line)
    record_disruption_activity = _stays(_line)
    record_mase_decision = _stays(_line)
    complete_mase_action = _stays(_line)
    record_transition_plan = _stays(_line)

    # Every event: the guards it must pass whatever transitions its outcome selects, in the
    # order they are checked, and its effect (domain/effects.py).
    _wire(decide, effect="apply_decide")
    _wire(record_screening, effect="apply_record_screening")
    _wire(
        complete_assessment,
        "screening_recorded",
        "nfa_needs_score_zero",
        "plan_keeps_case_open_on_nfa",
        "rationale_for_scored_case",
        effect="apply_complete_assessment",
    )
    _wire(
        record_strategy_discussion,
        "further_meeting_is_due",
        "complex_case_chair",
        "nfa_needs_score_zero",
        "plan_keeps_case_open_on_nfa",
        effect="apply_record_strategy_discussion",
    )
    _wire(
        conclude_s47,
        "nfa_needs_score_zero",
        "plan_keeps_case_open_on_nfa",
        effect="apply_conclude_s47",
    )
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
    _wire(close, "plan_keeps_case_open_on_close", effect="apply_close")
    _wire(record_mase_decision, "referred_to_mase", effect="apply_record_mase_decision")
    _wire(complete_mase_action, "mase_action_is_open", effect="apply_complete_mase_action")
    _wire(
        record_transition_plan,
        "transition_plan_is_due",
        effect="apply_record_transition_plan",
    )

    def _get_engine(self) -> SyncEngine:
        return _PathwayEngine(self)


_OPEN: State = PathwayMachine.open  # type: ignore[assignment]  # a State once built


def _transitions_by_state_and_event() -> dict[tuple[str, str], list[Transition]]:
    """Each leaf state's transitions for each event, its own before its ancestors', in the
    order the library tries them."""
    events = {
        e.id for s in PathwayMachine.states_map.values() for t in s.transitions for e in t.events
    }
    return {
        (leaf.id, event): [
            t
            for s in chain([leaf], leaf.ancestors())
            for t in s.transitions
            if not t.initial and t.match(event)
        ]
        for leaf in PathwayMachine.states_map.values()
        if leaf.is_atomic
        for event in events
    }


_BY_STATE_AND_EVENT = _transitions_by_state_and_event()
if any(
    t.is_eventless and not t.initial
    for s in PathwayMachine.states_map.values()
    for t in s.transitions
):
    raise TypeError("the pathway engine skips eventless transitions, yet the machine has one")
_LINE: State = PathwayMachine.open.line  # type: ignore[assignment]
_LINE_STAGES = frozenset(s.value for s in PathwayMachine._line) | {Stage.closed.value}
_TRACK_STATES = {region.id: [s.id for s in region.states] for region in _OPEN.states}


def _line_target(transitions: Iterable[Transition]) -> Stage | None:
    """The stage a selection moves the case to, if it moves the line."""
    targets = (t.target.value for t in transitions if t.target is not None)
    return next((Stage(v) for v in targets if v in _LINE_STAGES), None)


class CaseOnPathway(PathwayRules, EventEffects):
    """The model the machine reads and acts on: one case, where it is on each track
    (`position`, the machine's active states), its conditions and guards (PathwayRules) and
    its effects (EventEffects). `plan_rule` says whether a plan in force keeps the case open
    (contract v3); only a case recorded before it was asked says no (domain/case.py)."""

    def __init__(self, case: Case) -> None:
        self.case = case
        self.position: Any = position_of(case)
        self.plan_rule = True
        self.notices: list[Notification] = []
        self.effect_taken = False

    def take_effect(self, effect: str, payload: Event) -> None:
        """The event's effect, once, however many tracks the event moves."""
        if not self.effect_taken:
            self.effect_taken = True
            getattr(self, effect)(payload)


def position_of(case: Case) -> OrderedSet[str]:
    """The machine's active states for `case`: its stage on the line and its tracks."""
    if case.stage == Stage.closed:
        return OrderedSet([Stage.closed.value])
    tracks = current_tracks(case)
    return OrderedSet([OPEN, LINE, case.stage.value, *(x for t in TRACKS for x in (t, tracks[t]))])


INITIAL_TRACKS = {ASSESSMENT_TRACK: "assessment_not_started", PLAN_TRACK: "no_plan"}


def current_tracks(case: Case) -> dict[str, str]:
    return case.tracks or tracks_of_a_case_recorded_before_them(case)


def tracks_of_a_case_recorded_before_them(case: Case) -> dict[str, str]:
    """Where a case carried over from before the tracks stands on each: read from its stage
    and its clocks, as the single line kept them."""
    if case.stage == Stage.referral_received:
        assessment = "assessment_not_started"
    else:
        assessment = "assessing" if case.running(ClockName.assessment) else "assessed"
    if case.running(ClockName.cp_review_conference):
        plan = "plan_in_force"
    elif case.running(ClockName.initial_cp_conference):
        plan = "conference_due"
    elif any(c.name == ClockName.cp_review_conference for c in case.clocks):
        plan = "plan_ended"
    else:
        plan = "no_plan"
    return {ASSESSMENT_TRACK: assessment, PLAN_TRACK: plan}


def _settle(case: Case, position: OrderedSet[str] | str) -> None:
    """Write the machine's active states back onto the case: its stage and its tracks."""
    active = set(position) if isinstance(position, OrderedSet) else {position}
    if Stage.closed.value in active:
        case.stage = Stage.closed
        return
    case.stage = Stage(next(iter(active & _LINE_STAGES)))
    case.tracks = {t: next(s for s in _TRACK_STATES[t] if s in active) for t in TRACKS}


def _closes_on_no_further_action() -> frozenset[tuple[str, str]]:
    return frozenset(
        (transition.source.value, event.id)
        for closing in _CLOSINGS_ON_NO_FURTHER_ACTION
        for transition in closing
        for event in transition.events
    )


CaseOnPathway.closes_on_no_further_action = _closes_on_no_further_action()


@dataclass(frozen=True)
class _Answer:
    """The transitions a question selected for one event on one case, with the facts its
    guards and conditions read as they were then."""

    case: Case
    event: Event
    plan_rule: bool
    facts: tuple[object, ...]
    transitions: OrderedSet[Transition]

    def answers(self, case: Case, event: Event, plan_rule: bool) -> bool:
        return (
            case is self.case
            and plan_rule == self.plan_rule
            and event == self.event
            and _facts(case) == self.facts
        )


def _facts(case: Case) -> tuple[object, ...]:
    """What the machine's guards and conditions read of a case. Facts change only when an
    event is recorded, which lengthens the history; the rest is a cheap second check."""
    return (
        len(case.history),
        case.clock_count,
        case.stage,
        tuple(case.tracks.items()),
        case.risk_score,
        case.professional_concern,
        case.complex,
        case.mase.referred,
        case.cris_number,
        len(case.strategy_discussions),
        tuple(c.running for c in case.clocks),
    )


class PathwayChecker:
    """One machine answering for case after case: building one costs a few ms and about
    600 KiB (it resolves every callback name), asking it far less. Each question starts from
    the asking case's own position; a question that took it to the final state stops its
    engine, which the next question starts again. The answer a question leaves for the
    recording that follows is kept per thread: an update's validator and handler run on the
    same thread, with no other case's question between them on it."""

    def __init__(self, case: Case) -> None:
        self.model = CaseOnPathway(case)
        self.machine = PathwayMachine(model=self.model, state_field="position")
        self.engine: _PathwayEngine = self.machine._engine
        self._answers = threading.local()

    @property
    def answered(self) -> _Answer | None:
        answer: _Answer | None = getattr(self._answers, "answer", None)
        return answer

    @answered.setter
    def answered(self, answer: _Answer | None) -> None:
        self._answers.answer = answer

    def _reopen(self) -> None:
        """A question that led to the final state stops the machine's engine; the next one
        starts it again (the position itself is read from the case), rather than paying to
        build another machine after every closed case. python-statemachine is pinned below 4,
        and the pathway tests run questions across closings."""
        self.machine._engine.running = True

    def next_stage(self, case: Case, event: Event, plan_rule: bool) -> Stage:
        """Where `event` takes `case`; raises a PathwayRefusal and changes nothing if not."""
        self._place(case, plan_rule)
        transitions = self.engine.selection(event)
        if not transitions:
            raise EventNotAllowed(_not_allowed_message(case, event))
        self.answered = _Answer(case, event, plan_rule, _facts(case), transitions)
        return _line_target(transitions) or case.stage

    def record(self, case: Case, event: Event, plan_rule: bool) -> list[Notification]:
        """Take `event`: check it as `next_stage` does, then run its effects; returns the
        notifications they raised. A refused event changes nothing. Asked about just before,
        with nothing recorded in between (the update's validator, then its handler), the
        event is taken as the question selected it, without passing its guards again."""
        answered, self.answered = self.answered, None
        if answered is not None and answered.answers(case, event, plan_rule):
            self.engine.preselected = answered.transitions
        if self.machine.is_terminated:
            self._reopen()
        self._place(case, plan_rule)
        try:
            self.machine.send(event.name, payload=event)
        except TransitionNotAllowed:
            raise EventNotAllowed(_not_allowed_message(case, event)) from None
        finally:
            self.engine.preselected = None
        _settle(case, self.model.position)
        return self.model.notices

    def _place(self, case: Case, plan_rule: bool) -> None:
        """Put the machine where `case` is, with nothing of the case asked before."""
        model = self.model
        model.case, model.position = case, position_of(case)
        model.plan_rule, model.notices, model.effect_taken = plan_rule, [], False


_THE_CHECKER: list[PathwayChecker] = []
_ONE_AT_A_TIME = threading.RLock()
"""One machine serves every case on every thread of a worker: a question is asked and
answered with nothing awaited in between, under this lock, so no other case ever sees the
machine mid-question. The interpreter runs one thread's Python at a time anyway, so the
lock costs little; a machine per workflow thread (up to 100) cost about 600 KiB each."""


def _checker(case: Case) -> PathwayChecker:
    if not _THE_CHECKER:
        _THE_CHECKER.append(PathwayChecker(case))
    return _THE_CHECKER[0]


def next_stage(case: Case, event: Event, plan_rule: bool = True) -> Stage:
    """Where `event` takes `case`; raises a PathwayRefusal and changes nothing if it may not."""
    with _ONE_AT_A_TIME:
        return _checker(case).next_stage(case, event, plan_rule)


def record(case: Case, event: Event, plan_rule: bool = True) -> list[Notification]:
    """Record `event` on `case` (its stage, tracks, facts and clocks); raises a PathwayRefusal
    and changes nothing if it may not be recorded."""
    with _ONE_AT_A_TIME:
        return _checker(case).record(case, event, plan_rule)


def events_allowed_in(stage: Stage, tracks: Mapping[str, str] | None = None) -> list[str]:
    """The events that have a transition from `stage` or from where the case is on its
    tracks, in the machine's order (their guards may still refuse them for a case)."""
    active = {stage.value, *(tracks or {}).values()}
    states = [s for s in PathwayMachine.states_map.values() if s.value in active]
    return list(dict.fromkeys(e.id for s in states for t in s.transitions for e in t.events))


@dataclass(frozen=True)
class Move:
    """A transition from one stage to another, as the machine declares it."""

    source: Stage
    target: Stage
    event: str
    condition: str | None  # the condition on the event's outcome that selects it, if any


def moves() -> list[Move]:
    """Every move between two stages of the line, in the machine's order."""
    return [
        Move(Stage(state.value), Stage(t.target.value), e.id, next(map(str, t.cond), None))
        for state in _line_states()
        for t in state.transitions
        if t.target is not None and t.target is not state
        for e in t.events
    ]


def stages() -> list[tuple[Stage, str]]:
    """Every stage and its name, in the order the machine declares them."""
    return [(Stage(s.value), str(s.name)) for s in _line_states()]


@dataclass(frozen=True)
class Track:
    """A region beside the line: its id, name and states (id, name), in declared order."""

    id: str
    name: str
    states: list[tuple[str, str]]


def tracks() -> list[Track]:
    """The tracks that run beside the line."""
    regions = [r for r in _OPEN.states if r.id in TRACKS]
    return [Track(r.id, str(r.name), [(s.id, str(s.name)) for s in r.states]) for r in regions]


def _line_states() -> list[State]:
    return [*_LINE.states, PathwayMachine.closed]


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


def _not_allowed_message(case: Case, event: Event) -> str:
    stage = case.stage
    if stage == Stage.closed:
        return f"{event.name} is refused: the case is closed"
    if event.name == "complete_assessment":
        return (
            f"complete_assessment is not allowed while the case is in stage {stage.value}: "
            "its assessment is not running"
        )
    outcome = getattr(event, "outcome", None) or getattr(event, "decision", None)
    with_outcome = f" with outcome {outcome}" if outcome else ""
    return f"{event.name}{with_outcome} is not allowed while the case is in stage {stage.value}"


def machine_events() -> set[str]:
    """The events the machine declares."""
    return {
        e.id for s in PathwayMachine.states_map.values() for t in s.transitions for e in t.events
    }


if machine_events() != set(EVENT_TYPES):
    raise TypeError(  # a mis-wired pathway fails at import, before any case can reach it
        "the pathway machine's events and the contract's payloads differ: "
        f"{sorted(machine_events() ^ set(EVENT_TYPES))}"
    )


def effects_missing_from(model: type) -> list[str]:
    """The effects the machine names that `model` lacks (none for CaseOnPathway: checked
    at import)."""
    return sorted(e for e in _EFFECTS if not callable(getattr(model, e, None)))


if effects_missing_from(CaseOnPathway):
    raise TypeError(
        f"the pathway machine names effects its model lacks: {effects_missing_from(CaseOnPathway)}"
    )
