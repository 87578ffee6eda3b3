"""The local authority's policy: deadlines and escalation ladders as versioned data.

The statutory figures (1, 45, 15 working days; review conferences) are national; the
3-working-day strategy discussion, the 3-monthly risk review and the escalation ladder are
the directive's local rules. All of them live here with the directive's values as defaults,
so a local authority changes a file, not code. A running case keeps the version it started with.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    field_validator,
    model_validator,
)

from domain.calendar import LONDON
from domain.roles import Role


class PolicyError(Exception):
    """The policy file is missing or invalid; the message names the field."""


class ClockName(StrEnum):
    referral_decision = "referral_decision"
    strategy_discussion = "strategy_discussion"
    assessment = "assessment"
    initial_cp_conference = "initial_cp_conference"
    safety_plan = "safety_plan"
    risk_review = "risk_review"
    further_strategy_meeting = "further_strategy_meeting"
    cp_review_conference = "cp_review_conference"
    return_home_interview = "return_home_interview"
    consultation = "consultation"
    mase_action = "mase_action"
    transition_planning = "transition_planning"


class StepName(StrEnum):
    reminder = "reminder"
    breach = "breach"
    escalation = "escalation"
    strategic_escalation = "strategic_escalation"


Unit = Literal["working_days", "calendar_months", "hours"]


class Deadline(BaseModel):
    """How far after the moment a clock counts from its due time falls."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    amount: Annotated[int, Field(ge=1, le=1000)]
    unit: Unit


class LadderStep(BaseModel):
    """One rung of the escalation ladder, placed in working days relative to the due time."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    step: StepName
    working_days_from_due: Annotated[int, Field(ge=-20, le=60)]
    roles: Annotated[list[Role], Field(min_length=1)]
    complex_case_roles: list[Role] = []
    marks_breach: bool = False


def _default_ladder() -> list[LadderStep]:
    return [
        LadderStep(step=StepName.reminder, working_days_from_due=-1, roles=[Role.social_worker]),
        LadderStep(
            step=StepName.breach,
            working_days_from_due=0,
            roles=[Role.social_worker, Role.team_manager],
            marks_breach=True,
        ),
        LadderStep(
            step=StepName.escalation,
            working_days_from_due=2,
            roles=[Role.head_of_service],
            complex_case_roles=[Role.specialist_safeguarding_lead],
        ),
        LadderStep(
            step=StepName.strategic_escalation,
            working_days_from_due=5,
            roles=[Role.strategic_lead],
        ),
    ]


def _default_deadlines() -> dict[ClockName, Deadline]:
    wd, months, hours = "working_days", "calendar_months", "hours"
    return {
        ClockName.referral_decision: Deadline(amount=1, unit=wd),
        ClockName.strategy_discussion: Deadline(amount=3, unit=wd),
        ClockName.assessment: Deadline(amount=45, unit=wd),
        ClockName.initial_cp_conference: Deadline(amount=15, unit=wd),
        ClockName.safety_plan: Deadline(amount=10, unit=wd),
        ClockName.risk_review: Deadline(amount=3, unit=months),
        ClockName.further_strategy_meeting: Deadline(amount=3, unit=wd),
        ClockName.cp_review_conference: Deadline(amount=3, unit=months),
        ClockName.return_home_interview: Deadline(amount=72, unit=hours),
        ClockName.consultation: Deadline(amount=2, unit=wd),
        # Each MASE action is due when the panel says; this is used only if it says nothing.
        ClockName.mase_action: Deadline(amount=20, unit=wd),
        # Counted from when the child reaches `transition_planning_from_months` (docs/rules.md,
        # One child across referrals).
        ClockName.transition_planning: Deadline(amount=3, unit=months),
    }


def _default_owners() -> dict[ClockName, list[Role]]:
    return {ClockName.consultation: [Role.team_manager, Role.specialist_safeguarding_lead]}


class ScoreRules(BaseModel):
    """What the latest CSE screening or review score (0-3) lets the pathway do (the directive:
    0 no further action; 1-3 consider a strategy meeting and the MASE panel; a review scoring
    0-1 ends the plan; a low score with high professional concern needs consultation)."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    no_further_action_at_most: Annotated[int, Field(ge=0, le=3)] = 0
    review_closes_at_most: Annotated[int, Field(ge=0, le=3)] = 1
    consultation_at_most: Annotated[int, Field(ge=0, le=3)] = 1
    mase_from: Annotated[int, Field(ge=0, le=3)] = 1
    rationale_from: Annotated[int, Field(ge=0, le=3)] = 1

    def allows_no_further_action(self, score: int | None) -> bool:
        return score is not None and score <= self.no_further_action_at_most

    def review_closes(self, score: int) -> bool:
        return score <= self.review_closes_at_most

    def is_low(self, score: int | None) -> bool:
        """Low enough that high professional concern needs a consultation (no score is low)."""
        return (score or 0) <= self.consultation_at_most

    def fits_mase(self, score: int | None) -> bool:
        return score is not None and score >= self.mase_from

    def needs_rationale(self, score: int | None) -> bool:
        """Any outcome but a strategy discussion needs a written rationale from this score."""
        return (score or 0) >= self.rationale_from


class Policy(BaseModel):
    """One version of the policy. Every field has the directive's value as its default."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    version: Annotated[str, Field(min_length=1, max_length=64)] = "directive-2018"
    effective_from: date = date(2018, 2, 1)
    deadlines: dict[ClockName, Deadline] = Field(default_factory=_default_deadlines)
    # Who a clock's reminder and breach go to instead of the social worker.
    clock_owners: dict[ClockName, Annotated[list[Role], Field(min_length=1)]] = Field(
        default_factory=_default_owners
    )
    cp_review_interval: Deadline = Deadline(amount=6, unit="calendar_months")
    missing_episode_review: Deadline = Deadline(amount=5, unit="working_days")
    # Repeated missing episodes open a strategy discussion clock (the directive ties missing
    # and CSE): this many episodes within this many days.
    missing_episodes_for_strategy: Annotated[int, Field(ge=1, le=50)] = 3
    missing_episodes_window_days: Annotated[int, Field(ge=1, le=365)] = 30
    ladder: Annotated[list[LadderStep], Field(min_length=1)] = Field(
        default_factory=_default_ladder
    )
    scores: ScoreRules = ScoreRules()
    # How far ahead of the engine's clock an event or referral time may be (device clocks
    # drift); anything later is in the future and refused, at every door.
    clock_skew_minutes: Annotated[int, Field(ge=0, le=60)] = 5
    # Operational, but versioned with the rest so a running case never changes it: a case
    # continues as new (same id, fresh history) once its history grows past this many events.
    continue_as_new_after_events: Annotated[int, Field(ge=20, le=50_000)] = 10_000
    extra_closures: list[date] = []
    # The age, in months, at which an open case starts planning the child's move to adult
    # services (docs/rules.md, One child across referrals: 17 years 6 months); at once for a
    # child referred older.
    transition_planning_from_months: Annotated[int, Field(ge=1, le=215)] = 210
    # Working Together expects police and health at every strategy discussion: those missing
    # are kept on the record and counted in the oversight report.
    strategy_discussion_agencies: list[Annotated[str, Field(min_length=1, max_length=60)]] = [
        "police",
        "health",
    ]

    @field_validator("deadlines", mode="after")
    @classmethod
    def _defaults_for_unlisted_clocks(
        cls, deadlines: dict[ClockName, Deadline]
    ) -> dict[ClockName, Deadline]:
        """A clock a file does not list keeps its default (so older files gain new clocks)."""
        return _default_deadlines() | deadlines

    @field_validator("clock_owners", mode="after")
    @classmethod
    def _default_owners_kept(
        cls, owners: dict[ClockName, list[Role]]
    ) -> dict[ClockName, list[Role]]:
        return _default_owners() | owners

    @model_validator(mode="after")
    def _ordered_ladder(self) -> Policy:
        offsets = [s.working_days_from_due for s in self.ladder]
        if offsets != sorted(offsets) or len(set(offsets)) != len(offsets):
            raise ValueError("ladder: steps must be in strictly increasing working_days_from_due")
        breach_steps = [s for s in self.ladder if s.marks_breach]
        if len(breach_steps) != 1 or breach_steps[0].working_days_from_due != 0:
            raise ValueError(
                "ladder: exactly one step must have marks_breach = true, "
                "at working_days_from_due = 0"
            )
        return self

    def deadline(self, clock: ClockName) -> Deadline:
        return self.deadlines[clock]

    def ladder_roles(
        self,
        clock: ClockName,
        step_name: StepName,
        complex_case: bool,
        owner: Role | None = None,
    ) -> list[Role]:
        """Who a rung goes to: an owned clock's owners (or this clock's own `owner`, a MASE
        action's) take the social worker's place, and a complex case adds the step's
        complex-case roles."""
        step = next(s for s in self.ladder if s.step == step_name)
        owners = [owner] if owner is not None else self.clock_owners.get(clock)
        roles = [r for role in step.roles for r in _owned(role, owners)]
        roles += step.complex_case_roles if complex_case else []
        return list(dict.fromkeys(roles))


def _owned(role: Role, owners: list[Role] | None) -> list[Role]:
    return owners if owners and role == Role.social_worker else [role]


class PolicyBook(BaseModel):
    """Every policy version a local authority has published, each in force from its date.

    Versions are append-only and never change once published (the worker's ledger refuses a
    version whose content moved, edge/policy_ledger.py). A case takes the version in force on
    the day its referral was received among those published when the case started, and keeps
    it in its history (workflows/referral.py), so a file published later, even one back-dated
    to before the referral, never moves a running case.
    """

    model_config = ConfigDict(frozen=True)
    versions: Annotated[list[Policy], Field(min_length=1)]
    published_at: dict[str, datetime] = {}
    """When each version was first seen by a worker; a version not listed was published
    before any case that may ask (the versions present when the ledger was begun)."""
    sources: list[str] = []
    """The file each version was read from, in the same order, for messages (empty for a
    book built in code)."""

    @model_validator(mode="after")
    def _distinct(self) -> PolicyBook:
        self._refuse_twice("version name", [p.version for p in self.versions])
        self._refuse_twice("effective_from", [p.effective_from for p in self.versions])
        return self

    def _refuse_twice(self, what: str, values: Sequence[object]) -> None:
        for value in dict.fromkeys(values):
            sharing = [i for i, v in enumerate(values) if v == value]
            if len(sharing) > 1:
                names = " and ".join(self.source(i) for i in sharing)
                raise ValueError(f"versions: {names} share the {what} {value}")

    def source(self, index: int) -> str:
        """Where the version at `index` came from: its file, else its version name."""
        if index < len(self.sources):
            return self.sources[index]
        return f"policy version {self.versions[index].version}"

    def in_force_on(self, moment: datetime, started_at: datetime | None = None) -> Policy:
        """The version in force on `moment`'s day in London; with `started_at`, only among the
        versions published by then (a file published later applies to later cases only)."""
        day = moment.astimezone(LONDON).date()
        known = [p for p in self.versions if self._published_by(p, started_at)]
        eligible = [p for p in known if p.effective_from <= day]
        if not eligible:
            return min(known or self.versions, key=lambda p: p.effective_from)
        return max(eligible, key=lambda p: p.effective_from)

    def _published_by(self, policy: Policy, started_at: datetime | None) -> bool:
        published = self.published_at.get(policy.version)
        return started_at is None or published is None or published <= started_at
