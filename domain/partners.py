"""Who outside the case's team is told, and when (docs/rules.md, Who is told).

The police and the MASH hear when a strategy discussion or further strategy meeting falls to
be held; the MASE chairs and the police when a case is referred to the panel; the chairs when a
referred case closes or steps down; the head of service and the strategic lead when the panel
escalates a case; another local authority named on the case (placing or host: docs/rules.md,
One child across referrals) when the case is referred to MASE, a strategy discussion is held
and the case closes. Each notice says which case, what is needed (and by when) and where to
look: never the child or the concerns. Read by comparing the case before and after an event, so it
holds however the event got there (its effect, a stage entered, the case closed).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from domain.calendar import LONDON
from domain.events import Event, RecordMaseDecision, RecordStrategyDiscussion, ReferToMase
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
    closed: bool = False

    @classmethod
    def of(cls, case: Case) -> Before:
        running = frozenset(c.id for c in case.clocks if c.running)
        return cls(running, case.mase.referred, case.is_closed)


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
    return notices + _authorities_told(case, before, event)


def _authorities_told(case: Case, before: Before, event: Event | None) -> list[Notification]:
    """Other authorities named on the case hear of its referral to MASE, each strategy
    discussion held and its closing: which case, what happened, the link."""
    if not case.other_authorities:
        return []
    happened = []
    if isinstance(event, ReferToMase):
        happened.append(("mase", "referred to MASE"))
    if isinstance(event, RecordStrategyDiscussion):
        happened.append(("strategy", "strategy discussion held"))
    if case.is_closed and not before.closed:
        happened.append(("closed", "case closed"))
    return [_authority_notice(case, key, what) for key, what in happened]


def _authority_notice(case: Case, key: str, what: str) -> Notification:
    told = f"{len(case.history) + 1}-{key}"  # one event may hold a discussion and close
    notice = case.notice(NotificationKind.authority_informed, [], what, key=told)
    return notice.model_copy(update={"authorities": list(case.other_authorities)})


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
