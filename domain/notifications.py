"""What the service asks to be sent: addressed to roles, never carrying child details.

A notification says which case (its referral id), what is due or overdue and when, and
where to look. The child's identity, the referral summary and the concerns never appear:
email is not a safe place for them.
"""

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel

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


class Notification(BaseModel):
    notification_id: str
    kind: NotificationKind
    referral_id: str
    team: str
    roles: list[Role]
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


def clock_subject(referral_id: str, clock: ClockName, step: StepName, due_at: datetime) -> str:
    when = due_at.strftime("%a %d %b %Y %H:%M %Z")
    words = _STEP_WORDS[step]
    return f"Case {referral_id}: {clock.value.replace('_', ' ')} {words} (due {when})"
