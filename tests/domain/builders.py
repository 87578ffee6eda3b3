"""Builders for the domain tests: a referral, each practitioner event, and a case at a stage.

Every time is an explicit Europe/London instant; nothing here reads the real clock. The
default times follow one child's journey through the pathway in autumn 2026:

    Fri 28 Aug 16:30  referral received (Mon 31 Aug is the late summer bank holiday)
    Tue  1 Sep 10:00  decision to assess
    Wed  2 Sep 10:00  CSE risk screening
    Thu  3 Sep 10:00  assessment completed
    Mon  7 Sep 10:00  strategy discussion held
    Fri 11 Sep 10:00  child in need plan agreed (the child in need route)
    Fri 18 Sep 10:00  section 47 enquiry concluded
    Thu 24 Sep 10:00  initial child protection conference held
    Wed 30 Sep 10:00  safety plan agreed
    Mon 30 Nov 10:00  risk review
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo

import pytest

from domain.case import Case
from domain.errors import PathwayRefusal
from domain.events import (
    AgreeCinPlan,
    AgreedAction,
    Allocate,
    Close,
    CompleteAssessment,
    CompleteMaseAction,
    ConcludeS47,
    Decide,
    Event,
    RaiseProfessionalConcern,
    RecordConsultation,
    RecordCpConference,
    RecordCpReview,
    RecordDisruptionActivity,
    RecordMaseDecision,
    RecordMissingEpisode,
    RecordReturnInterview,
    RecordReview,
    RecordSafetyPlan,
    RecordScreening,
    RecordStrategyDiscussion,
    RecordTransitionPlan,
    ReferToMase,
)
from domain.notifications import Notification, NotificationKind
from domain.policy import ClockName, Policy, StepName
from domain.referral import Referral
from domain.roles import Role
from domain.status import Clock
from domain.vocabulary import Concern, DisruptionAction, Indicator, Stage

LONDON = ZoneInfo("Europe/London")
MINUTE = timedelta(minutes=1)

SOCIAL_WORKER = "sw.okafor"
MANAGER = "tm.reyes"
TEAM = "Team North"

# What must never leave the case record (docs/rules.md, Who is told).
CHILD_REF = "PERSON-55501-CHILD"
SUMMARY = "Seen getting into cars with older men near the station; new phone, unexplained"
CONCERN_NOTE = "Worried about the adult boyfriend who collects her from school"
REFERRAL_CONCERNS = [Indicator.running_away, Indicator.unexplained_gifts_or_money]


def london(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0
) -> datetime:
    """An aware Europe/London instant."""
    return datetime(year, month, day, hour, minute, second, tzinfo=LONDON)


def end_of(year: int, month: int, day: int) -> datetime:
    """23:59:59 Europe/London on that day: when a day-based deadline expires."""
    return london(year, month, day, 23, 59, 59)


class T:
    """The default journey's times (see the module docstring)."""

    received = london(2026, 8, 28, 16, 30)
    decided = london(2026, 9, 1, 10)
    screened = london(2026, 9, 2, 10)
    assessed = london(2026, 9, 3, 10)
    strategy_held = london(2026, 9, 7, 10)
    cin_plan_agreed = london(2026, 9, 11, 10)
    s47_concluded = london(2026, 9, 18, 10)
    cp_conference_held = london(2026, 9, 24, 10)
    safety_plan_agreed = london(2026, 9, 30, 10)
    reviewed = london(2026, 11, 30, 10)


# ---------------------------------------------------------------------------- the referral


def make_referral(**overrides: Any) -> Referral:
    fields: dict[str, Any] = {
        "referral_id": "CSE-2026-0042",
        "received_at": T.received,
        "child_ref": CHILD_REF,
        "team": TEAM,
        "referrer_agency": "school",
        "concerns": REFERRAL_CONCERNS,
        "significant_harm_suspected": False,
        "summary": SUMMARY,
    }
    fields.update(overrides)
    return Referral(**fields)


def open_case(
    referral: Referral | None = None,
    *,
    policy: Policy | None = None,
    now: datetime | None = None,
    **referral_overrides: Any,
) -> Case:
    """A case just opened for a referral, recorded a minute after it was received."""
    referral = referral or make_referral(**referral_overrides)
    case, _ = Case.open(referral, policy or Policy(), now or referral.received_at + MINUTE)
    return case


# ---------------------------------------------------------------------------- the events


def decide(
    decision: Literal["assess", "nfa", "strategy_discussion"] = "assess",
    at: datetime = T.decided,
    reason: str = "",
) -> Decide:
    return Decide(decision=decision, decided_at=at, reason=reason, actor=MANAGER)


def screening(
    score: int = 2,
    concern: Concern = Concern.medium,
    *,
    complex: bool = False,
    at: datetime = T.screened,
) -> RecordScreening:
    return RecordScreening(
        score=score,
        indicators=[Indicator.running_away],
        professional_concern=concern,
        complex=complex,
        screened_at=at,
        actor=SOCIAL_WORKER,
    )


def complete_assessment(
    outcome: Literal["strategy_discussion", "cin", "nfa"] = "strategy_discussion",
    rationale: str = "",
    at: datetime = T.assessed,
) -> CompleteAssessment:
    return CompleteAssessment(
        outcome=outcome, rationale=rationale, completed_at=at, actor=SOCIAL_WORKER
    )


def strategy_discussion(
    outcome: Literal["s47", "cin", "nfa", "continue"] = "s47",
    *,
    chair: Role = Role.team_manager,
    cris_number: str = "",
    at: datetime = T.strategy_held,
) -> RecordStrategyDiscussion:
    return RecordStrategyDiscussion(
        held_at=at,
        chair_role=chair,
        agencies=["police", "health", "education"],
        outcome=outcome,
        cris_number=cris_number,
        actor=MANAGER,
    )


def conclude_s47(
    outcome: Literal["cp_conference", "risk_of_harm", "cin", "nfa"] = "cp_conference",
    at: datetime = T.s47_concluded,
) -> ConcludeS47:
    return ConcludeS47(outcome=outcome, concluded_at=at, actor=SOCIAL_WORKER)


def agree_cin_plan(at: datetime = T.cin_plan_agreed) -> AgreeCinPlan:
    return AgreeCinPlan(agreed_at=at, actor=SOCIAL_WORKER)


def cp_conference(
    outcome: Literal["cp_plan", "no_plan"] = "cp_plan", at: datetime = T.cp_conference_held
) -> RecordCpConference:
    return RecordCpConference(held_at=at, outcome=outcome, actor=MANAGER)


def cp_review(
    outcome: Literal["continue_plan", "end_plan"] = "continue_plan",
    at: datetime = T.cp_conference_held,
) -> RecordCpReview:
    return RecordCpReview(held_at=at, outcome=outcome, actor=MANAGER)


def safety_plan(at: datetime = T.safety_plan_agreed) -> RecordSafetyPlan:
    return RecordSafetyPlan(agreed_at=at, actor=SOCIAL_WORKER)


def review(
    score: int = 2, concern: Concern = Concern.medium, at: datetime = T.reviewed
) -> RecordReview:
    return RecordReview(
        score=score, professional_concern=concern, reviewed_at=at, actor=SOCIAL_WORKER
    )


def refer_to_mase(cris_number: str = "CRIS-4471/26", at: datetime = T.strategy_held) -> ReferToMase:
    return ReferToMase(cris_number=cris_number, referred_at=at, actor=MANAGER)


def mase_decision(
    decision: Literal["keep_open", "step_down", "escalate"] = "keep_open",
    *actions: tuple[str, Role, datetime],
    at: datetime = T.strategy_held,
) -> RecordMaseDecision:
    """A panel's decision; each action is (what, owner role, due)."""
    agreed = [AgreedAction(action=a, owner_role=r, due_at=d) for a, r, d in actions]
    return RecordMaseDecision(held_at=at, decision=decision, actions=agreed, actor=MANAGER)


def complete_mase_action(action_id: str, at: datetime = T.strategy_held) -> CompleteMaseAction:
    return CompleteMaseAction(action_id=action_id, completed_at=at, actor=MANAGER)


def missing_episode(
    went_missing_at: datetime, returned_at: datetime | None = None
) -> RecordMissingEpisode:
    return RecordMissingEpisode(
        went_missing_at=went_missing_at, returned_at=returned_at, actor=SOCIAL_WORKER
    )


def return_interview(at: datetime) -> RecordReturnInterview:
    return RecordReturnInterview(held_at=at, actor=SOCIAL_WORKER)


def professional_concern(
    level: Concern, at: datetime, note: str = CONCERN_NOTE
) -> RaiseProfessionalConcern:
    return RaiseProfessionalConcern(level=level, note=note, raised_at=at, actor=SOCIAL_WORKER)


def consultation(
    at: datetime, outcome: Literal["continue", "strategy_discussion"] = "continue"
) -> RecordConsultation:
    return RecordConsultation(held_at=at, outcome=outcome, actor=MANAGER)


def allocate(at: datetime, social_worker: str = SOCIAL_WORKER, team: str = TEAM) -> Allocate:
    return Allocate(social_worker=social_worker, team=team, allocated_at=at, actor=MANAGER)


def disruption_activity(
    at: datetime, action: DisruptionAction = DisruptionAction.abduction_warning_notice
) -> RecordDisruptionActivity:
    return RecordDisruptionActivity(
        action=action,
        agency="police",
        description="notice served",
        taken_at=at,
        actor=SOCIAL_WORKER,
    )


def transition_plan(at: datetime) -> RecordTransitionPlan:
    return RecordTransitionPlan(agreed_at=at, actor=SOCIAL_WORKER)


def close(reason: str = "moved out of the borough", at: datetime = T.decided) -> Close:
    return Close(reason=reason, closed_at=at, actor=MANAGER)


# ---------------------------------------------------------------------------- notifications


def clock_step_notice(
    step: StepName = StepName.breach,
    *,
    referral_id: str = "R-1",
    notification_id: str | None = None,
    roles: list[Role] | None = None,
    team: str = "RAI-2",
    social_worker: str | None = "sw-7",
    link_path: str | None = None,
) -> Notification:
    """A step of the strategy discussion clock of case `referral_id` (due Thu 3 Sep 2026),
    to its social worker and team manager unless `roles` are given; its id and link are the
    case's own unless given (the subject always names R-1)."""
    return Notification(
        notification_id=notification_id or f"{referral_id}:strategy_discussion-2:{step.value}",
        kind=NotificationKind.clock_step,
        referral_id=referral_id,
        team=team,
        roles=roles or [Role.social_worker, Role.team_manager],
        social_worker=social_worker,
        clock=ClockName.strategy_discussion,
        step=step,
        due_at=datetime(2026, 9, 3, 22, 59, 59, tzinfo=UTC),
        subject="Case R-1: strategy discussion overdue (due Thu 03 Sep 2026 23:59 BST)",
        link_path=link_path or f"/cases/{referral_id}",
    )


# ---------------------------------------------------------------------------- recording


def recorded_at(event: Event) -> datetime:
    """Recorded as soon as it happened: the latest time the event states."""
    return max(event.times())


def record(case: Case, *events: Event, now: datetime | None = None) -> list[Notification]:
    """Apply each event in turn (recorded when it happened unless `now` is given)."""
    notices: list[Notification] = []
    for event in events:
        notices += case.apply(event, now or recorded_at(event))
    return notices


def journey_to(
    stage: Stage,
    *,
    score: int = 2,
    concern: Concern = Concern.medium,
    complex: bool = False,
    route: Literal["s47", "cin"] | None = None,
) -> list[Event]:
    """The events that take a new case to `stage` along the default journey.

    `route="s47"` goes through a strategy discussion and a section 47 enquiry ending in a
    child protection conference, and on to `cp_plan` by a plan and a low review;
    `route="cin"` goes from the assessment to child in need.
    Without a route, child in need goes the "cin" way and every other stage the "s47" way.
    """
    route = route or ("cin" if stage == Stage.child_in_need else "s47")
    chair = Role.specialist_safeguarding_lead if complex else Role.team_manager
    steps: list[tuple[Stage, list[Event]]] = [
        (Stage.referral_received, []),
        (Stage.assessment, [decide("assess")]),
    ]
    if route == "s47":
        steps += [
            (
                Stage.strategy_discussion,
                [screening(score, concern, complex=complex), complete_assessment()],
            ),
            (Stage.s47_enquiry, [strategy_discussion("s47", chair=chair)]),
            (Stage.safety_plan, [conclude_s47("cp_conference")]),
        ]
    else:
        rationale = "support under a child in need plan is proportionate" if score else ""
        steps += [
            (
                Stage.child_in_need,
                [screening(score, concern, complex=complex), complete_assessment("cin", rationale)],
            ),
            (Stage.safety_plan, [agree_cin_plan()]),
        ]
    steps.append((Stage.review, [safety_plan()]))
    if route == "s47":  # a plan in force keeps the case open when the CSE risk falls
        steps.append((Stage.cp_plan, [cp_conference("cp_plan"), review(1, Concern.low)]))
    events: list[Event] = []
    for reached, more in steps:
        events += more
        if reached == stage:
            return events
    raise ValueError(f"the {route} journey does not pass through {stage}")


def case_at(
    stage: Stage,
    *,
    score: int = 2,
    concern: Concern = Concern.medium,
    complex: bool = False,
    route: Literal["s47", "cin"] | None = None,
    **referral_overrides: Any,
) -> Case:
    """A case brought to `stage` by applying the default journey's events."""
    case = open_case(**referral_overrides)
    record(case, *journey_to(stage, score=score, concern=concern, complex=complex, route=route))
    assert case.stage == stage
    return case


def assert_refused(
    case: Case,
    event: Event,
    error: type[PathwayRefusal],
    rule: str,
    words: str,
    now: datetime | None = None,
) -> PathwayRefusal:
    """The event is refused with `error` and `rule`, its message says `words`, and the case
    is exactly as it was."""
    before = case.model_dump()
    with pytest.raises(PathwayRefusal) as refusal:
        case.apply(event, now or recorded_at(event))
    assert type(refusal.value) is error
    assert refusal.value.rule == rule
    assert words in str(refusal.value)
    assert refusal.value.message == str(refusal.value)
    assert case.model_dump() == before
    return refusal.value


def last_happened(case: Case) -> datetime:
    """When the latest thing recorded on the case happened (or when it was received)."""
    return max([case.referral.received_at, *(h.at for h in case.history)])


def clocks_named(case: Case, name: ClockName) -> list[Clock]:
    """Every entry for a clock, oldest first (old entries stay as the record)."""
    return [c for c in case.clocks if c.name == name]


def only_clock(case: Case, name: ClockName) -> Clock:
    (clock,) = clocks_named(case, name)
    return clock


def running_clocks(case: Case) -> list[ClockName]:
    return [c.name for c in case.clocks if c.running]


def stages_after(case: Case, events: Sequence[Event]) -> list[Stage]:
    """Apply events one by one, noting the stage after each."""
    seen = []
    for event in events:
        record(case, event)
        seen.append(case.stage)
    return seen
