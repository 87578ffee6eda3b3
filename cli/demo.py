"""A living demo caseload: about forty synthetic cases, then one MASE panel run.

    cse-demo          (or `python -m cli.demo`; `scripts/run.sh --demo` runs it for you)

Against a running service on this machine only: TEMPORAL_ADDRESS, CSE_API_HOST and
CSE_PUBLIC_URL must all be loopback, and no directory of real addresses (CSE_DIRECTORY_FILE)
or GOV.UK Notify key may be set, or it refuses (exit 2) and touches nothing. It reads the
service's own settings (CSE_TASK_QUEUE, CSE_CODEC_KEYS, CSE_PANEL_SCHEDULE_ID, ...) and drives
cases through the project's client exactly as an intake system and practitioners would: each
case starts with REJECT_DUPLICATE + FAIL and its events are updates dated in the past, so the
service's clocks catch up at once. Some clocks are open, some met, some breached with their
escalation ladder sent (only the most severe step due is sent; notifications go where the
service sends them, by default its outbox file), some cases have missing episodes, some are
referred to MASE, and some reviews have closed their case. Then the panel runs once, so the
agenda and the oversight report exist (`/reports/<run date>/...`).

Every case is synthetic: referral ids `DEMO-nnnn`, children `PERSON-DEMO-nnnn`, teams
DEMO-NORTH (the first-run social worker's and manager's, api/first_run.py) and DEMO-SOUTH,
actors at example.org. A second run skips the referral ids that already have a case, so it
changes nothing but may run the panel again for a new day.

Exit codes: 0 done, 1 some case was refused (named with the rule), 2 not on loopback or bad
settings, 3 Temporal did not answer.
"""

from __future__ import annotations

import asyncio
import os
import sys
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from datetime import time as clock_time
from urllib.parse import urlsplit

from temporalio.client import (
    Client,
    WorkflowExecutionStatus,
    WorkflowUpdateFailedError,
)
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError

from api.first_run import DEMO_TEAM
from api.same_origin import is_loopback
from domain.calendar import LONDON
from domain.events import (
    AgreeCinPlan,
    Allocate,
    Close,
    CompleteAssessment,
    ConcludeS47,
    Decide,
    Event,
    RecordConsultation,
    RecordCpConference,
    RecordCpReview,
    RecordMissingEpisode,
    RecordReturnInterview,
    RecordReview,
    RecordSafetyPlan,
    RecordScreening,
    RecordStrategyDiscussion,
    ReferToMase,
)
from domain.oversight import PanelRun
from domain.referral import Referral
from domain.roles import Role
from domain.status import Receipt
from domain.vocabulary import Concern, CseModel, Indicator, Stage
from edge.client import connect
from edge.codec import CodecKeyError
from edge.intake import CaseExists, start_case
from edge.settings import Settings, SettingsRefused, read_settings
from edge.visibility import quoted
from workflows import search_attributes as sa
from workflows.mase_panel import PanelOutcome

PREFIX = "DEMO-"
SOUTH = "DEMO-SOUTH"
TEAMS = (DEMO_TEAM, SOUTH)
PEOPLE = {  # (social worker, team manager) of each team: the north pair can sign in
    DEMO_TEAM: ("demo-sw@example.org", "demo-tm@example.org"),
    SOUTH: ("demo-sw-south@example.org", "demo-tm-south@example.org"),
}
AGENCIES = ("school", "police", "health", "youth_service", "voluntary_sector", "parent")
CONCERNS = (
    [Indicator.sexual_health, Indicator.use_of_technology],
    [Indicator.running_away, Indicator.absent_from_school],
    [Indicator.gangs_older_age_groups_crime, Indicator.unexplained_gifts_or_money],
    [Indicator.alcohol_and_drug_misuse, Indicator.distrust_of_authority],
)
SUMMARY = "Synthetic demo referral: no real child or person."
CONNECT_TIMEOUT = 15.0
VISIBILITY_WAIT = 30.0
PANEL_TIMEOUT = 120.0
CONCURRENCY = 6


class DemoRefused(Exception):
    """The demo will not run here; `exit_code` says why."""

    def __init__(self, message: str, exit_code: int) -> None:
        super().__init__(message)
        self.exit_code = exit_code


# ---- the case book --------------------------------------------------------------------------


@dataclass(frozen=True)
class Timeline:
    """One case's moments: days after its referral, or a while before now."""

    received_at: datetime
    now: datetime
    social_worker: str
    manager: str
    team: str

    def day(self, days: float, hours: float = 0) -> datetime:
        return self.received_at + timedelta(days=days, hours=hours)

    def ago(self, days: float = 0, hours: float = 0) -> datetime:
        return self.now - timedelta(days=days, hours=hours)


Plan = Callable[[Timeline], list[Event]]


@dataclass(frozen=True)
class Story:
    """One demo case: how long ago it was referred, and what has been recorded since.

    `stage` and `overdue` are what the case shows once its events are in, whatever day the
    demo runs (tests/domain/test_demo_book.py checks them over a year of days)."""

    shows: str
    received_ago: timedelta
    team: str
    stage: Stage
    overdue: bool
    plan: Plan
    harm: bool = False


def received_at(now: datetime, ago: timedelta) -> datetime:
    """Within a day: exactly that long ago. Older: 10:00 UK time on that day."""
    if ago < timedelta(days=1):
        return (now - ago).replace(microsecond=0)
    day = (now - ago).astimezone(LONDON).date()
    return datetime.combine(day, clock_time(10, 0), tzinfo=LONDON).astimezone(UTC)


# Building blocks: each returns the events of one step of the pathway, at the times given.


def allocated(t: Timeline, at: datetime) -> list[Event]:
    return [Allocate(social_worker=t.social_worker, team=t.team, allocated_at=at, actor=t.manager)]


def assess(t: Timeline, at: datetime) -> list[Event]:
    return [*allocated(t, at), Decide(decision="assess", decided_at=at, actor=t.social_worker)]


def screened(
    t: Timeline,
    at: datetime,
    score: int,
    concern: Concern = Concern.medium,
    complex_case: bool = False,
) -> list[Event]:
    return [
        RecordScreening(
            score=score,
            indicators=[Indicator.sexual_health, Indicator.running_away][: max(score, 1)],
            cse_models=[CseModel.online] if score else [],
            professional_concern=concern,
            complex=complex_case,
            screened_at=at,
            actor=t.social_worker,
        )
    ]


def to_strategy(t: Timeline, at: datetime) -> list[Event]:
    return [
        CompleteAssessment(
            outcome="strategy_discussion",
            rationale="screening score calls for a strategy discussion",
            completed_at=at,
            actor=t.social_worker,
        )
    ]


def to_cin(t: Timeline, at: datetime) -> list[Event]:
    return [
        CompleteAssessment(
            outcome="cin",
            rationale="needs met under a child in need plan",
            completed_at=at,
            actor=t.social_worker,
        )
    ]


def strategy(
    t: Timeline,
    at: datetime,
    outcome: str,
    cris: str = "",
    chair: Role = Role.team_manager,
) -> list[Event]:
    return [
        RecordStrategyDiscussion.model_validate(
            {
                "held_at": at,
                "chair_role": chair,
                "agencies": ["police", "health", "education"],
                "outcome": outcome,
                "cris_number": cris,
                "actor": t.manager,
            }
        )
    ]


def to_mase(t: Timeline, at: datetime) -> list[Event]:
    return [ReferToMase(referred_at=at, actor=t.social_worker)]


def conclude(t: Timeline, at: datetime, outcome: str) -> list[Event]:
    return [
        ConcludeS47.model_validate({"outcome": outcome, "concluded_at": at, "actor": t.manager})
    ]


def plan_agreed(t: Timeline, at: datetime) -> list[Event]:
    return [RecordSafetyPlan(agreed_at=at, actor=t.social_worker)]


def reviewed(
    t: Timeline, at: datetime, score: int, concern: Concern = Concern.medium
) -> list[Event]:
    return [
        RecordReview(score=score, professional_concern=concern, reviewed_at=at, actor=t.manager)
    ]


def missing(
    t: Timeline, went: datetime, back_after_hours: float, interview_after_hours: float | None
) -> list[Event]:
    returned = went + timedelta(hours=back_after_hours)
    events: list[Event] = [
        RecordMissingEpisode(went_missing_at=went, returned_at=returned, actor=t.social_worker)
    ]
    if interview_after_hours is not None:
        held = returned + timedelta(hours=interview_after_hours)
        events.append(RecordReturnInterview(held_at=held, actor=t.social_worker))
    return events


def cris(t: Timeline) -> str:
    return f"CRIS-DEMO-{t.received_at:%y%m%d}"


def s47_referred(t: Timeline, start: float, score: int = 2) -> list[Event]:
    """Assessed, screened, strategy discussion to a section 47 enquiry, referred to MASE,
    from `start` days after the referral."""
    return [
        *assess(t, t.day(0, 2)),
        *screened(t, t.day(start), score),
        *to_strategy(t, t.day(start + 2)),
        *strategy(t, t.day(start + 3), "s47", cris(t)),
        *to_mase(t, t.day(start + 4)),
    ]


def _days(n: float) -> timedelta:
    return timedelta(days=n)


def _hours(n: float) -> timedelta:
    return timedelta(hours=n)


N, S = DEMO_TEAM, SOUTH
R = Stage

# fmt: off
STORIES: tuple[Story, ...] = (
    # -- referral received: a decision is due ----------------------------------------------
    Story("new, harm suspected: decision and strategy clocks open", _hours(2), N,
          R.referral_received, False, lambda t: [], harm=True),
    Story("new this morning", _hours(5), S, R.referral_received, False,
          lambda t: allocated(t, t.ago(hours=4))),
    Story("no decision for 12 days: breached, ladder sent", _days(12), N,
          R.referral_received, True, lambda t: []),
    Story("no decision, harm suspected: two clocks breached", _days(9), S,
          R.referral_received, True, lambda t: allocated(t, t.day(0, 1)), harm=True),
    # -- assessment --------------------------------------------------------------------------
    Story("assessment open, scored 1: on the agenda, not referred", _days(15), N,
          R.assessment, False, lambda t: [*assess(t, t.day(0, 3)), *screened(t, t.day(5), 1)]),
    Story("assessment open, scored 0", _days(25), S, R.assessment, False,
          lambda t: [*assess(t, t.day(0, 2)), *screened(t, t.day(8), 0, Concern.low)]),
    Story("assessment open, not yet screened", _days(4), N, R.assessment, False,
          lambda t: assess(t, t.day(0, 4))),
    Story("late decision, assessment breached", _days(110), S, R.assessment, True,
          lambda t: [*assess(t, t.day(3)), *screened(t, t.day(20), 2)]),
    Story("complex case, assessment breached", _days(80), N, R.assessment, True,
          lambda t: [*assess(t, t.day(0, 2)), *screened(t, t.day(10), 3, Concern.high, True)]),
    Story("low score, high concern: consultation overdue", _days(10), S, R.assessment, True,
          lambda t: [*assess(t, t.day(0, 2)), *screened(t, t.day(1), 1, Concern.high)]),
    Story("low score, high concern: consultation held", _days(20), N, R.assessment, False,
          lambda t: [
              *assess(t, t.day(0, 2)),
              *screened(t, t.day(2), 0, Concern.high),
              RecordConsultation(held_at=t.day(2, 4), actor=t.manager),
          ]),
    # -- strategy discussion -----------------------------------------------------------------
    Story("strategy discussion due in 3 working days", _days(30), S,
          R.strategy_discussion, False,
          lambda t: [*assess(t, t.day(0, 2)), *screened(t, t.day(10), 2),
                     *to_strategy(t, t.ago(hours=2))]),
    Story("harm suspected, strategy discussion breached", _days(35), N,
          R.strategy_discussion, True,
          lambda t: [*assess(t, t.day(0, 2)), *screened(t, t.day(3), 3),
                     *to_strategy(t, t.day(20))], harm=True),
    # -- section 47 enquiry --------------------------------------------------------------------
    Story("s47 enquiry, referred to MASE", _days(60), S, R.s47_enquiry, False,
          lambda t: s47_referred(t, 5)),
    Story("s47, missing episode, return interview overdue", _days(50), N,
          R.s47_enquiry, True,
          lambda t: [*s47_referred(t, 3), *missing(t, t.day(30), 20, None)]),
    Story("s47, missing episode, return interview held", _days(45), S,
          R.s47_enquiry, False,
          lambda t: [*s47_referred(t, 4, score=3), *missing(t, t.day(40), 6, 20)]),
    Story("complex case chaired by the specialist lead", _days(25), N,
          R.s47_enquiry, False,
          lambda t: [
              *assess(t, t.day(0, 2)),
              *screened(t, t.day(2), 3, Concern.high, True),
              *to_strategy(t, t.day(4)),
              *strategy(t, t.day(5), "s47", cris(t), Role.specialist_safeguarding_lead),
              *to_mase(t, t.day(6)),
          ]),
    # -- child in need -------------------------------------------------------------------------
    Story("child in need after assessment", _days(40), S, R.child_in_need, False,
          lambda t: [*assess(t, t.day(0, 2)), *screened(t, t.day(5), 1),
                     *to_cin(t, t.day(15))]),
    Story("child in need after a strategy discussion", _days(70), N, R.child_in_need, False,
          lambda t: [*assess(t, t.day(0, 2)), *screened(t, t.day(6), 1),
                     *to_strategy(t, t.day(10)), *strategy(t, t.day(12), "cin")]),
    Story("child in need, two missing episodes, one interview overdue", _days(90), S,
          R.child_in_need, True,
          lambda t: [
              *assess(t, t.day(0, 2)),
              *screened(t, t.day(8), 2),
              *to_cin(t, t.day(20)),
              *missing(t, t.day(60), 5, 20),
              *missing(t, t.day(80), 3, None),
          ]),
    # -- safety plan ---------------------------------------------------------------------------
    Story("safety plan due", _days(35), N, R.safety_plan, False,
          lambda t: [*assess(t, t.day(0, 2)), *screened(t, t.day(4), 2),
                     *to_strategy(t, t.day(8)), *strategy(t, t.day(10), "s47", cris(t)),
                     *conclude(t, t.ago(days=2), "risk_of_harm")]),
    Story("child in need plan agreed, safety plan due", _days(50), S, R.safety_plan, False,
          lambda t: [*assess(t, t.day(0, 2)), *screened(t, t.day(5), 1),
                     *to_cin(t, t.day(15)),
                     AgreeCinPlan(agreed_at=t.ago(days=1), actor=t.social_worker)]),
    Story("safety plan breached", _days(75), N, R.safety_plan, True,
          lambda t: [*s47_referred(t, 8), *conclude(t, t.day(30), "risk_of_harm")]),
    Story("conference called: conference and safety plan breached", _days(60), S,
          R.safety_plan, True,
          lambda t: [*assess(t, t.day(0, 2)), *screened(t, t.day(3), 3),
                     *to_strategy(t, t.day(5)), *strategy(t, t.day(7), "s47", cris(t)),
                     *conclude(t, t.day(20), "cp_conference")]),
    # -- review --------------------------------------------------------------------------------
    Story("child protection plan, reviewed at 2, further meeting held", _days(100), N,
          R.review, False,
          lambda t: [
              *s47_referred(t, 3, score=3),
              *conclude(t, t.day(15), "cp_conference"),
              RecordCpConference(held_at=t.day(20), outcome="cp_plan", actor=t.manager),
              *plan_agreed(t, t.day(22)),
              *reviewed(t, t.day(60), 2),
              *strategy(t, t.day(61), "continue"),
          ]),
    Story("plan continued at its review conference, CSE risk now low: in cp_plan", _days(200),
          S, R.cp_plan, False,
          lambda t: [
              *s47_referred(t, 5, score=3),
              *conclude(t, t.day(12), "cp_conference"),
              RecordCpConference(held_at=t.day(18), outcome="cp_plan", actor=t.manager),
              *plan_agreed(t, t.day(20)),
              *reviewed(t, t.day(90), 2),
              *strategy(t, t.day(91), "continue"),
              RecordCpReview(held_at=t.day(105), outcome="continue_plan", actor=t.manager),
              *reviewed(t, t.day(180), 2),
              *strategy(t, t.day(181), "continue"),
              *reviewed(t, t.day(190), 1, Concern.low),
          ]),
    Story("in review, referred to MASE", _days(70), N, R.review, False,
          lambda t: [*s47_referred(t, 10), *conclude(t, t.day(25), "risk_of_harm"),
                     *plan_agreed(t, t.day(30))]),
    Story("review breached", _days(200), N, R.review, True,
          lambda t: [*assess(t, t.day(0, 2)), *screened(t, t.day(5), 1),
                     *to_cin(t, t.day(20)),
                     AgreeCinPlan(agreed_at=t.day(40), actor=t.social_worker),
                     *plan_agreed(t, t.day(45))]),
    Story("reviewed at 3, further strategy meeting breached, no CRIS yet", _days(150), S,
          R.review, True,
          lambda t: [*assess(t, t.day(0, 2)), *screened(t, t.day(5), 2),
                     *to_strategy(t, t.day(10)), *strategy(t, t.day(12), "s47"),
                     *conclude(t, t.day(20), "risk_of_harm"), *plan_agreed(t, t.day(25)),
                     *reviewed(t, t.day(100), 3, Concern.high)]),
    Story("three missing episodes call a strategy meeting", _days(120), N, R.review, False,
          lambda t: [
              *s47_referred(t, 5),
              *conclude(t, t.day(15), "risk_of_harm"),
              *plan_agreed(t, t.day(20)),
              *missing(t, t.day(90), 6, 20),
              *missing(t, t.day(95), 4, 24),
              *missing(t, t.day(100), 8, 20),
              *strategy(t, t.day(102), "continue"),
              *reviewed(t, t.day(104), 2),
              *strategy(t, t.day(105), "continue"),
          ]),
    # -- closed ----------------------------------------------------------------------------------
    Story("no further action at referral", _days(200), S, R.closed, False,
          lambda t: [Decide(decision="nfa", decided_at=t.day(0, 3),
                            reason="no CSE concern", actor=t.social_worker)]),
    Story("no further action the next day", _days(20), N, R.closed, False,
          lambda t: [Decide(decision="nfa", decided_at=t.day(1, 2),
                            reason="information only", actor=t.social_worker)]),
    Story("assessed, scored 0, closed", _days(150), S, R.closed, False,
          lambda t: [*assess(t, t.day(0, 2)), *screened(t, t.day(10), 0, Concern.low),
                     CompleteAssessment(outcome="nfa", completed_at=t.day(30),
                                        actor=t.social_worker)]),
    Story("assessment finished late, closed", _days(300), N, R.closed, False,
          lambda t: [*assess(t, t.day(0, 2)), *screened(t, t.day(20), 0, Concern.low),
                     CompleteAssessment(outcome="nfa", completed_at=t.day(80),
                                        actor=t.social_worker)]),
    Story("strategy discussion: no further action", _days(100), S, R.closed, False,
          lambda t: [*assess(t, t.day(0, 2)), *screened(t, t.day(4), 0),
                     *to_strategy(t, t.day(6)), *strategy(t, t.day(8), "nfa")]),
    Story("closed after two reviews", _days(330), N, R.closed, False,
          lambda t: [*s47_referred(t, 5), *conclude(t, t.day(20), "risk_of_harm"),
                     *plan_agreed(t, t.day(26)), *reviewed(t, t.day(95), 2),
                     *strategy(t, t.day(96), "continue"),
                     *reviewed(t, t.day(180), 0, Concern.low)]),
    Story("review late, scored 1, closed", _days(250), S, R.closed, False,
          lambda t: [*assess(t, t.day(0, 2)), *screened(t, t.day(3), 1),
                     *to_cin(t, t.day(14)),
                     AgreeCinPlan(agreed_at=t.day(20), actor=t.social_worker),
                     *plan_agreed(t, t.day(25)), *reviewed(t, t.day(100), 1, Concern.low)]),
    Story("reviewed at 0, closed", _days(180), N, R.closed, False,
          lambda t: [*s47_referred(t, 10), *conclude(t, t.day(25), "risk_of_harm"),
                     *plan_agreed(t, t.day(30)), *reviewed(t, t.day(85), 0, Concern.low)]),
    Story("closed by the manager: moved away", _days(60), S, R.closed, False,
          lambda t: [*assess(t, t.day(0, 2)), *screened(t, t.day(5), 1),
                     *to_cin(t, t.day(10)),
                     Close(reason="moved to another local authority", closed_at=t.day(40),
                           actor=t.manager)]),
    Story("s47 enquiry: no further action", _days(120), N, R.closed, False,
          lambda t: [*assess(t, t.day(0, 2)), *screened(t, t.day(4), 0),
                     *to_strategy(t, t.day(6)), *strategy(t, t.day(8), "s47"),
                     *conclude(t, t.day(30), "nfa")]),
)
# fmt: on


@dataclass(frozen=True)
class DemoCase:
    story: Story
    referral: Referral
    events: list[Event]

    @property
    def workflow_id(self) -> str:
        return self.referral.workflow_id


def demo_cases(now: datetime) -> list[DemoCase]:
    """The case book as referrals and events, dated relative to `now`."""
    cases = []
    for number, story in enumerate(STORIES, start=1):
        social_worker, manager = PEOPLE[story.team]
        at = received_at(now, story.received_ago)
        timeline = Timeline(at, now, social_worker, manager, story.team)
        referral = Referral(
            referral_id=f"{PREFIX}{number:04d}",
            received_at=at,
            child_ref=f"PERSON-DEMO-{number:04d}",
            team=story.team,
            referrer_agency=AGENCIES[number % len(AGENCIES)],
            concerns=CONCERNS[number % len(CONCERNS)],
            significant_harm_suspected=story.harm,
            summary=SUMMARY,
        )
        cases.append(DemoCase(story, referral, story.plan(timeline)))
    return cases


# ---- against the service ---------------------------------------------------------------------


def address_host(address: str) -> str:
    """The host of `host:port` or `[v6]:port`."""
    if address.startswith("["):
        return address[1 : address.find("]")]
    return address.rsplit(":", 1)[0] if address.count(":") == 1 else address


def refuse_unless_loopback(settings: Settings) -> None:
    """Synthetic cases go only into a service on this machine that notifies nobody (as far as
    this process's settings tell: run it with the service's environment)."""
    places = {
        "TEMPORAL_ADDRESS": address_host(settings.temporal_address),
        "CSE_API_HOST": settings.api_host,
        "CSE_PUBLIC_URL": urlsplit(settings.public_url).hostname or settings.public_url,
    }
    for name, host in places.items():
        if not is_loopback(host):
            raise DemoRefused(
                f"refused: {name} points at {host}, not this machine. The demo caseload is "
                "made only on a service on loopback (127.0.0.0/8, ::1 or localhost)",
                2,
            )
    channels = {
        "CSE_DIRECTORY_FILE": settings.directory_file,
        "CSE_GOVUK_NOTIFY_API_KEY": settings.govuk_notify_api_key,
    }
    for name, value in channels.items():
        if value is not None:
            raise DemoRefused(
                f"refused: {name} is set, so the demo's back-dated cases would send their "
                "reminders and escalations to real people. Run the demo on a service that "
                "writes notifications to its outbox file only",
                2,
            )


@dataclass(frozen=True)
class Seeded:
    new: list[DemoCase]
    existing: int
    refused: list[str]


async def seed_case(client: Client, task_queue: str, case: DemoCase) -> tuple[str, str | None]:
    """Start one case and record its events: ("new" | "existing" | "refused", why)."""
    try:
        handle = client.get_workflow_handle(await start_case(client, case.referral, task_queue))
    except CaseExists:
        return "existing", None
    for event in case.events:
        try:
            await handle.execute_update(event.name, event, result_type=Receipt)
        except WorkflowUpdateFailedError as err:
            cause = err.cause
            why = getattr(cause, "message", None) or str(cause)
            return "refused", f"{case.referral.referral_id}: {event.name} refused: {why}"
    return "new", None


async def seed(client: Client, settings: Settings, cases: Sequence[DemoCase]) -> Seeded:
    gate = asyncio.Semaphore(CONCURRENCY)

    async def one(case: DemoCase) -> tuple[str, str | None]:
        async with gate:
            return await seed_case(client, settings.task_queue, case)

    outcomes = await asyncio.gather(*(one(case) for case in cases))
    return Seeded(
        new=[case for case, (kind, _) in zip(cases, outcomes, strict=True) if kind == "new"],
        existing=sum(kind == "existing" for kind, _ in outcomes),
        refused=[why for kind, why in outcomes if kind == "refused" and why],
    )


@dataclass(frozen=True)
class Listed:
    stage: str | None
    overdue: bool


async def listed(client: Client, settings: Settings, ids: Sequence[str]) -> dict[str, Listed]:
    """What visibility shows of these cases (search attributes only)."""
    query = (
        f"WorkflowType = 'ReferralWorkflow' AND TaskQueue = {quoted(settings.task_queue)} "
        f"AND WorkflowId IN ({', '.join(quoted(i) for i in ids)})"
    )
    found: dict[str, Listed] = {}
    async for run in client.list_workflows(query):
        if run.status == WorkflowExecutionStatus.FAILED:
            continue
        attributes = run.typed_search_attributes
        found[run.id] = Listed(
            stage=attributes.get(sa.CSE_STAGE), overdue=bool(attributes.get(sa.CSE_OVERDUE))
        )
    return found


async def visible(
    client: Client,
    settings: Settings,
    cases: Sequence[DemoCase],
    seeded: Sequence[DemoCase],
    within: float,
) -> dict[str, Listed]:
    """Wait (visibility lags a moment behind the cases) until every case is listed, and
    those just seeded at their story's stage."""
    ids = [c.workflow_id for c in cases]
    wanted = {c.workflow_id: c.story.stage.value for c in seeded}
    deadline = time.monotonic() + within
    while True:
        found = await listed(client, settings, ids)
        if all(i in found for i in ids) and all(
            found[i].stage == stage for i, stage in wanted.items()
        ):
            return found
        if time.monotonic() > deadline:
            return found
        await asyncio.sleep(0.5)


async def run_panel(client: Client, settings: Settings, now: datetime, fresh: bool) -> PanelOutcome:
    """One run of the panel, as the Schedule's action starts it; once a day unless new cases
    were seeded since (then it runs again, so the documents show them)."""
    day = now.astimezone(LONDON).date()
    workflow_id = f"{settings.panel_schedule_id}-demo-{day:%Y%m%d}"
    reuse = (
        WorkflowIDReusePolicy.ALLOW_DUPLICATE
        if fresh
        else WorkflowIDReusePolicy.ALLOW_DUPLICATE_FAILED_ONLY
    )
    try:
        handle = await client.start_workflow(
            "MasePanelWorkflow",
            PanelRun(panel_name=settings.panel_name),
            id=workflow_id,
            task_queue=settings.task_queue,
            id_reuse_policy=reuse,
            id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
            result_type=PanelOutcome,
        )
    except WorkflowAlreadyStartedError:  # today's run is done and nothing new came since
        handle = client.get_workflow_handle(workflow_id, result_type=PanelOutcome)
    return await asyncio.wait_for(handle.result(), timeout=PANEL_TIMEOUT)


async def demo(settings: Settings, out: Callable[[str], None]) -> int:
    refuse_unless_loopback(settings)
    try:
        client = await asyncio.wait_for(connect(settings), timeout=CONNECT_TIMEOUT)
    except CodecKeyError as err:
        raise DemoRefused(f"refused: {err}", 2) from None
    except (RuntimeError, TimeoutError, RPCError) as err:
        raise DemoRefused(
            f"Temporal did not answer at {settings.temporal_address}: {err}", 3
        ) from None
    now = datetime.now(UTC).replace(microsecond=0)
    cases = demo_cases(now)
    started = time.monotonic()
    seeded = await seed(client, settings, cases)
    found = await visible(client, settings, cases, seeded.new, VISIBILITY_WAIT)
    took = time.monotonic() - started
    stages = Counter(entry.stage for entry in found.values())
    overdue = sum(entry.overdue for entry in found.values())
    out(
        f"Demo caseload: {len(seeded.new)} cases seeded, {seeded.existing} already there "
        f"({PREFIX}0001 to {PREFIX}{len(cases):04d}, teams {', '.join(TEAMS)}; {took:.1f} s)."
    )
    by_stage = ", ".join(f"{s.value} {stages[s.value]}" for s in Stage if stages[s.value])
    out(f"  listed: {len(found)} ({by_stage}); {overdue} overdue")
    for why in seeded.refused:
        out(f"  REFUSED {why}")
    outcome = await run_panel(client, settings, now, fresh=bool(seeded.new))
    out(
        f"{settings.panel_name} panel run {outcome.run_date}: {outcome.referred} referred, "
        f"{outcome.not_referred} scoring 1-3 not referred"
    )
    base = settings.public_url.rstrip("/")
    for name, what in (("agenda.html", "agenda"), ("oversight.html", "oversight report")):
        if name in outcome.links:
            out(f"  {what:<17}{base}{outcome.links[name]}")
    return 1 if seeded.refused else 0


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if args:
        print(__doc__, file=sys.stderr)
        return 0 if args in (["-h"], ["--help"]) else 2
    try:
        settings = read_settings()
    except SettingsRefused as err:
        print(f"settings refused: {err}", file=sys.stderr)
        return 2
    try:
        return asyncio.run(demo(settings, print))
    except DemoRefused as err:
        print(err, file=sys.stderr)
        return err.exit_code


def entry_point() -> None:
    """The `cse-demo` console script."""
    code = main()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)  # the SDK's native threads can abort a normal interpreter shutdown


if __name__ == "__main__":
    entry_point()
