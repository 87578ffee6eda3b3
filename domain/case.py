"""One child's case: the facts recorded so far.

`Case.check` refuses an event (raising a PathwayRefusal) without changing anything;
`Case.apply` records it through the pathway machine (domain/pathway.py), whose effects
(domain/effects.py) move the stage and open and stop clocks (docs/rules.md, Clocks), and
returns the notifications to send. `Case.fire_due_steps` runs
the escalation ladders when their time comes. The whole case is one pydantic model so a
workflow can carry it across continue-as-new unchanged.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from pydantic import BaseModel

from domain.clocks import (
    cancel_clock,
    due_after,
    new_clock,
    next_step_at,
    steps_come_due,
    stop_clock,
)
from domain.errors import InvalidEventTime, PathwayRefusal
from domain.events import Event
from domain.notifications import (
    Addressee,
    Notification,
    NotificationKind,
    clock_notice,
    event_notice,
)
from domain.partners import NOTHING_YET, Before, partner_notices
from domain.pathway import (
    INITIAL_TRACKS,
    PLAN_TRACK,
    current_tracks,
    mase_blocker,
    next_stage,
    record,
)
from domain.policy import ClockName, Policy, StepName
from domain.referral import Referral
from domain.roles import Role
from domain.status import (
    CaseStatus,
    Clock,
    DeliveryFailure,
    DisruptionActivity,
    EarlierReferral,
    HistoryEntry,
    MaseStatus,
    MissingEpisode,
    ProfessionalConcern,
    Receipt,
    Screening,
    StrategyDiscussion,
)
from domain.timing import IN_THE_FUTURE, is_in_the_future
from domain.transition import transition_opens_at
from domain.vocabulary import Concern, Stage

RuleAsker = Callable[[], bool]
"""Asked once, when a rule that came in while the case ran first matters: True to take it."""


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
    disruption_activities: list[DisruptionActivity] = []
    tracks: dict[str, str] = {}
    """Where the case is on each track beside its stage (domain/pathway.py); empty in cases
    carried over from before the tracks, which are read from their stage and clocks."""
    screenings: list[Screening] = []
    earlier_referrals: list[EarlierReferral] = []
    """The child's earlier cases, found once when the case opened (workflows/referral.py)."""
    re_referral: bool = False
    other_authorities: list[str] = []
    """The local authorities named on the referral other than ours, from the opening answer
    (docs/rules.md, One child across referrals): told of the case at its MASE referral,
    strategy discussions and closing."""
    partners_told: bool | None = None
    """Are partners told when strategy meetings fall due and the MASE panel acts (docs/rules.md,
    The MASE panel)? None in a case recorded before: asked when it first matters."""
    plan_rule: bool | None = None
    """Does a child protection plan in force keep this case open (contract v3)? None until
    it matters: a case recorded before the rule is asked then (workflows/referral.py)."""

    @classmethod
    def open(
        cls,
        referral: Referral,
        policy: Policy,
        now: datetime,
        case_key: str | None = None,
        plan_rule: bool | None = True,
        partners_told: bool | None = True,
        ask: RuleAsker | None = None,
    ) -> tuple[Case, list[Notification]]:
        """A referral has been received: open its first clocks. `partners_told` None asks
        `ask` when partners would first be told (see `apply`)."""
        case = cls(
            referral=referral,
            policy=policy,
            team=referral.team,
            case_key=case_key,
            tracks=dict(INITIAL_TRACKS),
            plan_rule=plan_rule,
            partners_told=partners_told,
        )
        case.open_clock(ClockName.referral_decision, referral.received_at)
        if referral.significant_harm_suspected:
            case.open_clock(ClockName.strategy_discussion, referral.received_at)
        notices = case._partners_told(NOTHING_YET, None, ask)
        return case, notices + case.fire_due_steps(now)

    # -- reading -------------------------------------------------------------------------
    @property
    def referral_id(self) -> str:
        return self.referral.referral_id

    @property
    def is_closed(self) -> bool:
        return self.stage == Stage.closed

    @property
    def cp_plan_in_force(self) -> bool:
        return current_tracks(self)[PLAN_TRACK] == "plan_in_force"

    def plan_rule_matters(self, event: Event) -> bool:
        """Would this event be taken otherwise by a case recorded before the plan rule? The
        machine answers with the rule and without it; only a plan in force can tell them apart.
        Asked at no other moment: the workflow's patch gives one answer per run."""
        if self.plan_rule is not None or not self.cp_plan_in_force:
            return False
        return _outcome(self, event, plan_rule=True) != _outcome(self, event, plan_rule=False)

    def running(self, name: ClockName) -> Clock | None:
        return next((c for c in self.clocks if c.name == name and c.running), None)

    @property
    def overdue(self) -> bool:
        return any(c.running and c.state == "breached" for c in self.clocks)

    @property
    def next_due(self) -> datetime | None:
        return min((c.due_at for c in self.clocks if c.running), default=None)

    def next_wakeup(self) -> datetime | None:
        """The next ladder step due, or the moment transition planning opens if sooner."""
        soonest = min(filter(None, (next_step_at(c) for c in self.clocks)), default=None)
        opens_at = self.transition_opens_at
        if opens_at is None:  # always so without a date of birth: cases run as recorded
            return soonest
        return opens_at if soonest is None else min(soonest, opens_at)

    @property
    def transition_opens_at(self) -> datetime | None:
        """When the transition planning clock is due to open (docs/rules.md, One child across
        referrals), while this open case has not opened it; None without a date of birth."""
        opens_at = transition_opens_at(self.referral, self.policy)
        if opens_at is None or self.is_closed:
            return None
        if any(c.name == ClockName.transition_planning for c in self.clocks):
            return None
        return opens_at

    def status(self) -> CaseStatus:
        return CaseStatus(
            referral_id=self.referral_id,
            received_at=self.referral.received_at,
            stage=self.stage,
            risk_score=self.risk_score,
            complex=self.complex,
            professional_concern=self.professional_concern,
            team=self.team,
            allocated_to=self.allocated_to,
            clocks=self.clocks,
            history=self.history,
            mase=self._mase_status(),
            missing_episodes=self.missing_episodes,
            closed_reason=self.closed_reason,
            mase_blocker=mase_blocker(self),
            delivery_failures=self.delivery_failures,
            disruption_activities=self.disruption_activities,
            overdue=self.overdue,
            next_due=self.next_due,
            policy_version=self.policy.version,
            cp_plan_in_force=self.cp_plan_in_force,
            tracks={} if self.is_closed else current_tracks(self),
            screenings=self.screenings,
            strategy_discussions=self.strategy_discussions,
            earlier_referrals=self.earlier_referrals,
            re_referral=self.re_referral,
            age_at_referral=self.referral.age_at_referral,
            looked_after=self.referral.looked_after,
            placing_authority=self.referral.placing_authority,
            host_authority=self.referral.host_authority,
            other_authorities=self.other_authorities,
        )

    def _mase_status(self) -> MaseStatus:
        """The MASE record, each action in its clock's state."""
        if not self.mase.actions:
            return self.mase
        states = {c.id: c.state for c in self.clocks}
        actions = [
            a.model_copy(update={"state": states.get(a.clock_id, a.state)})
            for a in self.mase.actions
        ]
        return self.mase.model_copy(update={"actions": actions})

    # -- deciding and recording ---------------------------------------------------------
    def check(self, event: Event, now: datetime) -> Stage:
        """Where the event would take the case; raises a PathwayRefusal if it may not."""
        self._check_times(event, now)
        return next_stage(self, event, plan_rule=self.plan_rule is not False)

    def apply(
        self, event: Event, now: datetime, ask: RuleAsker | None = None
    ) -> list[Notification]:
        """Record an event: its stage, effects (domain/effects.py) and history entry, the
        partners it tells (domain/partners.py) and the ladder steps now due; raises a
        PathwayRefusal, changing nothing, if it may not. A case recorded before partners
        were told asks `ask` (the workflow's patch) the first time it would tell them."""
        self._check_times(event, now)
        before = Before.of(self)
        notices = record(self, event, plan_rule=self.plan_rule is not False)
        notices += self._partners_told(before, event, ask)
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

    def _partners_told(
        self, before: Before, event: Event | None, ask: RuleAsker | None
    ) -> list[Notification]:
        told = partner_notices(self, before, event)
        if told and self.partners_told is None:
            self.partners_told = ask() if ask is not None else False
        return told if self.partners_told else []

    def fire_due_steps(self, now: datetime) -> list[Notification]:
        """Open the clocks whose moment has come, then send the ladder steps now due."""
        self.open_due_clocks(now)
        notices = []
        for clock in self.clocks:
            step = steps_come_due(self.policy, clock, now)
            if step is not None:
                notice = self._clock_notice(clock, step.step)
                step.roles = notice.roles
                notices.append(notice)
        return notices

    def open_due_clocks(self, now: datetime) -> None:
        """Clocks opened by time, not by an event: transition planning, once the child has
        reached its age (counted from the referral for a child referred older). Nothing
        without a date of birth."""
        opens_at = self.transition_opens_at
        if opens_at is not None and opens_at <= now:
            counted_from = max(opens_at, self.referral.received_at)
            self.open_clock(ClockName.transition_planning, counted_from)

    def _check_times(self, event: Event, now: datetime) -> None:
        for at in event.times():
            if is_in_the_future(at, now, self.policy):
                raise InvalidEventTime(
                    f"{event.name}: {at.isoformat()} {IN_THE_FUTURE}; record what has happened",
                    rule="event_time_in_future",
                )
            if at < self.referral.received_at:
                raise InvalidEventTime(
                    f"{event.name}: {at.isoformat()} is before the referral was received "
                    f"({self.referral.received_at.isoformat()})",
                    rule="event_time_before_referral",
                )

    # -- what the effects use (domain/effects.py) -------------------------------------------
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
        return [self.notice(NotificationKind.delivery_failed, [Role.team_manager], what, key)]

    def open_clock(
        self, name: ClockName, counted_from: datetime, due: datetime | None = None
    ) -> Clock:
        due_at = due or due_after(self.policy, self.policy.deadline(name), counted_from)
        self.clock_count += 1
        clock_id = f"{name.value}-{self.clock_count}"
        clock = new_clock(self.policy, clock_id, name, counted_from, due_at)
        self.clocks.append(clock)
        return clock

    def cancel(self, name: ClockName, at: datetime) -> None:
        clock = self.running(name)
        if clock is not None:
            cancel_clock(clock, at)

    def stop(self, name: ClockName, at: datetime) -> None:
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
        roles = self.policy.ladder_roles(clock.name, step, self.complex, clock.owner_role)
        return clock_notice(self._addressee(), clock.id, clock.name, step, clock.due_at, roles)

    def notice(
        self, kind: NotificationKind, roles: list[Role], what: str, key: str | None = None
    ) -> Notification:
        """An event's own notification, keyed by the event's place in the history."""
        key = key or str(len(self.history) + 1)
        return event_notice(self._addressee(), kind, key, roles, what)


def _outcome(case: Case, event: Event, plan_rule: bool) -> str:
    """Where the event would take the case, or the rule that refuses it."""
    try:
        return next_stage(case, event, plan_rule).value
    except PathwayRefusal as refusal:
        return f"refused: {refusal.rule}"
