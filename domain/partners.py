"""Who outside the case's team is told, and when (pathway.md section 5a).

The police and the MASH hear when a strategy discussion or further strategy meeting falls to
be held; the MASE chairs and the police when a case is referred to the panel; the chairs when a
referred case closes or steps down; the head of service and the strategic lead when the panel
escalates a case. Each notice says which case, what is needed (and by when) and where to look:
never the child or the concerns. Read by comparing the case before and after an event, so it
holds however the event got there (its effect, a stage entered, the case closed).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from domain.calendar import LONDON
from domain.events import Event, RecordMaseDecision, ReferToMase
from domain.notifications import Notification, NotificationKind
from domain.policy import ClockName
from domain.roles import Role
from domain.status import Clock

if TYPE_CHECKING:
    from domain.case import Case

STRATEGY_CLOCKS = (ClockName.strategy_discussion, ClockName.further_strategy_meeting)


@dataclass(frozen=True)
class Before:
    """What partners' notices compare: the case as it was before the event."""

    running: frozenset[str]
    referred: bool

    @classmethod
    def of(cls, case: Case) -> Before:
        return cls(frozenset(c.id for c in case.clocks if c.running), case.mase.referred)


NOTHING_YET = Before(frozenset(), False)


def partner_notices(case: Case, before: Before, event: Event | None) -> list[Notification]:
    """The partners' notices an event (None: the referral itself) raises on `case`."""
    notices = [_meeting_needed(case, c) for c in _strategy_clocks_opened(case, before)]
    if isinstance(event, ReferToMase):
        roles = [Role.mase_chair, Role.police_spoc]
        notices.append(case.notice(NotificationKind.mase_referral, roles, "referred to MASE"))
    if before.referred and (case.is_closed or not case.mase.referred):
        what = "case closed while referred to MASE" if case.is_closed else "stepped down by MASE"
        notices.append(case.notice(NotificationKind.mase_case_ended, [Role.mase_chair], what))
    if isinstance(event, RecordMaseDecision) and event.decision == "escalate":
        roles = [Role.head_of_service, Role.strategic_lead]
        what = "escalated by the MASE panel"
        notices.append(case.notice(NotificationKind.mase_escalation, roles, what))
    return notices


def _strategy_clocks_opened(case: Case, before: Before) -> list[Clock]:
    return [
        c
        for c in case.clocks
        if c.running and c.name in STRATEGY_CLOCKS and c.id not in before.running
    ]


def _meeting_needed(case: Case, clock: Clock) -> Notification:
    due = clock.due_at.astimezone(LONDON).strftime("%a %d %b %Y %H:%M %Z")
    what = f"{clock.name.value.replace('_', ' ')} needed by {due}"
    roles = [Role.police_spoc, Role.mash]
    notice = case.notice(NotificationKind.strategy_meeting_needed, roles, what, key=clock.id)
    return notice.model_copy(update={"clock": clock.name, "due_at": clock.due_at})
