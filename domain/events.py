"""The practitioners' events (docs/rules.md, Events): one pydantic payload per update, and
`EVENT_TYPES`, the list every layer is made from or checked against (the pathway machine, the
workflow's updates, the API's routes, the dashboard's forms).

Every time says when the thing happened, as ISO 8601 with an offset. Field names are the
contract's; add fields, never rename them.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, ClassVar, Literal

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    model_validator,
)

from domain.roles import Role
from domain.status import AuditDetails
from domain.vocabulary import Concern, CseModel, DisruptionAction, Indicator, Name, Score, Text


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

    def details(self) -> AuditDetails:
        """What the audit trail keeps besides event, time and actor: never free text."""
        return {}


class Decide(Event):
    name = "decide"
    time_field = "decided_at"
    decision: Literal["assess", "nfa", "strategy_discussion"]
    decided_at: AwareDatetime
    reason: Text = ""

    def details(self) -> AuditDetails:
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

    def details(self) -> AuditDetails:
        """The tool's vocabulary; the push/pull factors are free text and stay on the case."""
        return {
            "score": self.score,
            "complex": self.complex,
            "indicators": [i.value for i in self.indicators],
            "cse_models": [m.value for m in self.cse_models],
        }


class CompleteAssessment(Event):
    name = "complete_assessment"
    time_field = "completed_at"
    outcome: Literal["strategy_discussion", "cin", "nfa"]
    rationale: Text = ""
    completed_at: AwareDatetime

    def details(self) -> AuditDetails:
        return {"outcome": self.outcome}


class RecordStrategyDiscussion(Event):
    name = "record_strategy_discussion"
    time_field = "held_at"
    held_at: AwareDatetime
    chair_role: Role
    agencies: list[Name] = []
    outcome: Literal["s47", "cin", "nfa", "continue"]
    cris_number: Annotated[str, StringConstraints(strip_whitespace=True, max_length=40)] = ""

    def details(self) -> AuditDetails:
        """The agencies are short names (police, health...); who they were stays on the case."""
        return {
            "outcome": self.outcome,
            "chair_role": self.chair_role.value,
            "agencies": list(self.agencies),
        }


class ConcludeS47(Event):
    name = "conclude_s47"
    time_field = "concluded_at"
    outcome: Literal["cp_conference", "risk_of_harm", "cin", "nfa"]
    concluded_at: AwareDatetime

    def details(self) -> AuditDetails:
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

    def details(self) -> AuditDetails:
        return {"outcome": self.outcome}


class RecordCpReview(Event):
    name = "record_cp_review"
    time_field = "held_at"
    held_at: AwareDatetime
    outcome: Literal["continue_plan", "end_plan"]

    def details(self) -> AuditDetails:
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
    # Absent: unchanged since the last screening or review (contract v3).
    indicators: list[Indicator] | None = None
    cse_models: list[CseModel] | None = None
    push_pull_factors: list[Name] | None = None

    def details(self) -> AuditDetails:
        """Indicators and models only when the review gives them (absent: unchanged). The
        push/pull factors are free text: never in the audit trail."""
        kept: AuditDetails = {"score": self.score}
        if self.indicators is not None:
            kept["indicators"] = [i.value for i in self.indicators]
        if self.cse_models is not None:
            kept["cse_models"] = [m.value for m in self.cse_models]
        return kept


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

    def details(self) -> AuditDetails:
        return {"level": self.level.value}


class Allocate(Event):
    name = "allocate"
    time_field = "allocated_at"
    social_worker: Name
    team: Name
    allocated_at: AwareDatetime

    def details(self) -> AuditDetails:
        return {"social_worker": self.social_worker, "team": self.team}


class RecordConsultation(Event):
    """The team manager and specialist lead consulted on a low score with high concern."""

    name = "record_consultation"
    time_field = "held_at"
    held_at: AwareDatetime
    outcome: Literal["continue", "strategy_discussion"] = "continue"

    def details(self) -> AuditDetails:
        return {"outcome": self.outcome}


class RecordDisruptionActivity(Event):
    """A disruption action taken by an agency; what it was in words stays on the case only."""

    name = "record_disruption_activity"
    time_field = "taken_at"
    action: DisruptionAction
    agency: Name
    description: Text = ""
    taken_at: AwareDatetime

    def details(self) -> AuditDetails:
        return {"action": self.action.value, "agency": self.agency}


class Close(Event):
    name = "close"
    time_field = "closed_at"
    reason: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=4000)]
    closed_at: AwareDatetime


class AgreedAction(BaseModel):
    """One action the MASE panel agreed: what (kept on the case, never sent), whose, by when."""

    model_config = ConfigDict(extra="forbid")
    action: Name
    owner_role: Role
    due_at: AwareDatetime


class RecordMaseDecision(Event):
    """What the MASE panel decided for a case referred to it (docs/rules.md, The MASE panel)."""

    name = "record_mase_decision"
    time_field = "held_at"
    held_at: AwareDatetime
    decision: Literal["keep_open", "step_down", "escalate"]
    actions: Annotated[list[AgreedAction], Field(max_length=20)] = []

    @model_validator(mode="after")
    def _actions_due_after_the_panel(self) -> RecordMaseDecision:
        for number, agreed in enumerate(self.actions):
            if agreed.due_at <= self.held_at:
                raise ValueError(
                    f"actions: action {number + 1} is due at {agreed.due_at.isoformat()}, "
                    "not after the panel was held"
                )
        return self

    def details(self) -> AuditDetails:
        """The decision and the actions' owners; the actions' words stay on the case."""
        return {
            "decision": self.decision,
            "owner_roles": [a.owner_role.value for a in self.actions],
        }


class CompleteMaseAction(Event):
    name = "complete_mase_action"
    time_field = "completed_at"
    action_id: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=40)]
    completed_at: AwareDatetime

    def details(self) -> AuditDetails:
        return {"action_id": self.action_id}


class RecordTransitionPlan(Event):
    """A plan agreed for the child's move to adult services (docs/rules.md, One child across
    referrals): it stops the transition planning clock."""

    name = "record_transition_plan"
    time_field = "agreed_at"
    agreed_at: AwareDatetime


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
        RecordMaseDecision,
        CompleteMaseAction,
        RecordTransitionPlan,
    )
}
