"""What a case answers: the `status` query's picture of it (clocks with their ladders, the
audit trail, MASE, missing episodes...) and the receipt of an accepted update."""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum

from pydantic import BaseModel

from domain.policy import ClockName, StepName
from domain.roles import Role
from domain.vocabulary import Concern, CseModel, DisruptionAction, Indicator, Stage


class StepStatus(StrEnum):
    pending = "pending"
    sent = "sent"
    skipped = "skipped"
    cancelled = "cancelled"


class ClockState(StrEnum):
    open = "open"
    met = "met"
    breached = "breached"
    cancelled = "cancelled"


class Escalation(BaseModel):
    step: StepName
    at: datetime
    status: StepStatus = StepStatus.pending
    sent_at: datetime | None = None
    roles: list[Role] = []


class Clock(BaseModel):
    id: str
    name: ClockName
    opened_at: datetime
    due_at: datetime
    stopped_at: datetime | None = None
    state: ClockState = ClockState.open
    breached_by: timedelta | None = None
    escalations: list[Escalation]
    owner_role: Role | None = None
    """Whose the clock is, when not the social worker's (a MASE action's owner)."""

    @property
    def running(self) -> bool:
        return self.stopped_at is None and self.state in (ClockState.open, ClockState.breached)


AuditDetails = dict[str, str | int | bool | list[str] | None]
"""What the audit trail keeps of an event besides event, time and actor: vocabulary values,
scores, outcomes and short names, never free text. A list (the indicators, CSE models or
agencies recorded) stays a JSON list, in the order recorded."""


class HistoryEntry(BaseModel):
    event: str
    at: datetime
    recorded_at: datetime
    actor: str
    details: AuditDetails = {}


class MaseDecision(BaseModel):
    """A decision of the MASE panel on the case (docs/rules.md, The MASE panel)."""

    held_at: datetime
    decision: str
    action_ids: list[str] = []
    actor: str


class MaseAction(BaseModel):
    """An action the panel agreed, timed by its own `mase_action` clock; its `state` is the
    clock's (open, met, breached, cancelled)."""

    action_id: str
    action: str
    owner_role: Role
    due_at: datetime
    completed_at: datetime | None = None
    clock_id: str
    state: ClockState = ClockState.open


class MaseStatus(BaseModel):
    referred: bool = False
    referred_at: datetime | None = None
    cris_number: str | None = None
    stepped_down_at: datetime | None = None
    decisions: list[MaseDecision] = []
    actions: list[MaseAction] = []


class MissingEpisode(BaseModel):
    went_missing_at: datetime
    returned_at: datetime | None = None


class StrategyDiscussion(BaseModel):
    held_at: datetime
    chair_role: Role
    outcome: str
    agencies: list[str] = []
    missing_agencies: list[str] = []
    """The agencies the policy expects at every strategy discussion that were not there."""
    cris_number: str = ""
    actor: str = ""


class Screening(BaseModel):
    """One CSE risk screening or review, as recorded (contract v3: kept, not only scored)."""

    event: str
    at: datetime
    score: int
    indicators: list[Indicator] = []
    cse_models: list[CseModel] = []
    push_pull_factors: list[str] = []
    professional_concern: Concern
    complex: bool = False
    actor: str


class ProfessionalConcern(BaseModel):
    level: Concern
    note: str
    raised_at: datetime


class DisruptionActivity(BaseModel):
    action: DisruptionAction
    agency: str
    taken_at: datetime


class DeliveryFailure(BaseModel):
    """A notification that could not be delivered and was raised to the team manager."""

    notification_id: str
    failed_at: datetime
    problem: str


class Receipt(BaseModel):
    """What an accepted update answers: small, because Temporal keeps every update's result
    in the case's history for as long as the case runs. The `status` query is the whole
    picture (docs/rules.md, What a case answers)."""

    referral_id: str
    stage: Stage
    event: str
    at: datetime
    recorded_at: datetime
    next_due: datetime | None


class EarlierReferral(BaseModel):
    """An earlier case of the same child, found through the keyed child index (docs/rules.md,
    One child across referrals)."""

    referral_id: str
    received_at: datetime
    closed_at: datetime | None = None
    stage: Stage


class CaseStatus(BaseModel):
    """Where a case stands: the answer to the `status` query."""

    referral_id: str
    received_at: datetime | None = None
    """When the referral was received (None only from a case that answered before it was
    kept here); the referral decision and assessment clocks count from it."""
    stage: Stage
    risk_score: int | None
    complex: bool
    professional_concern: Concern | None
    team: str
    allocated_to: str | None
    clocks: list[Clock]
    history: list[HistoryEntry]
    mase: MaseStatus
    missing_episodes: list[MissingEpisode]
    closed_reason: str | None
    mase_blocker: str | None = None
    delivery_failures: list[DeliveryFailure] = []
    disruption_activities: list[DisruptionActivity] = []
    overdue: bool
    next_due: datetime | None
    policy_version: str
    cp_plan_in_force: bool = False
    tracks: dict[str, str] = {}
    """Where the case is on each track that runs beside its stage: the assessment and the
    child protection plan (domain/pathway.py)."""
    screenings: list[Screening] = []
    strategy_discussions: list[StrategyDiscussion] = []
    earlier_referrals: list[EarlierReferral] = []
    re_referral: bool = False
    """An earlier referral of the child was received within the 12 months before this one
    (the Children in Need census definition)."""
    age_at_referral: int | None = None
    """The child's age in whole years when referred, if the referral gives the date of
    birth (docs/rules.md, One child across referrals)."""
    looked_after: bool = False
    placing_authority: str | None = None
    host_authority: str | None = None
    other_authorities: list[str] = []
    """Of the two, those that are not this service's authority: told of the case
    (docs/rules.md, Who is told)."""
