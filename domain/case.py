"""One child's case: the facts recorded so far, and what each accepted event does to them.

`Case.check` refuses an event (raising a PathwayRefusal) without changing anything;
`Case.apply` records it, moves the stage the state machine chose, opens and stops clocks
(pathway.md section 3) and returns the notifications to send. `Case.fire_due_steps` runs
the escalation ladders when their time comes. The whole case is one pydantic model so a
workflow can carry it across continue-as-new unchanged.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from pydantic import BaseModel

from domain.clocks import (
    cancel_clock,
    due_after,
    new_clock,
    next_step_at,
    steps_come_due,
    stop_clock,
)
from domain.errors import InvalidEventTime
from domain.models import (
    Allocate,
    CaseStatus,
    Clock,
    Close,
    CompleteAssessment,
    Concern,
    ConcludeS47,
    Decide,
    DeliveryFailure,
    Event,
    HistoryEntry,
    MaseStatus,
    MissingEpisode,
    RaiseProfessionalConcern,
    Receipt,
    RecordConsultation,
    RecordCpConference,
    RecordCpReview,
    RecordMissingEpisode,
    RecordReturnInterview,
    RecordReview,
    RecordSafetyPlan,
    RecordScreening,
    RecordStrategyDiscussion,
    Referral,
    ReferToMase,
    Stage,
)
from domain.notifications import (
    Addressee,
    Notification,
    NotificationKind,
    clock_notice,
    event_notice,
)
from domain.pathway import mase_blocker, next_stage
from domain.policy import ClockName, Policy, StepName
from domain.roles import Role


class StrategyDiscussion(BaseModel):
    held_at: datetime
    chair_role: Role
    outcome: str


class ProfessionalConcern(BaseModel):
    level: Concern
    note: str
    raised_at: datetime


class Case(BaseModel):
    referral: Referral
    policy: Policy
    stage: Stage = Stage.referral_received
    risk_score: int | None = None
    latest_scored_at: datetime | None = None
    professional_concern: Concern | None = None
    complex: bool = False
    team: str
    allocated_to: str | None = None
    clocks: list[Clock] = []
    clock_count: int = 0
    history: list[HistoryEntry] = []
    strategy_discussions: list[StrategyDiscussion] = []
    cris_number: str | None = None
    mase: MaseStatus = MaseStatus()
    missing_episodes: list[MissingEpisode] = []
    concerns_raised: list[ProfessionalConcern] = []
    closed_reason: str | None = None
    case_key: str | None = None
    """Which case of this referral id this is (the engine's first run of it), for notification
    ids; None in cases opened before it was kept."""
    delivery_failures: list[DeliveryFailure] = []

    @classmethod
    def open(
        cls, referral: Referral, policy: Policy, now: datetime, case_key: str | None = None
    ) -> tuple[Case, list[Notification]]:
        """A referral has been received: open its first clocks."""
        case = cls(referral=referral, policy=policy, team=referral.team, case_key=case_key)
        case._open_clock(ClockName.referral_decision, referral.received_at)
        if referral.significant_harm_suspected:
            case._open_clock(ClockName.strategy_discussion, referral.received_at)
        return case, case.fire_due_steps(now)

    # -- reading -------------------------------------------------------------------------
    @property
    def referral_id(self) -> str:
        return self.referral.referral_id

    @property
    def is_closed(self) -> bool:
        return self.stage == Stage.closed

    def running(self, name: ClockName) -> Clock | None:
        return next((c for c in self.clocks if c.name == name and c.running), None)

    @property
    def overdue(self) -> bool:
        return any(c.running and c.state == "breached" for c in self.clocks)

    @property
    def next_due(self) -> datetime | None:
        return min((c.due_at for c in self.clocks if c.running), default=None)

    def next_wakeup(self) -> datetime | None:
        return min(filter(None, (next_step_at(c) for c in self.clocks)), default=None)

    def status(self) -> CaseStatus:
        return CaseStatus(
            referral_id=self.referral_id,
            stage=self.stage,
            risk_score=self.risk_score,
            complex=self.complex,
            professional_concern=self.professional_concern,
            team=self.team,
            allocated_to=self.allocated_to,
            clocks=self.clocks,
            history=self.history,
            mase=self.mase,
            missing_episodes=self.missing_episodes,
            closed_reason=self.closed_reason,
            mase_blocker=mase_blocker(self),
            delivery_failures=self.delivery_failures,
            overdue=self.overdue,
            next_due=self.next_due,
            policy_version=self.policy.version,
        )

    # -- deciding and recording ---------------------------------------------------------
    def check(self, event: Event, now: datetime) -> Stage:
        """Where the event would take the case; raises a PathwayRefusal if it may not."""
        self._check_times(event, now)
        return next_stage(self, event)

    def apply(self, event: Event, now: datetime) -> list[Notification]:
        """Record an accepted event. Call only after `check` has passed for the same event."""
        target = self.check(event, now)
        before = self.stage
        self.stage = target
        handler: Callable[[Any, datetime], list[Notification]] = getattr(self, f"_on_{event.name}")
        notices = handler(event, now)
        if target != before:
            self._left(before, event.occurred_at)
            self._entered(target, event)
        self.history.append(
            HistoryEntry(
                event=event.name,
                at=event.occurred_at,
                recorded_at=now,
                actor=event.actor,
                details=event.details(),
            )
        )
        return notices + self.fire_due_steps(now)

    def receipt(self) -> Receipt:
        """The receipt of the event recorded last."""
        last = self.history[-1]
        return Receipt(
            referral_id=self.referral_id,
            stage=self.stage,
            event=last.event,
            at=last.at,
            recorded_at=last.recorded_at,
            next_due=self.next_due,
        )

    def fire_due_steps(self, now: datetime) -> list[Notification]:
        notices = []
        for clock in self.clocks:
            step = steps_come_due(self.policy, clock, now)
            if step is not None:
                notice = self._clock_notice(clock, step.step)
                step.roles = notice.roles
                notices.append(notice)
        return notices

    def _check_times(self, event: Event, now: datetime) -> None:
        skew = timedelta(minutes=self.policy.clock_skew_minutes)
        for at in event.times():
            if at > now + skew:
                raise InvalidEventTime(
                    f"{event.name}: {at.isoformat()} is in the future; record what has happened",
                    rule="event_time_in_future",
                )
            if at < self.referral.received_at:
                raise InvalidEventTime(
                    f"{event.name}: {at.isoformat()} is before the referral was received "
                    f"({self.referral.received_at.isoformat()})",
                    rule="event_time_before_referral",
                )

    # -- what each event does (after the machine has accepted it) -------------------------
    def _on_decide(self, event: Decide, now: datetime) -> list[Notification]:
        self._stop(ClockName.referral_decision, event.decided_at)
        return []

    def _on_record_screening(self, event: RecordScreening, now: datetime) -> list[Notification]:
        self._score(event.score, event.professional_concern, event.screened_at)
        self.complex = event.complex
        return self._consider_consultation(event.screened_at)

    def _on_complete_assessment(
        self, event: CompleteAssessment, now: datetime
    ) -> list[Notification]:
        self._stop(ClockName.assessment, event.completed_at)
        if event.outcome != "strategy_discussion":
            self._cancel(ClockName.strategy_discussion, event.completed_at)
        elif not self.running(ClockName.strategy_discussion):
            self._open_clock(ClockName.strategy_discussion, event.completed_at)
        return []

    def _on_record_strategy_discussion(
        self, event: RecordStrategyDiscussion, now: datetime
    ) -> list[Notification]:
        self._stop(ClockName.strategy_discussion, event.held_at)
        self._stop(ClockName.further_strategy_meeting, event.held_at)
        self.strategy_discussions.append(
            StrategyDiscussion(
                held_at=event.held_at, chair_role=event.chair_role, outcome=event.outcome
            )
        )
        if event.cris_number:
            self.cris_number = event.cris_number
        return []

    def _on_conclude_s47(self, event: ConcludeS47, now: datetime) -> list[Notification]:
        if event.outcome == "cp_conference" and not self.running(ClockName.initial_cp_conference):
            held_at = self.strategy_discussions[-1].held_at
            self._open_clock(ClockName.initial_cp_conference, held_at)
        return []

    def _on_agree_cin_plan(self, event: Event, now: datetime) -> list[Notification]:
        return []

    def _on_record_cp_conference(
        self, event: RecordCpConference, now: datetime
    ) -> list[Notification]:
        self._stop(ClockName.initial_cp_conference, event.held_at)
        if event.outcome == "cp_plan":
            self._open_clock(ClockName.cp_review_conference, event.held_at)
        return []

    def _on_record_cp_review(self, event: RecordCpReview, now: datetime) -> list[Notification]:
        self._stop(ClockName.cp_review_conference, event.held_at)
        if event.outcome == "continue_plan":
            interval = self.policy.cp_review_interval
            due = due_after(self.policy, interval, event.held_at)
            self._open_clock(ClockName.cp_review_conference, event.held_at, due)
        return []

    def _on_record_safety_plan(self, event: RecordSafetyPlan, now: datetime) -> list[Notification]:
        self._stop(ClockName.safety_plan, event.agreed_at)
        self._open_risk_review(event.agreed_at)
        return []

    def _on_record_review(self, event: RecordReview, now: datetime) -> list[Notification]:
        self._stop(ClockName.risk_review, event.reviewed_at)
        self._score(event.score, event.professional_concern, event.reviewed_at)
        if event.score >= 2:
            self._open_risk_review(event.reviewed_at)
            if self.running(ClockName.further_strategy_meeting) is None:
                self._open_clock(ClockName.further_strategy_meeting, event.reviewed_at)
        return []

    def _on_refer_to_mase(self, event: ReferToMase, now: datetime) -> list[Notification]:
        self.cris_number = event.cris_number or self.cris_number
        self.mase = MaseStatus(
            referred=True, referred_at=event.referred_at, cris_number=self.cris_number
        )
        return []

    def _on_record_missing_episode(
        self, event: RecordMissingEpisode, now: datetime
    ) -> list[Notification]:
        known = {e.went_missing_at for e in self.missing_episodes}
        episode = self._episode(event)
        if event.returned_at is not None and episode.returned_at is None:
            episode.returned_at = event.returned_at
            self._open_clock(ClockName.return_home_interview, event.returned_at)
        if self.stage == Stage.review:
            self._bring_review_forward(event.returned_at or event.went_missing_at)
        new_episode = event.went_missing_at not in known
        if new_episode and self._missing_repeatedly(event.went_missing_at):
            self._open_strategy_discussion(event.went_missing_at)
        what = "missing episode recorded"
        return [self._notice(NotificationKind.missing_episode, [Role.social_worker], what)]

    def _on_record_return_interview(
        self, event: RecordReturnInterview, now: datetime
    ) -> list[Notification]:
        self._stop(ClockName.return_home_interview, event.held_at)
        return []

    def _on_raise_professional_concern(
        self, event: RaiseProfessionalConcern, now: datetime
    ) -> list[Notification]:
        self.professional_concern = event.level
        self.concerns_raised.append(
            ProfessionalConcern(level=event.level, note=event.note, raised_at=event.raised_at)
        )
        return self._consider_consultation(event.raised_at)

    def _on_record_consultation(
        self, event: RecordConsultation, now: datetime
    ) -> list[Notification]:
        self._stop(ClockName.consultation, event.held_at)
        if event.outcome == "strategy_discussion":
            self._open_strategy_discussion(event.held_at)
        return []

    def _on_allocate(self, event: Allocate, now: datetime) -> list[Notification]:
        self.allocated_to = event.social_worker
        self.team = event.team
        return [self._notice(NotificationKind.allocation, [Role.social_worker], "case allocated")]

    def _on_close(self, event: Close, now: datetime) -> list[Notification]:
        self.closed_reason = event.reason
        return []

    # -- helpers ------------------------------------------------------------------------
    def record_delivery_failure(
        self, notification: Notification, problem: str, now: datetime
    ) -> list[Notification]:
        """A notification could not be delivered (a bad address): keep it and tell the manager."""
        failure = DeliveryFailure(
            notification_id=notification.notification_id, failed_at=now, problem=problem
        )
        self.delivery_failures.append(failure)
        if notification.kind == NotificationKind.delivery_failed:
            return []  # the manager's own notice failed: recorded, not raised again in a loop
        what = f"a notification could not be delivered ({notification.notification_id})"
        key = f"{len(self.delivery_failures)}"
        return [self._notice(NotificationKind.delivery_failed, [Role.team_manager], what, key)]

    def _left(self, stage: Stage, at: datetime) -> None:
        """Clocks that belong to a stage end when the case leaves it without them."""
        for name in _STAGE_CLOCKS.get(stage, ()):
            self._cancel(name, at)

    def _entered(self, stage: Stage, event: Event) -> None:
        if stage == Stage.assessment:
            self._open_clock(ClockName.assessment, self.referral.received_at)
        elif stage == Stage.safety_plan:
            self._open_clock(ClockName.safety_plan, event.occurred_at)
        elif stage == Stage.closed:
            self.closed_reason = self.closed_reason or _closing_reason(event)
            for clock in self.clocks:
                if clock.running:
                    cancel_clock(clock, event.occurred_at)

    def _score(self, score: int, concern: Concern, at: datetime) -> None:
        self.risk_score = score
        self.professional_concern = concern
        self.latest_scored_at = at

    def _episode(self, event: RecordMissingEpisode) -> MissingEpisode:
        for episode in self.missing_episodes:
            if episode.went_missing_at == event.went_missing_at:
                return episode
        episode = MissingEpisode(went_missing_at=event.went_missing_at)
        self.missing_episodes.append(episode)
        return episode

    def _open_risk_review(self, at: datetime) -> None:
        """3 calendar months after the latest screening or review (the directive)."""
        self._open_clock(ClockName.risk_review, self.latest_scored_at or at)

    def _bring_review_forward(self, at: datetime) -> None:
        review = self.running(ClockName.risk_review)
        sooner = due_after(self.policy, self.policy.missing_episode_review, at)
        if review is None or review.due_at <= sooner:
            return
        cancel_clock(review, at)
        self._open_clock(ClockName.risk_review, at, sooner)

    def _open_clock(
        self, name: ClockName, counted_from: datetime, due: datetime | None = None
    ) -> None:
        due_at = due or due_after(self.policy, self.policy.deadline(name), counted_from)
        self.clock_count += 1
        clock_id = f"{name.value}-{self.clock_count}"
        self.clocks.append(new_clock(self.policy, clock_id, name, counted_from, due_at))

    def _consider_consultation(self, at: datetime) -> list[Notification]:
        """A low score with high professional concern needs consultation (the directive)."""
        low_score = (self.risk_score or 0) <= 1
        if self.professional_concern != Concern.high or not low_score:
            return []
        if self.running(ClockName.consultation):
            return []
        self._open_clock(ClockName.consultation, at)
        roles = self.policy.clock_owners[ClockName.consultation]
        what = "high professional concern with a low score: consultation needed"
        return [self._notice(NotificationKind.consultation, roles, what)]

    def _missing_repeatedly(self, went_missing_at: datetime) -> bool:
        """Some window of the policy's length holds this episode and enough others, whatever
        order the episodes were recorded in."""
        window = timedelta(days=self.policy.missing_episodes_window_days)
        times = sorted(e.went_missing_at for e in self.missing_episodes)
        return any(
            start <= went_missing_at <= start + window
            and sum(start <= t <= start + window for t in times)
            >= self.policy.missing_episodes_for_strategy
            for start in times
        )

    def _open_strategy_discussion(self, at: datetime) -> None:
        if self.is_closed:
            return
        if not (
            self.running(ClockName.strategy_discussion)
            or self.running(ClockName.further_strategy_meeting)
        ):
            self._open_clock(ClockName.strategy_discussion, at)

    def _cancel(self, name: ClockName, at: datetime) -> None:
        clock = self.running(name)
        if clock is not None:
            cancel_clock(clock, at)

    def _stop(self, name: ClockName, at: datetime) -> None:
        clock = self.running(name)
        if clock is not None:
            stop_clock(clock, at)

    def _addressee(self) -> Addressee:
        return Addressee(
            referral_id=self.referral_id,
            team=self.team,
            social_worker=self.allocated_to,
            case_key=self.case_key,
        )

    def _clock_notice(self, clock: Clock, step: StepName) -> Notification:
        roles = self.policy.ladder_roles(clock.name, step, self.complex)
        return clock_notice(self._addressee(), clock.id, clock.name, step, clock.due_at, roles)

    def _notice(
        self, kind: NotificationKind, roles: list[Role], what: str, key: str | None = None
    ) -> Notification:
        """An event's own notification, keyed by the event's place in the history."""
        key = key or str(len(self.history) + 1)
        return event_notice(self._addressee(), kind, key, roles, what)


_STAGE_CLOCKS: dict[Stage, tuple[ClockName, ...]] = {
    Stage.assessment: (ClockName.assessment,),
    Stage.safety_plan: (ClockName.safety_plan,),
    Stage.review: (ClockName.risk_review, ClockName.further_strategy_meeting),
}


def _closing_reason(event: Event) -> str:
    outcome = getattr(event, "outcome", None) or getattr(event, "decision", None)
    if isinstance(event, RecordReview):
        return f"risk reduced: review scored {event.score}"
    if isinstance(event, Decide) and event.reason:
        return f"decide: nfa ({event.reason})"
    return f"{event.name}: {outcome}" if outcome else event.name
