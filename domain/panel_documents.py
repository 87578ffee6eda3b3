"""The panel's documents as text: the agenda (HTML and CSV) and the oversight report (HTML with
SVG charts, and JSON for analysts). Pure rendering of `domain.oversight` data.

The agenda names cases by referral id only, with stage, score, team, next due and why a case
is not referred, the panel's last decision on each case and how many of its actions are open
and overdue, with their owner roles (never the actions' words: a case the panel stepped down
may still owe it actions), and counts the themes
(CSE models, SAFEGUARDED indicators) of the cases on it; each referral id links to the case
page (the dashboard shows the link to a reader who may open the case). The report holds
aggregates only; each chart has a sentence saying what it shows and a table of its figures
beside it. The HTML is domain/document_html.py's: escaped,
and laid out to print on A4. CSV cells cannot start a spreadsheet formula.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from datetime import date, datetime
from html import escape

from pydantic import BaseModel

from domain.calendar import LONDON
from domain.charts import chart_figure
from domain.csv_export import csv_table
from domain.document_html import CaseLink, Cell, page, table
from domain.oversight import Agenda, AgendaItem, Oversight, ThemeCount
from domain.policy import ClockName

AGENDA_HTML = "agenda.html"
AGENDA_CSV = "agenda.csv"
REPORT_HTML = "oversight.html"
REPORT_JSON = "oversight.json"
DOCUMENT_NAMES = (AGENDA_HTML, AGENDA_CSV, REPORT_HTML, REPORT_JSON)


class DocumentRequest(BaseModel):
    """The `document` query of a panel run: one of DOCUMENT_NAMES."""

    name: str


class PanelDocument(BaseModel):
    """A panel run's answer: the document, or None before it is built (or for another name)."""

    run_date: date | None = None
    name: str
    content: str | None = None


def links(day: date, names: Iterable[str]) -> dict[str, str]:
    """Where each document of the run of `day` is read: the API's /reports/<day>/<name>."""
    return {name: f"/reports/{day.isoformat()}/{name}" for name in names}


_NO_DETAILS = (
    "Referral ids only: the child's details and the concerns are in the case record, "
    "never in this document."
)
_CSV_COLUMNS = [
    "section",
    "referral_id",
    "stage",
    "risk_score",
    "team",
    "next_due",
    "overdue",
    "why_not_referred",
    "disruption_activities",
    "last_decision",
    "last_decision_at",
    "open_actions",
    "overdue_actions",
    "action_owners",
    "looked_after",
    "placed_across_borough_lines",
]
_PANEL_WORK = [
    "Last MASE decision",
    "Open actions",
    "Overdue actions",
    "Owners of open actions",
]
CLOCK_LABELS = {ClockName.mase_action: "MASE actions agreed at the panel"}
"""Clock names the report spells out: each MASE action has its own `mase_action` clock."""


def when(moment: datetime | None) -> str:
    return "" if moment is None else moment.astimezone(LONDON).strftime("%Y-%m-%d %H:%M")


def _score(value: int | None) -> str:
    return "unscored" if value is None else str(value)


# ---- the agenda ---------------------------------------------------------------------------


def agenda_html(
    panel_name: str, day: date, agenda: Agenda, unreadable: int = 0, not_running: int = 0
) -> str:
    headers = [
        "Referral",
        "Stage",
        "Score",
        "Team",
        "Next due (London)",
        "Overdue",
        "Disruption actions",
        "Looked after",
        "Placed across borough lines",
    ]
    referred = [[*_row(i), *_panel_work(i, undecided="none yet")] for i in agenda.referred]
    # A case the panel stepped down may still owe it actions: they are shown here too.
    waiting: list[list[Cell]] = [
        [*_row(i), i.why_not_referred or "", *_panel_work(i, undecided="none")]
        for i in agenda.not_referred
    ]
    return page(
        f"{panel_name} panel agenda: {day.strftime('%A %d %B %Y')}",
        [
            f"<p>{escape(_NO_DETAILS)}</p>",
            _unreadable_warning(unreadable),
            _not_running_warning(not_running, "agenda"),
            f"<h2>Cases referred to {escape(panel_name)} ({len(referred)})</h2>",
            table([*headers, *_PANEL_WORK], referred),
            f"<h2>Cases scoring 1-3 not referred ({len(waiting)})</h2>",
            table([*headers, "Why not referred", *_PANEL_WORK], waiting),
            *_agenda_themes(agenda),
        ],
    )


def _agenda_themes(agenda: Agenda) -> list[str]:
    """How many cases on the agenda have each model and indicator of their latest screening
    or review (themes no case has are left out)."""
    columns = ["Referred", "Scoring 1-3 not referred"]
    return [
        "<h2>Themes of these cases</h2>",
        "<p>From each case's latest screening or review; a case counts under each it has.</p>",
        table(["CSE model", *columns], _theme_rows(agenda.cse_model_themes())),
        table(["Indicator (SAFEGUARDED)", *columns], _theme_rows(agenda.indicator_themes())),
    ]


def _theme_rows(counts: list[ThemeCount]) -> list[list[Cell]]:
    return [
        [c.theme.replace("_", " "), c.referred, c.not_referred]
        for c in counts
        if c.referred or c.not_referred
    ]


def _unreadable_warning(unreadable: int) -> str:
    if not unreadable:
        return ""
    return (
        f"<p><strong>{unreadable} case(s) could not be read and may be missing from this "
        "agenda: see the worker log.</strong></p>"
    )


def _not_running_warning(not_running: int, document: str) -> str:
    if not not_running:
        return ""
    return (
        f'<p class="attention"><strong>{not_running} case(s) need attention and are missing '
        f"from this {document}: their run was terminated, timed out or failed without the "
        "pathway closing them, so none of their clocks fires. An operator must reset them "
        "(the dashboard's caseload lists them first).</strong></p>"
    )


def _row(item: AgendaItem) -> list[Cell]:
    return [
        CaseLink(item.referral_id, item.team),
        item.stage.value.replace("_", " "),
        _score(item.risk_score),
        item.team,
        when(item.next_due),
        "yes" if item.overdue else "no",
        item.disruption_activities,
        "yes" if item.looked_after else "no",
        item.placement or "no",
    ]


def _panel_work(item: AgendaItem, undecided: str) -> list[Cell]:
    """The panel's last decision (`undecided` when it has made none) and its actions, counted:
    no action's words."""
    decision = undecided
    if item.last_decision is not None:
        decision = f"{item.last_decision.replace('_', ' ')} ({when(item.last_decision_at)})"
    owners = ", ".join(r.value.replace("_", " ") for r in item.action_owners)
    return [decision, item.open_actions, item.overdue_actions, owners or "none"]


def agenda_referral_ids(csv_text: str) -> frozenset[str]:
    """The referral ids an `agenda_csv` lists (ids start with a letter or digit, so no cell of
    this column is ever escaped as a formula)."""
    return frozenset(row["referral_id"] for row in csv.DictReader(io.StringIO(csv_text)))


def agenda_csv(agenda: Agenda) -> str:
    sections = [("referred", agenda.referred), ("not_referred", agenda.not_referred)]
    rows = [_csv_row(section, item) for section, items in sections for item in items]
    return csv_table(_CSV_COLUMNS, rows)


def _csv_row(section: str, item: AgendaItem) -> list[str]:
    return [
        section,
        item.referral_id,
        item.stage.value,
        "" if item.risk_score is None else str(item.risk_score),
        item.team,
        "" if item.next_due is None else item.next_due.isoformat(),
        "true" if item.overdue else "false",
        item.why_not_referred or "",
        str(item.disruption_activities),
        item.last_decision or "",
        "" if item.last_decision_at is None else item.last_decision_at.isoformat(),
        str(item.open_actions),
        str(item.overdue_actions),
        ";".join(r.value for r in item.action_owners),
        "true" if item.looked_after else "false",
        item.placement,
    ]


# ---- the oversight report -----------------------------------------------------------------


def report_html(panel_name: str, report: Oversight) -> str:
    month = _first_day(report.month).strftime("%B %Y")
    labels = [_first_day(m.month).strftime("%b %y") for m in report.trend]
    new = [(label, m.new_referrals) for label, m in zip(labels, report.trend, strict=True)]
    late = [(label, m.breaches) for label, m in zip(labels, report.trend, strict=True)]
    return page(
        f"{panel_name} oversight report: {month}",
        [
            f"<p>As of {escape(when(report.as_of))} (London). Aggregates only: no referral "
            f"ids or child identifiers. {report.cases_covered} cases read"
            f"{_unreadable(report)}.</p>",
            _not_running_warning(report.cases_not_running, "report"),
            f"<h2>Open cases ({report.open_cases})</h2>",
            "<h3>By stage</h3>",
            table(["Stage", "Cases"], [[s.replace("_", " "), n] for s, n in _stages(report)]),
            f"<p>With a child protection plan in force: {report.open_cases_with_cp_plan}</p>",
            "<h3>By latest score</h3>",
            table(["Score", "Cases"], [[s, n] for s, n in report.open_by_score.items()]),
            "<h3>By age at referral</h3>",
            table(["Age", "Cases"], [[b, n] for b, n in report.open_by_age_band.items()]),
            "<h3>Looked after, and placed across borough lines</h3>",
            table(["Open cases", "Count"], _placement_rows(report)),
            *_report_themes(report),
            f"<h2>New referrals this month: {report.new_referrals_this_month}</h2>",
            *_re_referrals(report, labels),
            "<h2>Deadlines met and breached, last 12 months</h2>",
            "<p>A deadline is met when its clock stopped in time (counted in the month it "
            "stopped), breached when it fell due first (in the month it fell due). Each action "
            "the MASE panel agreed is timed by its own clock: its row counts actions done by "
            "their due date and actions not done by it.</p>",
            table(["Clock", "Met", "Breached"], _deadline_rows(report)),
            "<h2>Missing episodes</h2>",
            table(["Missing episodes", "Count"], _missing_rows(report)),
            "<h2>Disruption of those exploiting children</h2>",
            f"<p>Open cases with a disruption action recorded: "
            f"{report.open_cases_with_disruption}</p>",
            table(["Action this month", "Count"], _disruption_rows(report)),
            *_discussion_attendance(report),
            "<h2>Trend, last 12 months</h2>",
            chart_figure("new-referrals", "New referrals per month", new, ("Month", "Referrals")),
            chart_figure(
                "breaches",
                "Deadlines breached per month",
                late,
                ("Month", "Breaches"),
                colour="#c53030",
            ),
        ],
    )


def _re_referrals(report: Oversight, labels: list[str]) -> list[str]:
    """The re-referral rate (docs/rules.md, One child across referrals) and re-referrals per
    month: counts only."""
    rate = "none received" if report.re_referral_rate is None else f"{report.re_referral_rate}%"
    again = [(label, m.re_referrals) for label, m in zip(labels, report.trend, strict=True)]
    return [
        f"<h2>Re-referrals, last 12 months: {rate}</h2>",
        f"<p>{report.re_referrals_last_12_months} of the referrals received in the last 12 "
        "months came within 12 months of an earlier referral of the same child.</p>",
        chart_figure("re-referrals", "Re-referrals per month", again, ("Month", "Re-referrals")),
    ]


def _placement_rows(report: Oversight) -> list[list[Cell]]:
    return [
        ["Looked after", report.open_looked_after],
        ["Placed in the borough by another authority", report.open_placed_in],
        ["Placed out of the borough by this authority", report.open_placed_out],
    ]


def _first_day(month: str) -> date:
    year, number = month.split("-")
    return date(int(year), int(number), 1)


def _stages(report: Oversight) -> list[tuple[str, int]]:
    return [(stage.value, count) for stage, count in report.open_by_stage.items()]


def _deadline_rows(report: Oversight) -> list[list[Cell]]:
    return [[_clock_label(t.clock), t.met, t.breached] for t in report.deadlines]


def _clock_label(clock: ClockName) -> str:
    return CLOCK_LABELS.get(clock, clock.value.replace("_", " "))


def _missing_rows(report: Oversight) -> list[list[Cell]]:
    return [
        ["Open cases with missing episodes", report.open_cases_with_missing_episodes],
        ["Missing episodes this month", report.missing_episodes_this_month],
    ]


def _report_themes(report: Oversight) -> list[str]:
    models = report.open_by_cse_model.items()
    indicators = report.open_by_indicator.items()
    return [
        "<h3>Themes: by CSE model and SAFEGUARDED indicator</h3>",
        f"<p>Of the {report.open_cases_screened} open cases with a screening or review, from "
        "the latest one; a case counts under each model and indicator it has.</p>",
        table(["CSE model", "Cases"], [[m.value.replace("_", " "), n] for m, n in models]),
        table(["Indicator", "Cases"], [[i.value.replace("_", " "), n] for i, n in indicators]),
    ]


def _discussion_attendance(report: Oversight) -> list[str]:
    held = report.strategy_discussions
    rows: list[list[Cell]] = [["Held", held.held_this_month, held.held_last_12_months]]
    rows += [[f"Without {a.agency}", a.this_month, a.last_12_months] for a in held.without]
    return [
        "<h2>Strategy discussions and who was there</h2>",
        table(["Strategy discussions", "This month", "Last 12 months"], rows),
    ]


def _disruption_rows(report: Oversight) -> list[list[Cell]]:
    return [[a.value.replace("_", " "), n] for a, n in report.disruption_this_month.items()]


def _unreadable(report: Oversight) -> str:
    if not report.cases_unreadable:
        return ""
    return f"; {report.cases_unreadable} could not be read (see the worker log) and are not counted"


def report_json(report: Oversight) -> str:
    return report.model_dump_json(indent=2) + "\n"
