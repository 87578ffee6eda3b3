"""What each accepted event, and each stage entered or left, does to a case's facts.

These are the pathway machine's actions (domain/pathway.py names each one beside its event's
transitions, so a missing one fails the machine's construction). They run only when an event
is recorded, after its guards have passed, in the machine's order: the event's effect, then
the stage left, then the stage entered. Each may add notifications to `self.notices`.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, TypeVar

from domain.clocks import cancel_clock, due_after, stop_clock
from domain.events import (
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
from domain.policy import ClockName
from domain.roles import Role
from domain.status import (
    DisruptionActivity,
    MaseAction,
    MaseDecision,
    MissingEpisode,
    ProfessionalConcern,
    Screening,
    StrategyDiscussion,
)
from domain.vocabulary import Concern, Stage

if TYPE_CHECKING:
    from domain.case import Case

T = TypeVar("T")


class EventEffects:
    """The machine's actions, acting on `self.case` (mixed into the machine's model)."""

    case: Case
    notices: list[Notification]

    # -- each event's effect -------------------------------------------------------------
    def apply_decide(self, payload: Decide) -> None:
        self.case.stop(ClockName.referral_decision, payload.decided_at)
        if payload.decision == "strategy_discussion":
            self._open_strategy_discussion(payload.decided_at)

    def apply_record_screening(self, payload: RecordScreening) -> None:
        case = self.case
        self._score(payload.score, payload.professional_concern, payload.screened_at)
        case.complex = payload.complex
        case.screenings.append(
            Screening(
                event=payload.name,
                at=payload.screened_at,
                score=payload.score,
                indicators=payload.indicators,
                cse_models=payload.cse_models,
                push_pull_factors=payload.push_pull_factors,
                professional_concern=payload.professional_concern,
                complex=payload.complex,
                actor=payload.actor,
            )
        )
        self._consider_consultation(payload.screened_at)
        if case.stage == Stage.cp_plan and not case.policy.scores.review_closes(payload.score):
            self._open_risk_review(payload.screened_at)  # the reviews start again

    def apply_complete_assessment(self, payload: CompleteAssessment) -> None:
        case = self.case
        case.stop(ClockName.assessment, payload.completed_at)
        if case.stage != Stage.assessment:
            return  # recorded after the case moved on: it stops the clock, nothing more
        if payload.outcome != "strategy_discussion":
            case.cancel(ClockName.strategy_discussion, payload.completed_at)
        elif not case.running(ClockName.strategy_discussion):
            case.open_clock(ClockName.strategy_discussion, payload.completed_at)

    def apply_record_strategy_discussion(self, payload: RecordStrategyDiscussion) -> None:
        case = self.case
        case.stop(ClockName.strategy_discussion, payload.held_at)
        case.stop(ClockName.further_strategy_meeting, payload.held_at)
        present = {agency.casefold() for agency in payload.agencies}
        expected = case.policy.strategy_discussion_agencies
        case.strategy_discussions.append(
            StrategyDiscussion(
                held_at=payload.held_at,
                chair_role=payload.chair_role,
                outcome=payload.outcome,
                agencies=payload.agencies,
                missing_agencies=[a for a in expected if a.casefold() not in present],
                cris_number=payload.cris_number,
                actor=payload.actor,
            )
        )
        if payload.cris_number:
            case.cris_number = payload.cris_number

    def apply_conclude_s47(self, payload: ConcludeS47) -> None:
        case = self.case
        if payload.outcome == "cp_conference" and not case.running(ClockName.initial_cp_conference):
            case.open_clock(ClockName.initial_cp_conference, case.strategy_discussions[-1].held_at)

    def apply_agree_cin_plan(self, payload: Event) -> None:
        """Agreeing the plan moves the case to its safety plan; nothing else changes."""

    def apply_record_cp_conference(self, payload: RecordCpConference) -> None:
        self.case.stop(ClockName.initial_cp_conference, payload.held_at)
        if payload.outcome == "cp_plan":
            self.case.open_clock(ClockName.cp_review_conference, payload.held_at)

    def apply_record_cp_review(self, payload: RecordCpReview) -> None:
        case = self.case
        case.stop(ClockName.cp_review_conference, payload.held_at)
        if payload.outcome == "continue_plan":
            due = due_after(case.policy, case.policy.cp_review_interval, payload.held_at)
            case.open_clock(ClockName.cp_review_conference, payload.held_at, due)

    def apply_record_safety_plan(self, payload: RecordSafetyPlan) -> None:
        self.case.stop(ClockName.safety_plan, payload.agreed_at)
        self._open_risk_review(payload.agreed_at)

    def apply_record_review(self, payload: RecordReview) -> None:
        case = self.case
        case.stop(ClockName.risk_review, payload.reviewed_at)
        self._score(payload.score, payload.professional_concern, payload.reviewed_at)
        last = case.screenings[-1] if case.screenings else None
        case.screenings.append(
            Screening(
                event=payload.name,
                at=payload.reviewed_at,
                score=payload.score,
                indicators=_given_or(payload.indicators, last.indicators if last else []),
                cse_models=_given_or(payload.cse_models, last.cse_models if last else []),
                push_pull_factors=_given_or(
                    payload.push_pull_factors, last.push_pull_factors if last else []
                ),
                professional_concern=payload.professional_concern,
                complex=case.complex,
                actor=payload.actor,
            )
        )
        if not case.policy.scores.review_closes(payload.score):
            self._open_risk_review(payload.reviewed_at)
            if case.running(ClockName.further_strategy_meeting) is None:
                case.open_clock(ClockName.further_strategy_meeting, payload.reviewed_at)

    def apply_refer_to_mase(self, payload: ReferToMase) -> None:
        case = self.case
        case.cris_number = payload.cris_number or case.cris_number
        mase = case.mase  # a case stepped down and referred again keeps its decisions
        mase.referred, mase.referred_at, mase.cris_number = (
            True,
            payload.referred_at,
            case.cris_number,
        )

    def apply_record_missing_episode(self, payload: RecordMissingEpisode) -> None:
        case = self.case
        known = {e.went_missing_at for e in case.missing_episodes}
        episode = self._episode(payload)
        if payload.returned_at is not None and episode.returned_at is None:
            episode.returned_at = payload.returned_at
            case.open_clock(ClockName.return_home_interview, payload.returned_at)
        if case.stage == Stage.review:
            self._bring_review_forward(payload.returned_at or payload.went_missing_at)
        new_episode = payload.went_missing_at not in known
        if new_episode and self._missing_repeatedly(payload.went_missing_at):
            self._open_strategy_discussion(payload.went_missing_at)
        what = "missing episode recorded"
        self.notices.append(
            case.notice(NotificationKind.missing_episode, [Role.social_worker], what)
        )

    def apply_record_return_interview(self, payload: RecordReturnInterview) -> None:
        self.case.stop(ClockName.return_home_interview, payload.held_at)

    def apply_raise_professional_concern(self, payload: RaiseProfessionalConcern) -> None:
        self.case.professional_concern = payload.level
        self.case.concerns_raised.append(
            ProfessionalConcern(level=payload.level, note=payload.note, raised_at=payload.raised_at)
        )
        self._consider_consultation(payload.raised_at)

    def apply_record_consultation(self, payload: RecordConsultation) -> None:
        self.case.stop(ClockName.consultation, payload.held_at)
        if payload.outcome == "strategy_discussion":
            self._open_strategy_discussion(payload.held_at)

    def apply_record_disruption_activity(self, payload: RecordDisruptionActivity) -> None:
        self.case.disruption_activities.append(
            DisruptionActivity(
                action=payload.action, agency=payload.agency, taken_at=payload.taken_at
            )
        )

    def apply_allocate(self, payload: Allocate) -> None:
        self.case.allocated_to = payload.social_worker
        self.case.team = payload.team
        what = "case allocated"
        notice = self.case.notice(NotificationKind.allocation, [Role.social_worker], what)
        self.notices.append(notice)

    def apply_close(self, payload: Close) -> None:
        self.case.closed_reason = payload.reason

    def apply_record_mase_decision(self, payload: RecordMaseDecision) -> None:
        case = self.case
        ids = [self._agree(agreed, payload.held_at) for agreed in payload.actions]
        mase = case.mase
        mase.decisions.append(
            MaseDecision(
                held_at=payload.held_at,
                decision=payload.decision,
                action_ids=ids,
                actor=payload.actor,
            )
        )
        if payload.decision == "step_down":
            mase.referred, mase.stepped_down_at = False, payload.held_at

    def apply_complete_mase_action(self, payload: CompleteMaseAction) -> None:
        case = self.case
        action = next(a for a in case.mase.actions if a.action_id == payload.action_id)
        action.completed_at = payload.completed_at
        clock = next(c for c in case.clocks if c.id == action.clock_id)
        if clock.running:
            stop_clock(clock, payload.completed_at)

    def apply_record_transition_plan(self, payload: RecordTransitionPlan) -> None:
        self.case.stop(ClockName.transition_planning, payload.agreed_at)

    # -- states entered and left (domain/pathway.py) -----------------------------------------
    def on_enter_assessing(self, payload: Event) -> None:
        """The assessment's 45 working days count from the referral, not the decision."""
        self.case.open_clock(ClockName.assessment, self.case.referral.received_at)

    def on_exit_assessing(self, payload: Event) -> None:
        """Completing it stops the clock first; only closing the case leaves it running."""
        self.case.cancel(ClockName.assessment, payload.occurred_at)

    def on_enter_safety_plan(self, payload: Event) -> None:
        self.case.open_clock(ClockName.safety_plan, payload.occurred_at)

    def on_exit_safety_plan(self, payload: Event) -> None:
        self.case.cancel(ClockName.safety_plan, payload.occurred_at)

    def on_exit_review(self, payload: Event) -> None:
        self.case.cancel(ClockName.risk_review, payload.occurred_at)
        self.case.cancel(ClockName.further_strategy_meeting, payload.occurred_at)

    def on_enter_closed(self, payload: Event) -> None:
        case = self.case
        case.closed_reason = case.closed_reason or _closing_reason(payload)
        for clock in case.clocks:
            if clock.running:
                cancel_clock(clock, payload.occurred_at)

    # -- what several effects share ----------------------------------------------------------
    def _score(self, score: int, concern: Concern, at: datetime) -> None:
        self.case.risk_score = score
        self.case.professional_concern = concern
        self.case.latest_scored_at = at

    def _episode(self, payload: RecordMissingEpisode) -> MissingEpisode:
        for episode in self.case.missing_episodes:
            if episode.went_missing_at == payload.went_missing_at:
                return episode
        episode = MissingEpisode(went_missing_at=payload.went_missing_at)
        self.case.missing_episodes.append(episode)
        return episode

    def _open_risk_review(self, at: datetime) -> None:
        """3 calendar months after the latest screening or review (the directive)."""
        self.case.open_clock(ClockName.risk_review, self.case.latest_scored_at or at)

    def _bring_review_forward(self, at: datetime) -> None:
        case = self.case
        review = case.running(ClockName.risk_review)
        sooner = due_after(case.policy, case.policy.missing_episode_review, at)
        if review is None or review.due_at <= sooner:
            return
        cancel_clock(review, at)
        case.open_clock(ClockName.risk_review, at, sooner)

    def _consider_consultation(self, at: datetime) -> None:
        """A low score with high professional concern needs consultation (the directive)."""
        case = self.case
        low_score = case.policy.scores.is_low(case.risk_score)
        if case.professional_concern != Concern.high or not low_score:
            return
        if case.running(ClockName.consultation):
            return
        case.open_clock(ClockName.consultation, at)
        roles = case.policy.clock_owners[ClockName.consultation]
        what = "high professional concern with a low score: consultation needed"
        self.notices.append(case.notice(NotificationKind.consultation, roles, what))

    def _agree(self, agreed: AgreedAction, held_at: datetime) -> str:
        """An action the panel agreed, on its own clock owned by its owner role."""
        case = self.case
        clock = case.open_clock(ClockName.mase_action, held_at, agreed.due_at)
        clock.owner_role = agreed.owner_role
        action_id = f"action-{len(case.mase.actions) + 1}"
        case.mase.actions.append(
            MaseAction(
                action_id=action_id,
                action=agreed.action,
                owner_role=agreed.owner_role,
                due_at=agreed.due_at,
                clock_id=clock.id,
            )
        )
        return action_id

    def _missing_repeatedly(self, went_missing_at: datetime) -> bool:
        """Some window of the policy's length holds this episode and enough others, whatever
        order the episodes were recorded in."""
        policy = self.case.policy
        window = timedelta(days=policy.missing_episodes_window_days)
        times = sorted(e.went_missing_at for e in self.case.missing_episodes)
        return any(
            start <= went_missing_at <= start + window
            and sum(start <= t <= start + window for t in times)
            >= policy.missing_episodes_for_strategy
            for start in times
        )

    def _open_strategy_discussion(self, at: datetime) -> None:
        case = self.case
        if case.is_closed:
            return
        if not (
            case.running(ClockName.strategy_discussion)
            or case.running(ClockName.further_strategy_meeting)
        ):
            case.open_clock(ClockName.strategy_discussion, at)


def _given_or(given: list[T] | None, last: list[T]) -> list[T]:
    """A review's list as given, else unchanged since the last screening or review."""
    return list(last) if given is None else given


def _closing_reason(payload: Event) -> str:
    outcome = getattr(payload, "outcome", None) or getattr(payload, "decision", None)
    if isinstance(payload, RecordCpReview):
        return "the child protection plan ended and the CSE risk is low"
    if isinstance(payload, RecordReview):
        return f"risk reduced: review scored {payload.score}"
    if isinstance(payload, Decide) and payload.reason:
        return f"decide: nfa ({payload.reason})"
    return f"{payload.name}: {outcome}" if outcome else payload.name
