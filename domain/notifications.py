"""What the service asks to be sent: addressed to roles, never carrying child details.

A notification says which case (its referral id), what is due or overdue and when, and
where to look. The child's identity, the referral summary and the concerns never appear:
email is not a safe place for them.
"""

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict

from domain.policy import ClockName, StepName
from domain.roles import Role


class NotificationKind(StrEnum):
    clock_step = "clock_step"
    allocation = "allocation"
    missing_episode = "missing_episode"
    consultation = "consultation"
    delivery_failed = "delivery_failed"
    mase_agenda = "mase_agenda"
    oversight_report = "oversight_report"
    strategy_meeting_needed = "strategy_meeting_needed"
    mase_referral = "mase_referral"
    mase_case_ended = "mase_case_ended"
    mase_escalation = "mase_escalation"
    authority_informed = "authority_informed"  # another local authority's contact


class Notification(BaseModel):
    notification_id: str
    kind: NotificationKind
    referral_id: str
    team: str
    roles: list[Role]
    authorities: list[str] = []
    """Other local authorities' codes: the directory sends to each one's contact
    (docs/rules.md, Who is told)."""
    social_worker: str | None = None
    clock: ClockName | None = None
    step: StepName | None = None
    due_at: datetime | None = None
    subject: str
    link_path: str


_STEP_WORDS = {
    StepName.reminder: "due soon",
    StepName.breach: "overdue",
    StepName.escalation: "overdue: escalated",
    StepName.strategic_escalation: "overdue: strategic escalation",
}


def what_is_due(clock: ClockName, step: StepName) -> str:
    """The deadline and how far along its ladder it is: `strategy discussion overdue`."""
    return f"{clock.value.replace('_', ' ')} {_STEP_WORDS[step]}"


def clock_subject(referral_id: str, clock: ClockName, step: StepName, due_at: datetime) -> str:
    when = due_at.strftime("%a %d %b %Y %H:%M %Z")
    return f"Case {referral_id}: {what_is_due(clock, step)} (due {when})"


class Addressee(BaseModel):
    """The only facts of a case a notification may carry: its reference, team and worker.

    `case_key` tells this case from any other ever started under the same referral id (see
    `Case.case_key`); notification ids begin with it, so two such cases never share one."""

    model_config = ConfigDict(frozen=True)
    referral_id: str
    team: str
    social_worker: str | None
    case_key: str | None = None

    @property
    def case_ref(self) -> str:
        """How a notification id names its case: `R-1~<case key>`, or `R-1` for cases opened
        before case keys existed (their ids must not change while they run)."""
        return self.referral_id if self.case_key is None else f"{self.referral_id}~{self.case_key}"

    @property
    def case_page(self) -> str:
        """Where a person reading a notification opens the case: its dashboard page."""
        return f"/dashboard/cases/{self.referral_id}"


def clock_notice(
    to: Addressee,
    clock_id: str,
    clock: ClockName,
    step: StepName,
    due_at: datetime,
    roles: list[Role],
) -> Notification:
    """A rung of a clock's ladder; its id (case, clock, step) makes a resend recognisable."""
    return Notification(
        notification_id=f"{to.case_ref}:{clock_id}:{step.value}",
        kind=NotificationKind.clock_step,
        referral_id=to.referral_id,
        team=to.team,
        roles=roles,
        social_worker=to.social_worker,
        clock=clock,
        step=step,
        due_at=due_at,
        subject=clock_subject(to.referral_id, clock, step, due_at),
        link_path=to.case_page,
    )


def event_notice(
    to: Addressee, kind: NotificationKind, key: str, roles: list[Role], what: str
) -> Notification:
    """A notification an event itself sends (an allocation, a missing episode, ...)."""
    return Notification(
        notification_id=f"{to.case_ref}:{kind.value}-{key}",
        kind=kind,
        referral_id=to.referral_id,
        team=to.team,
        roles=roles,
        social_worker=to.social_worker,
        subject=f"Case {to.referral_id}: {what}",
        link_path=to.case_page,
    )
