"""The monthly MASE panel (docs/rules.md, The MASE panel): its agenda and the oversight report.

Plain data in, plain data out. `CaseFacts` is what the panel needs from one case's `status`
(referral id, stage, score, team, clocks, missing episodes, the CSE models and SAFEGUARDED
indicators of its latest screening or review, the agencies missing from each strategy
discussion): never the child's identity, the summary, the push/pull factors or professional
concern notes. From a set of facts:

- `select_agenda` picks the open cases referred to the panel, and the open cases with a latest
  score of 1-3 that are not referred, each with the recorded reason (`mase_blocker`), and
  counts their themes (CSE models and indicators); each case carries the panel's last
  decision and how many of its actions are open and overdue, with their owner roles (section
  5a: the actions' words stay on the case, the agenda is emailed);
- `oversight` aggregates for heads of service and the strategic group: counts by stage and by
  score, new referrals, deadlines met and breached per clock (MASE actions included, each on
  its `mase_action` clock), missing episodes, a 12-month
  trend, and the themes the panel looks for (docs/rules.md, The MASE panel): open cases by CSE model
  and by indicator, and strategy discussions held without an agency the policy expects (police,
  health); the re-referral rate of the last 12 months, and re-referrals per month in the trend
  (docs/rules.md, One child across referrals: a referral within 12 months of an earlier one of
  the same child, as each case found when it opened); open cases by the child's age band at
  referral (under 13, 13-15, 16-17, unknown without a date of birth). Aggregates only: no
  referral id or team appears in it.

Months are calendar months in Europe/London. The report's month is the month of the run; the
trend is the twelve months ending with it. A clock counts as met in the month it stopped, and
as breached in the month it fell due.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from datetime import date, datetime
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, Field

from domain.authorities import PLACED_IN, PLACED_OUT, placement
from domain.calendar import LONDON
from domain.notifications import Notification, NotificationKind
from domain.policy import ClockName
from domain.roles import Role
from domain.status import CaseStatus, ClockState
from domain.transition import AGE_BANDS, age_band
from domain.vocabulary import CseModel, DisruptionAction, Indicator, Stage

TREND_MONTHS = 12
SCORES = ("0", "1", "2", "3", "unscored")
OPEN_STAGES = tuple(s for s in Stage if s != Stage.closed)
AGENDA_ROLES = [Role.mase_chair, Role.mash]
REPORT_ROLES = [Role.head_of_service, Role.data_analyst]
_Theme = TypeVar("_Theme", CseModel, Indicator)
ALWAYS_REPORTED_AGENCIES = ("police", "health")
"""Strategy discussions without them are counted even when none was (docs/rules.md, The MASE
panel)."""


class PanelRun(BaseModel):
    """The panel workflow's input, fixed in the schedule's action by the worker."""

    model_config = ConfigDict(extra="forbid")
    panel_name: str = Field("MASE", min_length=1, max_length=40)


class ClockOutcome(BaseModel):
    name: ClockName
    state: ClockState
    due_at: datetime
    stopped_at: datetime | None = None


class DiscussionFacts(BaseModel):
    """A strategy discussion as the panel counts it: when, and which expected agencies were
    not there (the policy's names, never who attended)."""

    held_at: datetime
    missing_agencies: list[str] = []


class ActionFacts(BaseModel):
    """A MASE action as the panel counts it: whose, by when, done or not (never its words)."""

    owner_role: Role
    due_at: datetime
    state: ClockState
    completed_at: datetime | None = None

    @property
    def is_open(self) -> bool:
        return self.completed_at is None and self.state in (ClockState.open, ClockState.breached)

    @property
    def is_overdue(self) -> bool:
        """Not done, and its clock breached: overdue as the case's own clocks are."""
        return self.is_open and self.state == ClockState.breached


class CaseFacts(BaseModel):
    """What the panel reads from one case's status: no child details.

    Fields added later default to empty, so the facts a panel run read before them (kept in
    its history) still load."""

    referral_id: str
    stage: Stage
    risk_score: int | None
    team: str
    received_at: datetime | None
    next_due: datetime | None
    overdue: bool
    mase_referred: bool
    mase_blocker: str | None
    clocks: list[ClockOutcome]
    missing_episodes: list[datetime]
    disruption_activities: list[tuple[DisruptionAction, datetime]] = []
    latest_cse_models: list[CseModel] = []
    latest_indicators: list[Indicator] = []
    """Of the latest screening or review (a review that gave none carries the last ones)."""
    strategy_discussions: list[DiscussionFacts] = []
    cp_plan_in_force: bool = False
    re_referral: bool = False
    last_mase_decision: str | None = None
    last_mase_decision_at: datetime | None = None
    mase_actions: list[ActionFacts] = []
    age_band: str = AGE_BANDS[-1]
    """The child's age band at referral (AGE_BANDS), never the age or date of birth."""
    looked_after: bool = False
    placement: str = ""
    """Placed in or out of the borough, or across its lines (domain/authorities.py); never
    which authority."""

    @classmethod
    def from_status(cls, status: CaseStatus) -> CaseFacts:
        latest = status.screenings[-1] if status.screenings else None
        return cls(
            referral_id=status.referral_id,
            stage=status.stage,
            risk_score=status.risk_score,
            team=status.team,
            received_at=_received_at(status),
            next_due=status.next_due,
            overdue=status.overdue,
            mase_referred=status.mase.referred,
            mase_blocker=status.mase_blocker,
            clocks=[
                ClockOutcome(name=c.name, state=c.state, due_at=c.due_at, stopped_at=c.stopped_at)
                for c in status.clocks
            ],
            missing_episodes=[e.went_missing_at for e in status.missing_episodes],
            disruption_activities=[(d.action, d.taken_at) for d in status.disruption_activities],
            latest_cse_models=latest.cse_models if latest else [],
            latest_indicators=latest.indicators if latest else [],
            strategy_discussions=[
                DiscussionFacts(held_at=d.held_at, missing_agencies=d.missing_agencies)
                for d in status.strategy_discussions
            ],
            cp_plan_in_force=status.cp_plan_in_force,
            re_referral=status.re_referral,
            age_band=age_band(status.age_at_referral),
            looked_after=status.looked_after,
            placement=placement(
                status.placing_authority, status.host_authority, status.other_authorities
            ),
            **_mase_work(status),
        )

    @property
    def is_open(self) -> bool:
        return self.stage != Stage.closed


def _mase_work(status: CaseStatus) -> dict[str, Any]:
    """The panel's last decision and its actions' owners, dates and states: no action's words."""
    last = status.mase.decisions[-1] if status.mase.decisions else None
    return {
        "last_mase_decision": last.decision if last else None,
        "last_mase_decision_at": last.held_at if last else None,
        "mase_actions": [
            ActionFacts(
                owner_role=a.owner_role, due_at=a.due_at, state=a.state, completed_at=a.completed_at
            )
            for a in status.mase.actions
        ],
    }


def _received_at(status: CaseStatus) -> datetime | None:
    """When the referral was received; a status from before it said so has it as the opening
    of its referral decision clock (docs/rules.md, Clocks)."""
    if status.received_at is not None:
        return status.received_at
    decision = [c.opened_at for c in status.clocks if c.name == ClockName.referral_decision]
    return min(decision or [c.opened_at for c in status.clocks], default=None)


# ---- the agenda ---------------------------------------------------------------------------


class AgendaItem(BaseModel):
    referral_id: str
    stage: Stage
    risk_score: int | None
    team: str
    next_due: datetime | None
    overdue: bool
    why_not_referred: str | None = None
    disruption_activities: int = 0
    """How many disruption actions against those exploiting the child are recorded."""
    cse_models: list[CseModel] = []
    indicators: list[Indicator] = []
    """Of the latest screening or review: counted in the agenda's themes."""
    last_decision: str | None = None
    last_decision_at: datetime | None = None
    open_actions: int = 0
    overdue_actions: int = 0
    action_owners: list[Role] = []
    """The owner roles of the open actions, each once: who must report back to the panel."""
    looked_after: bool = False
    placement: str = ""
    """Placed in or out of the borough, or across its lines; never which authority."""


class ThemeCount(BaseModel):
    """How many cases on the agenda have a theme (a CSE model or an indicator)."""

    theme: str
    referred: int
    not_referred: int


class Agenda(BaseModel):
    referred: list[AgendaItem]
    not_referred: list[AgendaItem]

    @property
    def size(self) -> int:
        return len(self.referred) + len(self.not_referred)

    def cse_model_themes(self) -> list[ThemeCount]:
        return self._themes(list(CseModel), lambda item: item.cse_models)

    def indicator_themes(self) -> list[ThemeCount]:
        return self._themes(list(Indicator), lambda item: item.indicators)

    def _themes(
        self, themes: list[_Theme], of: Callable[[AgendaItem], list[_Theme]]
    ) -> list[ThemeCount]:
        referred = _by_theme(themes, (of(item) for item in self.referred))
        waiting = _by_theme(themes, (of(item) for item in self.not_referred))
        return [
            ThemeCount(theme=t.value, referred=referred[t], not_referred=waiting[t]) for t in themes
        ]


def select_agenda(cases: Iterable[CaseFacts]) -> Agenda:
    """Open cases referred to the panel; open cases scoring 1-3 not referred, with why not.

    Each case's status decides, not the listing that found it: a case referred or closed since
    visibility last caught up lands where its status says.
    """
    referred, not_referred = [], []
    for case in cases:
        if not case.is_open:
            continue
        if case.mase_referred:
            referred.append(_item(case, None))
        elif case.risk_score is not None and 1 <= case.risk_score <= 3:
            not_referred.append(_item(case, case.mase_blocker or "no reason recorded"))
    return Agenda(referred=_ordered(referred), not_referred=_ordered(not_referred))


def _item(case: CaseFacts, why_not: str | None) -> AgendaItem:
    return AgendaItem(
        referral_id=case.referral_id,
        stage=case.stage,
        risk_score=case.risk_score,
        team=case.team,
        next_due=case.next_due,
        overdue=case.overdue,
        why_not_referred=why_not,
        disruption_activities=len(case.disruption_activities),
        cse_models=case.latest_cse_models,
        indicators=case.latest_indicators,
        looked_after=case.looked_after,
        placement=case.placement,
        **_panel_work(case),
    )


def _panel_work(case: CaseFacts) -> dict[str, Any]:
    """The panel's last decision and its open and overdue actions, counted."""
    undone = [a for a in case.mase_actions if a.is_open]
    return {
        "last_decision": case.last_mase_decision,
        "last_decision_at": case.last_mase_decision_at,
        "open_actions": len(undone),
        "overdue_actions": sum(1 for a in undone if a.is_overdue),
        "action_owners": [r for r in Role if any(a.owner_role == r for a in undone)],
    }


def _ordered(items: list[AgendaItem]) -> list[AgendaItem]:
    """Highest score first, then by referral id, so the same cases give the same agenda."""
    unique = {i.referral_id: i for i in items}.values()
    return sorted(unique, key=lambda i: (-(i.risk_score or 0), i.referral_id))


# ---- the oversight report -----------------------------------------------------------------


class ClockTally(BaseModel):
    clock: ClockName
    met: int
    breached: int


class AgencyAbsence(BaseModel):
    """Strategy discussions held without an agency the policy expects there."""

    agency: str
    this_month: int
    last_12_months: int


class DiscussionFigures(BaseModel):
    """Strategy discussions held, and how many of them each expected agency missed (police
    and health always listed, another the policy expects when it missed one)."""

    held_this_month: int = 0
    held_last_12_months: int = 0
    without: list[AgencyAbsence] = []


class MonthFigures(BaseModel):
    month: str  # YYYY-MM
    new_referrals: int
    breaches: int
    re_referrals: int = 0


class Oversight(BaseModel):
    """Aggregates only: no referral id, team or child identifier."""

    as_of: datetime
    month: str
    cases_covered: int
    cases_unreadable: int
    cases_not_running: int = 0
    """Cases whose run ended without the pathway closing them: not read, not counted above."""
    open_cases: int
    open_by_stage: dict[Stage, int]
    open_by_score: dict[str, int]
    new_referrals_this_month: int
    deadlines: list[ClockTally]
    open_cases_with_missing_episodes: int
    missing_episodes_this_month: int
    trend: list[MonthFigures]
    open_cases_with_disruption: int = 0
    disruption_this_month: dict[DisruptionAction, int] = {}
    """Disruption actions taken this month, by kind (the strategy meeting and MASE track them)."""
    open_cases_with_cp_plan: int = 0
    """Open cases with a child protection plan in force (in any stage)."""
    open_cases_screened: int = 0
    """Open cases with a screening or review: those the themes below are counted over."""
    open_by_cse_model: dict[CseModel, int] = {}
    open_by_indicator: dict[Indicator, int] = {}
    """Of each open case's latest screening or review; a case may count under several."""
    strategy_discussions: DiscussionFigures = DiscussionFigures()
    re_referrals_last_12_months: int = 0
    re_referral_rate: float | None = None
    """Re-referrals among the referrals received in the last 12 months, as a percentage (one
    decimal); None when none was received."""
    open_by_age_band: dict[str, int] = {}
    """Open cases by the child's age at referral (AGE_BANDS, every band listed)."""
    open_looked_after: int = 0
    open_placed_in: int = 0
    """Open cases of children placed in the borough by another authority (docs/rules.md, One
    child across referrals)."""
    open_placed_out: int = 0
    """Open cases of children this authority placed in another borough."""


def month_of(moment: datetime) -> str:
    return moment.astimezone(LONDON).strftime("%Y-%m")


def trend_months(as_of: datetime) -> list[str]:
    """The twelve months (YYYY-MM) ending with the month of `as_of`, oldest first."""
    day = as_of.astimezone(LONDON)
    index = day.year * 12 + day.month - 1
    return [f"{i // 12:04d}-{i % 12 + 1:02d}" for i in range(index - TREND_MONTHS + 1, index + 1)]


def window_start(as_of: datetime) -> datetime:
    """The first moment of the trend's first month: closed cases since then are reported."""
    year, month = (int(part) for part in trend_months(as_of)[0].split("-"))
    return datetime(year, month, 1, tzinfo=LONDON)


def oversight(
    cases: Iterable[CaseFacts], as_of: datetime, unreadable: int = 0, not_running: int = 0
) -> Oversight:
    facts = list({c.referral_id: c for c in cases}.values())
    open_cases = [c for c in facts if c.is_open]
    months = trend_months(as_of)
    this_month = months[-1]
    new = Counter(month_of(c.received_at) for c in facts if c.received_at is not None)
    met, breached = _clock_outcomes(facts, set(months))
    re_referrals, rate = _re_referrals(facts, months)
    return Oversight(
        as_of=as_of,
        month=this_month,
        cases_covered=len(facts),
        cases_unreadable=unreadable,
        cases_not_running=not_running,
        open_cases=len(open_cases),
        open_by_stage=_by_stage(open_cases),
        open_by_score=_by_score(open_cases),
        new_referrals_this_month=new[this_month],
        deadlines=[
            ClockTally(clock=name, met=met[name], breached=breached[name]) for name in ClockName
        ],
        open_cases_with_missing_episodes=sum(1 for c in open_cases if c.missing_episodes),
        missing_episodes_this_month=sum(
            1 for c in facts for at in c.missing_episodes if month_of(at) == this_month
        ),
        trend=_trend(facts, months, new),
        open_cases_with_disruption=sum(1 for c in open_cases if c.disruption_activities),
        disruption_this_month=_disruption_in(facts, this_month),
        open_cases_with_cp_plan=sum(1 for c in open_cases if c.cp_plan_in_force),
        open_cases_screened=sum(1 for c in open_cases if c.risk_score is not None),
        open_by_cse_model=_by_theme(list(CseModel), (c.latest_cse_models for c in open_cases)),
        open_by_indicator=_by_theme(list(Indicator), (c.latest_indicators for c in open_cases)),
        strategy_discussions=_discussions(facts, months),
        re_referrals_last_12_months=re_referrals,
        re_referral_rate=rate,
        open_by_age_band=_by_age_band(open_cases),
        open_looked_after=sum(1 for c in open_cases if c.looked_after),
        open_placed_in=sum(1 for c in open_cases if c.placement == PLACED_IN),
        open_placed_out=sum(1 for c in open_cases if c.placement == PLACED_OUT),
    )


def _re_referrals(cases: list[CaseFacts], months: list[str]) -> tuple[int, float | None]:
    """Re-referrals among the referrals received in `months`, and their percentage."""
    received = [c for c in cases if c.received_at and month_of(c.received_at) in months]
    again = sum(1 for c in received if c.re_referral)
    return again, (round(100 * again / len(received), 1) if received else None)


def _by_theme(themes: list[_Theme], per_case: Iterable[list[_Theme]]) -> dict[_Theme, int]:
    """Cases per theme, every theme listed; a case counts once under each theme it has."""
    counts = Counter(theme for chosen in per_case for theme in set(chosen))
    return {theme: counts[theme] for theme in themes}


def _discussions(cases: list[CaseFacts], months: list[str]) -> DiscussionFigures:
    held = [(month_of(d.held_at), d) for c in cases for d in c.strategy_discussions]
    held = [(month, d) for month, d in held if month in months]
    this_month: Counter[str] = Counter()
    in_window: Counter[str] = Counter()
    for month, discussion in held:
        for agency in {a.casefold() for a in discussion.missing_agencies}:
            in_window[agency] += 1
            this_month[agency] += month == months[-1]
    agencies = [*ALWAYS_REPORTED_AGENCIES]
    agencies += sorted(a for a in in_window if a not in ALWAYS_REPORTED_AGENCIES)
    return DiscussionFigures(
        held_this_month=sum(1 for month, _ in held if month == months[-1]),
        held_last_12_months=len(held),
        without=[
            AgencyAbsence(agency=a, this_month=this_month[a], last_12_months=in_window[a])
            for a in agencies
        ],
    )


def _disruption_in(cases: list[CaseFacts], month: str) -> dict[DisruptionAction, int]:
    counts = Counter(
        action for c in cases for action, at in c.disruption_activities if month_of(at) == month
    )
    return {action: counts[action] for action in DisruptionAction}


def _by_age_band(cases: list[CaseFacts]) -> dict[str, int]:
    counts = Counter(c.age_band for c in cases)
    return {band: counts[band] for band in AGE_BANDS}


def _by_stage(cases: list[CaseFacts]) -> dict[Stage, int]:
    counts = Counter(c.stage for c in cases)
    return {stage: counts[stage] for stage in OPEN_STAGES}


def _by_score(cases: list[CaseFacts]) -> dict[str, int]:
    counts = Counter("unscored" if c.risk_score is None else str(c.risk_score) for c in cases)
    return {score: counts[score] for score in SCORES}


def _clock_outcomes(
    cases: list[CaseFacts], months: set[str]
) -> tuple[Counter[ClockName], Counter[ClockName]]:
    met: Counter[ClockName] = Counter()
    breached: Counter[ClockName] = Counter()
    for clock in (k for c in cases for k in c.clocks):
        if clock.state == ClockState.met and clock.stopped_at is not None:
            met[clock.name] += month_of(clock.stopped_at) in months
        elif clock.state == ClockState.breached:
            breached[clock.name] += month_of(clock.due_at) in months
    return met, breached


def _trend(cases: list[CaseFacts], months: list[str], new: Counter[str]) -> list[MonthFigures]:
    breaches = Counter(
        month_of(k.due_at) for c in cases for k in c.clocks if k.state == ClockState.breached
    )
    again = Counter(month_of(c.received_at) for c in cases if c.received_at and c.re_referral)
    return [
        MonthFigures(month=m, new_referrals=new[m], breaches=breaches[m], re_referrals=again[m])
        for m in months
    ]


# ---- what the panel sends ------------------------------------------------------------------


def run_date(action_time: datetime) -> date:
    """The panel's date: the London day of the schedule's action."""
    return action_time.astimezone(LONDON).date()


def panel_notifications(
    panel_name: str, run_key: str, day: date, links: dict[str, str]
) -> list[Notification]:
    """The agenda to the panel's chairs and MASH, the report to heads of service and analysts.

    Ids derive from the run (`run_key`), so a retried run sends nothing twice. A link, never
    case data: the documents sit behind it.
    """
    when = day.strftime("%A %d %B %Y")
    sent = [
        (NotificationKind.mase_agenda, AGENDA_ROLES, "agenda.html", "panel agenda"),
        (NotificationKind.oversight_report, REPORT_ROLES, "oversight.html", "oversight report"),
    ]
    return [
        Notification(
            notification_id=f"{run_key}:{kind.value}",
            kind=kind,
            referral_id=f"{panel_name}-{day.isoformat()}",
            team="all",
            roles=roles,
            subject=f"{panel_name} {words} for {when}",
            link_path=links[document],
        )
        for kind, roles, document, words in sent
    ]
