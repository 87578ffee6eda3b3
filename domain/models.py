"""The payloads of the public contract (pathway.md section 7): one pydantic model per message.

Every time says when the thing happened, as ISO 8601 with an offset. Field names are the
contract's; add fields, never rename them.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Annotated, ClassVar, Literal

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
    model_validator,
)

from domain.policy import ClockName, StepName
from domain.roles import Role

Text = Annotated[str, StringConstraints(strip_whitespace=True, max_length=4000)]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Score = Annotated[int, Field(ge=0, le=3, strict=True)]


class Stage(StrEnum):
    referral_received = "referral_received"
    assessment = "assessment"
    strategy_discussion = "strategy_discussion"
    s47_enquiry = "s47_enquiry"
    child_in_need = "child_in_need"
    safety_plan = "safety_plan"
    review = "review"
    closed = "closed"


class Indicator(StrEnum):
    """The SAFEGUARDED indicators of the directive's screening tool."""

    sexual_health = "sexual_health"
    absent_from_school = "absent_from_school"
    running_away = "running_away"
    familial_abuse = "familial_abuse"
    emotional_and_physical_condition = "emotional_and_physical_condition"
    gangs_older_age_groups_crime = "gangs_older_age_groups_crime"
    use_of_technology = "use_of_technology"
    alcohol_and_drug_misuse = "alcohol_and_drug_misuse"
    unexplained_gifts_or_money = "unexplained_gifts_or_money"
    distrust_of_authority = "distrust_of_authority"


class CseModel(StrEnum):
    peer_on_peer = "peer_on_peer"
    online = "online"
    inappropriate_relationship = "inappropriate_relationship"
    county_lines = "county_lines"
    gangs = "gangs"
    familial = "familial"
    organised = "organised"
    trafficking = "trafficking"


class Concern(StrEnum):
    low = "low"
    medium = "medium"
    high = "high"


EARLIEST_REFERRAL = datetime(2000, 1, 1, tzinfo=UTC)
LATEST_REFERRAL = datetime(2100, 1, 1, tzinfo=UTC)


class Referral(BaseModel):
    """The intake system's start input: one referral, one case."""

    model_config = ConfigDict(extra="forbid")
    referral_id: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")]
    received_at: AwareDatetime
    child_ref: Name
    team: Name
    referrer_agency: Name
    concerns: list[Indicator] = []
    significant_harm_suspected: bool = False
    summary: Text = ""

    @field_validator("received_at")
    @classmethod
    def _within_the_calendar(cls, received_at: datetime) -> datetime:
        """The working-day calendar covers 1995-2100; a clock must never reach outside it."""
        if not EARLIEST_REFERRAL <= received_at < LATEST_REFERRAL:
            raise ValueError("a referral must be received between 2000 and 2099")
        return received_at

    @property
    def workflow_id(self) -> str:
        return workflow_id_for(self.referral_id)


def workflow_id_for(referral_id: str) -> str:
    return f"referral-{referral_id}"


class Event(BaseModel):
    """What every practitioner event carries: who did it and when it happened."""

    model_config = ConfigDict(extra="forbid")
    name: ClassVar[str]
    time_field: ClassVar[str]
    actor: Name

    @property
    def occurred_at(self) -> datetime:
        value: datetime = getattr(self, self.time_field)
        return value

    def times(self) -> list[datetime]:
        """Every time the event states, each checked against the clock and the referral."""
        return [self.occurred_at]

    def details(self) -> dict[str, str | int | bool | None]:
        """What the audit trail keeps besides event, time and actor: never free text."""
        return {}


class Decide(Event):
    name = "decide"
    time_field = "decided_at"
    decision: Literal["assess", "nfa"]
    decided_at: AwareDatetime
    reason: Text = ""

    def details(self) -> dict[str, str | int | bool | None]:
        return {"decision": self.decision}


class RecordScreening(Event):
    name = "record_screening"
    time_field = "screened_at"
    score: Score
    indicators: list[Indicator] = []
    push_pull_factors: list[Name] = []
    cse_models: list[CseModel] = []
    professional_concern: Concern
    complex: bool = False
    screened_at: AwareDatetime

    def details(self) -> dict[str, str | int | bool | None]:
        return {"score": self.score, "complex": self.complex}


class CompleteAssessment(Event):
    name = "complete_assessment"
    time_field = "completed_at"
    outcome: Literal["strategy_discussion", "cin", "nfa"]
    rationale: Text = ""
    completed_at: AwareDatetime

    def details(self) -> dict[str, str | int | bool | None]:
        return {"outcome": self.outcome}


class RecordStrategyDiscussion(Event):
    name = "record_strategy_discussion"
    time_field = "held_at"
    held_at: AwareDatetime
    chair_role: Role
    agencies: list[Name] = []
    outcome: Literal["s47", "cin", "nfa", "continue"]
    cris_number: Annotated[str, StringConstraints(strip_whitespace=True, max_length=40)] = ""

    def details(self) -> dict[str, str | int | bool | None]:
        return {"outcome": self.outcome, "chair_role": self.chair_role.value}


class ConcludeS47(Event):
    name = "conclude_s47"
    time_field = "concluded_at"
    outcome: Literal["cp_conference", "risk_of_harm", "cin", "nfa"]
    concluded_at: AwareDatetime

    def details(self) -> dict[str, str | int | bool | None]:
        return {"outcome": self.outcome}


class AgreeCinPlan(Event):
    name = "agree_cin_plan"
    time_field = "agreed_at"
    agreed_at: AwareDatetime


class RecordCpConference(Event):
    name = "record_cp_conference"
    time_field = "held_at"
    held_at: AwareDatetime
    outcome: Literal["cp_plan", "no_plan"]

    def details(self) -> dict[str, str | int | bool | None]:
        return {"outcome": self.outcome}


class RecordCpReview(Event):
    name = "record_cp_review"
    time_field = "held_at"
    held_at: AwareDatetime
    outcome: Literal["continue_plan", "end_plan"]

    def details(self) -> dict[str, str | int | bool | None]:
        return {"outcome": self.outcome}


class RecordSafetyPlan(Event):
    name = "record_safety_plan"
    time_field = "agreed_at"
    agreed_at: AwareDatetime


class RecordReview(Event):
    name = "record_review"
    time_field = "reviewed_at"
    score: Score
    professional_concern: Concern
    reviewed_at: AwareDatetime

    def details(self) -> dict[str, str | int | bool | None]:
        return {"score": self.score}


class ReferToMase(Event):
    name = "refer_to_mase"
    time_field = "referred_at"
    cris_number: Annotated[str, StringConstraints(strip_whitespace=True, max_length=40)] = ""
    referred_at: AwareDatetime


class RecordMissingEpisode(Event):
    name = "record_missing_episode"
    time_field = "went_missing_at"
    went_missing_at: AwareDatetime
    returned_at: AwareDatetime | None = None

    @model_validator(mode="after")
    def _returned_after_missing(self) -> RecordMissingEpisode:
        if self.returned_at is not None and self.returned_at < self.went_missing_at:
            raise ValueError("returned_at: a child cannot return before going missing")
        return self

    def times(self) -> list[datetime]:
        return [t for t in (self.went_missing_at, self.returned_at) if t is not None]


class RecordReturnInterview(Event):
    name = "record_return_interview"
    time_field = "held_at"
    held_at: AwareDatetime


class RaiseProfessionalConcern(Event):
    name = "raise_professional_concern"
    time_field = "raised_at"
    level: Concern
    note: Text = ""
    raised_at: AwareDatetime

    def details(self) -> dict[str, str | int | bool | None]:
        return {"level": self.level.value}


class Allocate(Event):
    name = "allocate"
    time_field = "allocated_at"
    social_worker: Name
    team: Name
    allocated_at: AwareDatetime

    def details(self) -> dict[str, str | int | bool | None]:
        return {"social_worker": self.social_worker, "team": self.team}


class RecordConsultation(Event):
    """The team manager and specialist lead consulted on a low score with high concern."""

    name = "record_consultation"
    time_field = "held_at"
    held_at: AwareDatetime
    outcome: Literal["continue", "strategy_discussion"] = "continue"

    def details(self) -> dict[str, str | int | bool | None]:
        return {"outcome": self.outcome}


class DisruptionAction(StrEnum):
    """Multi-agency action against those exploiting the child, which the strategy meeting
    and the MASE panel track (the directive: "all appropriate actions ... to disrupt any
    perpetrators")."""

    abduction_warning_notice = "abduction_warning_notice"
    sexual_risk_order = "sexual_risk_order"
    arrest = "arrest"
    premises_or_licensing_action = "premises_or_licensing_action"
    online_takedown = "online_takedown"
    other = "other"


class RecordDisruptionActivity(Event):
    """A disruption action taken by an agency; what it was in words stays on the case only."""

    name = "record_disruption_activity"
    time_field = "taken_at"
    action: DisruptionAction
    agency: Name
    description: Text = ""
    taken_at: AwareDatetime

    def details(self) -> dict[str, str | int | bool | None]:
        return {"action": self.action.value, "agency": self.agency}


class Close(Event):
    name = "close"
    time_field = "closed_at"
    reason: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=4000)]
    closed_at: AwareDatetime


EVENT_TYPES: dict[str, type[Event]] = {
    cls.name: cls
    for cls in (
        Decide,
        RecordScreening,
        CompleteAssessment,
        RecordStrategyDiscussion,
        ConcludeS47,
        AgreeCinPlan,
        RecordCpConference,
        RecordSafetyPlan,
        RecordReview,
        ReferToMase,
        RecordMissingEpisode,
        RecordCpReview,
        RecordReturnInterview,
        RaiseProfessionalConcern,
        RecordConsultation,
        RecordDisruptionActivity,
        Allocate,
        Close,
    )
}


# ---- what the status query returns ----------------------------------------------------


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

    @property
    def running(self) -> bool:
        return self.stopped_at is None and self.state in (ClockState.open, ClockState.breached)


class HistoryEntry(BaseModel):
    event: str
    at: datetime
    recorded_at: datetime
    actor: str
    details: dict[str, str | int | bool | None] = {}


class MaseStatus(BaseModel):
    referred: bool = False
    referred_at: datetime | None = None
    cris_number: str | None = None


class MissingEpisode(BaseModel):
    went_missing_at: datetime
    returned_at: datetime | None = None


class StrategyDiscussion(BaseModel):
    held_at: datetime
    chair_role: Role
    outcome: str


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
    picture (pathway.md section 7)."""

    referral_id: str
    stage: Stage
    event: str
    at: datetime
    recorded_at: datetime
    next_due: datetime | None


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
