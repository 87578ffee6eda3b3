"""The monthly panel's pure parts: what a case tells the panel, the agenda, the oversight
report, its charts and documents, the notifications, and when the panel meets."""

from __future__ import annotations

import csv
import io
import xml.etree.ElementTree as ET
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from pydantic import ValidationError

from domain.charts import bar_chart
from domain.events import RecordScreening, RecordStrategyDiscussion
from domain.notifications import NotificationKind
from domain.oversight import (
    CaseFacts,
    ClockOutcome,
    DiscussionFacts,
    Oversight,
    oversight,
    panel_notifications,
    run_date,
    select_agenda,
    trend_months,
    window_start,
)
from domain.panel_documents import agenda_csv, agenda_html, report_html, report_json
from domain.panel_schedule import PanelMeeting, parse_panel_meeting
from domain.policy import ClockName
from domain.roles import Role
from domain.status import ClockState
from domain.vocabulary import Concern, CseModel, DisruptionAction, Indicator, Stage
from edge.schedules import calendar
from edge.settings import Settings
from tests.domain.builders import (
    CHILD_REF,
    CONCERN_NOTE,
    SUMMARY,
    T,
    case_at,
    complete_assessment,
    cp_conference,
    decide,
    london,
    missing_episode,
    open_case,
    professional_concern,
    record,
    refer_to_mase,
    review,
    screening,
    strategy_discussion,
)

PUSH_PULL = "an older boyfriend with a car"
AS_OF = london(2026, 9, 8, 9)  # a panel run on Tuesday 8 September 2026


def facts_of(referral_id: str, *events: Any, **overrides: Any) -> CaseFacts:
    """The facts of a real case, taken from its status after the given events."""
    case = open_case(referral_id=referral_id, **overrides)
    record(case, *events)
    return CaseFacts.from_status(case.status())


def assessed(score: int) -> list[Any]:
    return [decide("assess"), screening(score)]


def discussed(score: int, cris_number: str = "") -> list[Any]:
    return [*assessed(score), complete_assessment(), strategy_discussion(cris_number=cris_number)]


# ---- what a case tells the panel ------------------------------------------------------------


def test_facts_keep_what_the_panel_needs_and_no_child_details() -> None:
    case = case_at(Stage.s47_enquiry, score=3, referral_id="R-FACTS")
    record(
        case,
        professional_concern(Concern.high, T.strategy_held),
        missing_episode(T.strategy_held, T.strategy_held + timedelta(hours=2)),
    )
    facts = CaseFacts.from_status(case.status())
    assert (facts.referral_id, facts.stage, facts.risk_score) == ("R-FACTS", Stage.s47_enquiry, 3)
    assert facts.received_at == T.received
    assert facts.team == case.team
    assert facts.missing_episodes == [T.strategy_held]
    assert {c.name for c in facts.clocks} >= {ClockName.referral_decision, ClockName.assessment}
    assert facts.mase_blocker == "a case referred to MASE must have a police CSE CRIS number"
    text = facts.model_dump_json()
    for secret in (CHILD_REF, SUMMARY, CONCERN_NOTE):
        assert secret not in text


# ---- the agenda ---------------------------------------------------------------------------


def test_the_agenda_lists_referred_cases_and_unreferred_1_to_3_with_why_not() -> None:
    cases = [
        facts_of("R-REFERRED", *discussed(2), refer_to_mase()),
        facts_of("R-NO-DISCUSSION", *assessed(2)),
        facts_of("R-NO-CRIS", *discussed(1)),
        facts_of("R-READY", *discussed(3, cris_number="CRIS-1")),
        facts_of("R-SCORE-0", *assessed(0)),
        facts_of("R-UNSCORED", decide("assess")),
        facts_of("R-CLOSED", decide("nfa")),
    ]
    agenda = select_agenda(cases)
    assert [i.referral_id for i in agenda.referred] == ["R-REFERRED"]
    assert agenda.referred[0].why_not_referred is None
    assert [(i.referral_id, i.risk_score, i.why_not_referred) for i in agenda.not_referred] == [
        ("R-READY", 3, "not yet referred"),
        ("R-NO-DISCUSSION", 2, "a case referred to MASE must have had a strategy discussion"),
        ("R-NO-CRIS", 1, "a case referred to MASE must have a police CSE CRIS number"),
    ]
    assert agenda.size == 4


def test_a_case_closed_since_it_was_referred_leaves_the_agenda() -> None:
    referred = facts_of("R-GONE", *discussed(2), refer_to_mase())
    closed = referred.model_copy(update={"stage": Stage.closed})
    assert select_agenda([closed]).size == 0


def test_the_same_case_found_twice_is_listed_once_highest_score_first() -> None:
    low = facts_of("R-B", *discussed(1, "CRIS-2"), refer_to_mase())
    high = facts_of("R-C", *discussed(3, "CRIS-3"), refer_to_mase())
    also_high = facts_of("R-A", *discussed(3, "CRIS-4"), refer_to_mase())
    agenda = select_agenda([low, high, low, also_high])
    assert [i.referral_id for i in agenda.referred] == ["R-A", "R-C", "R-B"]


# ---- the oversight report -----------------------------------------------------------------


def clock(
    name: ClockName, state: ClockState, due: datetime, stopped: datetime | None = None
) -> ClockOutcome:
    return ClockOutcome(name=name, state=state, due_at=due, stopped_at=stopped)


def plain(
    referral_id: str, stage: Stage, score: int | None, received: datetime, **more: Any
) -> CaseFacts:
    fields: dict[str, Any] = {
        "referral_id": referral_id,
        "stage": stage,
        "risk_score": score,
        "team": f"TEAM-{referral_id}",
        "received_at": received,
        "next_due": None,
        "overdue": False,
        "mase_referred": False,
        "mase_blocker": None,
        "clocks": [],
        "missing_episodes": [],
    }
    return CaseFacts(**(fields | more))


def test_the_report_counts_open_cases_by_stage_and_score() -> None:
    cases = [
        plain("A", Stage.assessment, 2, london(2026, 9, 1)),
        plain("B", Stage.assessment, None, london(2026, 9, 2)),
        plain("C", Stage.review, 3, london(2026, 1, 5)),
        plain("D", Stage.closed, 0, london(2026, 9, 3)),
    ]
    report = oversight(cases, AS_OF)
    assert report.open_cases == 3
    assert report.cases_covered == 4
    assert list(report.open_by_stage) == [s for s in Stage if s != Stage.closed]
    assert report.open_by_stage[Stage.assessment] == 2
    assert report.open_by_stage[Stage.review] == 1
    assert sum(report.open_by_stage.values()) == 3
    assert report.open_by_score == {"0": 0, "1": 0, "2": 1, "3": 1, "unscored": 1}


def test_new_referrals_this_month_and_per_month_for_twelve_months() -> None:
    cases = [
        plain("A", Stage.assessment, 1, london(2026, 9, 1, 0, 30)),  # BST: 31 Aug 23:30 UTC
        plain("B", Stage.closed, 0, london(2026, 9, 7)),
        plain("C", Stage.review, 2, london(2026, 3, 15)),
        plain("D", Stage.review, 2, london(2025, 10, 1)),  # the trend's first month
        plain("E", Stage.review, 2, london(2025, 9, 30)),  # thirteen months ago: not in it
    ]
    report = oversight(cases, AS_OF)
    assert report.month == "2026-09"
    assert report.new_referrals_this_month == 2
    assert [m.month for m in report.trend][:2] == ["2025-10", "2025-11"]
    assert len(report.trend) == 12
    new = {m.month: m.new_referrals for m in report.trend}
    assert new == {m: 0 for m in new} | {"2026-09": 2, "2026-03": 1, "2025-10": 1}


def test_deadlines_met_and_breached_per_clock_within_the_twelve_months() -> None:
    day = london(2026, 6, 10, 23, 59, 59)
    old = london(2025, 8, 1, 23, 59, 59)
    met, breached, cancelled, running = (
        ClockState.met,
        ClockState.breached,
        ClockState.cancelled,
        ClockState.open,
    )
    decision, discussion = ClockName.referral_decision, ClockName.strategy_discussion
    clocks = [
        clock(decision, met, day, day - timedelta(hours=1)),
        clock(decision, breached, day, day + timedelta(days=3)),  # breached, stopped late
        clock(discussion, breached, london(2026, 9, 2, 23, 59, 59)),  # breached, still running
        clock(discussion, met, old, old - timedelta(hours=1)),  # before the window
        clock(discussion, breached, old),  # before the window
        clock(ClockName.assessment, cancelled, day, day),
        clock(ClockName.assessment, running, london(2026, 10, 30, 23, 59, 59)),
    ]
    cases = [
        plain("A", Stage.review, 2, london(2026, 6, 1), clocks=clocks[:3]),
        plain("B", Stage.closed, 0, london(2025, 7, 1), clocks=clocks[3:]),
    ]
    report = oversight(cases, AS_OF)
    tallies = {t.clock: (t.met, t.breached) for t in report.deadlines}
    assert list(tallies) == list(ClockName)
    assert tallies[decision] == (1, 1)
    assert tallies[discussion] == (0, 1)
    assert tallies[ClockName.assessment] == (0, 0)
    breaches = {m.month: m.breaches for m in report.trend if m.breaches}
    assert breaches == {"2026-06": 1, "2026-09": 1}


def test_missing_episodes_counted_by_open_case_and_this_month() -> None:
    cases = [
        plain("A", Stage.review, 2, london(2026, 1, 1), missing_episodes=[london(2026, 9, 2)]),
        plain(
            "B",
            Stage.review,
            2,
            london(2026, 1, 1),
            missing_episodes=[london(2026, 2, 2), london(2026, 9, 5)],
        ),
        plain("C", Stage.closed, 2, london(2026, 1, 1), missing_episodes=[london(2026, 9, 3)]),
        plain("D", Stage.review, 2, london(2026, 1, 1)),
    ]
    report = oversight(cases, AS_OF)
    assert report.open_cases_with_missing_episodes == 2
    assert report.missing_episodes_this_month == 3


def test_the_report_holds_no_referral_id_team_or_child_detail() -> None:
    case = case_at(Stage.review, score=2, referral_id="R-SECRET-REF", team="Team Secret")
    facts = CaseFacts.from_status(case.status())
    report = oversight([facts], T.reviewed, unreadable=1)
    documents = report_json(report) + report_html("MASE", report)
    for secret in ("R-SECRET-REF", "Team Secret", CHILD_REF, SUMMARY):
        assert secret not in documents
    assert report.cases_unreadable == 1
    assert "1 could not be read" in documents


def test_a_case_read_twice_counts_once() -> None:
    case = plain("A", Stage.review, 2, london(2026, 9, 1))
    assert oversight([case, case], AS_OF).open_cases == 1


def test_months_are_london_months_and_the_window_starts_eleven_months_back() -> None:
    new_year = datetime(2026, 12, 31, 23, 30, tzinfo=UTC)  # GMT: still December in London
    assert trend_months(new_year)[0] == "2026-01"
    assert trend_months(new_year)[-1] == "2026-12"
    spring = datetime(2026, 3, 31, 23, 30, tzinfo=UTC)  # BST: 1 April in London
    assert trend_months(spring)[-1] == "2026-04"
    assert trend_months(spring)[0] == "2025-05"
    assert window_start(spring) == london(2025, 5, 1)
    assert run_date(spring) == date(2026, 4, 1)


# ---- the documents ------------------------------------------------------------------------


def test_the_agenda_documents_escape_data_and_defuse_spreadsheet_formulas() -> None:
    item = facts_of("R-1", *discussed(2, "CRIS-1"), refer_to_mase(), team="=HYPERLINK(1)<b>")
    agenda = select_agenda([item, facts_of("R-2", *assessed(3))])
    page = agenda_html("MACE", date(2026, 9, 1), agenda)
    assert "MACE panel agenda: Tuesday 01 September 2026" in page
    assert "=HYPERLINK(1)&lt;b&gt;" in page
    assert "<b>" not in page
    rows = list(csv.DictReader(io.StringIO(agenda_csv(agenda))))
    assert [(r["section"], r["referral_id"]) for r in rows] == [
        ("referred", "R-1"),
        ("not_referred", "R-2"),
    ]
    assert rows[0]["team"] == "'=HYPERLINK(1)<b>"
    assert rows[1]["why_not_referred"].startswith("a case referred to MASE must have had")
    assert rows[1]["risk_score"] == "3"


def test_the_report_page_embeds_three_charts_of_the_trend() -> None:
    cases = [plain("A", Stage.assessment, 1, london(2026, 9, 1))]
    page = report_html("MASE", oversight(cases, AS_OF))
    assert page.count("<svg") == 3  # new referrals, re-referrals, breaches
    assert "MASE oversight report: September 2026" in page
    assert "New referrals per month" in page


# ---- the charts ---------------------------------------------------------------------------


def bars(svg: str) -> list[tuple[str, int, float]]:
    root = ET.fromstring(svg)
    ns = {"svg": "http://www.w3.org/2000/svg"}
    found = []
    for group in root.findall("svg:g", ns):
        rect = group.find("svg:rect", ns)
        assert rect is not None
        label, value = group.attrib["data-label"], int(group.attrib["data-value"])
        found.append((label, value, float(rect.attrib["height"])))
    return found


def test_a_bar_chart_scales_bars_to_the_largest_value() -> None:
    svg = bar_chart("Breaches <per> month", [("Jan", 2), ("Feb", 4), ("Mar", 0)])
    drawn = bars(svg)
    assert [(label, value) for label, value, _ in drawn] == [("Jan", 2), ("Feb", 4), ("Mar", 0)]
    heights = [h for _, _, h in drawn]
    assert heights[1] == pytest.approx(2 * heights[0])
    assert heights[2] == 0
    assert "<title>Breaches &lt;per&gt; month</title>" in svg


def test_a_chart_of_nothing_is_still_a_valid_picture() -> None:
    assert [h for _, _, h in bars(bar_chart("Empty", [("Jan", 0), ("Feb", 0)]))] == [0, 0]
    assert bars(bar_chart("None", [])) == []
    with pytest.raises(ValueError, match="may not be negative"):
        bar_chart("Bad", [("Jan", -1)])


# ---- the notifications --------------------------------------------------------------------


def test_the_panel_notifies_roles_with_links_and_ids_from_the_run() -> None:
    links = {"agenda.html": "/reports/2026-09-01/agenda.html"}
    links["oversight.html"] = "/reports/2026-09-01/oversight.html"
    sent = panel_notifications("MACE", "run-7", date(2026, 9, 1), links)
    assert [(n.notification_id, n.kind, n.roles, n.link_path) for n in sent] == [
        (
            "run-7:mase_agenda",
            NotificationKind.mase_agenda,
            [Role.mase_chair, Role.mash],
            "/reports/2026-09-01/agenda.html",
        ),
        (
            "run-7:oversight_report",
            NotificationKind.oversight_report,
            [Role.head_of_service, Role.data_analyst],
            "/reports/2026-09-01/oversight.html",
        ),
    ]
    assert sent[0].subject == "MACE panel agenda for Tuesday 01 September 2026"
    assert all(n.clock is None and n.social_worker is None for n in sent)
    assert panel_notifications("MACE", "run-7", date(2026, 9, 1), links) == sent


# ---- when the panel meets -----------------------------------------------------------------


def test_the_default_meeting_is_the_first_tuesday_at_nine_in_london() -> None:
    meeting = parse_panel_meeting(Settings().panel_schedule)
    assert meeting == PanelMeeting(week=1, weekday=1, hour=9, minute=0, time_zone="Europe/London")
    spec = calendar(meeting)
    assert [(r.start, r.end) for r in spec.day_of_month] == [(1, 7)]
    assert [(r.start, r.end) for r in spec.day_of_week] == [(2, 2)]  # Temporal: Sunday = 0
    assert [r.start for r in spec.hour] == [9]
    third_friday = calendar(parse_panel_meeting("Third Friday 14:30 Europe/London"))
    assert [(r.start, r.end) for r in third_friday.day_of_month] == [(15, 21)]
    assert [(r.start, r.end) for r in third_friday.day_of_week] == [(5, 5)]
    assert [(r.start, r.start) for r in third_friday.minute] == [(30, 30)]


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("last tuesday 09:00 Europe/London", "the week must be one of"),
        ("first tusday 09:00 Europe/London", "is not a day of the week"),
        ("first tuesday 25:00 Europe/London", "is not a time of day"),
        ("first tuesday 09:00 Europe/Londn", "is not an IANA time zone"),
        ("every month", "expected"),
    ],
)
def test_a_bad_panel_schedule_stops_the_settings_naming_it(text: str, words: str) -> None:
    with pytest.raises(ValueError, match=words):
        parse_panel_meeting(text)
    with pytest.raises(ValidationError, match="CSE_PANEL_SCHEDULE"):
        Settings(panel_schedule=text)


def test_the_panel_name_is_configuration() -> None:
    assert Settings().panel_name == "MASE"
    assert Settings(panel_name="MACE").panel_name == "MACE"
    with pytest.raises(ValidationError, match="panel_name"):
        Settings(panel_name="<script>")


def test_the_report_is_a_plain_model() -> None:
    report = oversight([], AS_OF)
    assert Oversight.model_validate_json(report_json(report)) == report
    assert report.open_cases == 0
    assert all(m.new_referrals == 0 for m in report.trend)


def test_disruption_activities_are_counted_by_kind_for_the_month_and_on_the_agenda() -> None:
    as_of = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
    acted = _facts_with_disruption(
        "R-D1",
        [
            (DisruptionAction.arrest, datetime(2026, 11, 3, tzinfo=UTC)),
            (DisruptionAction.arrest, datetime(2026, 11, 9, tzinfo=UTC)),
            (DisruptionAction.sexual_risk_order, datetime(2026, 10, 30, tzinfo=UTC)),
        ],
    )
    quiet = _facts_with_disruption("R-D2", [])

    report = oversight([acted, quiet], as_of)
    agenda = select_agenda([acted, quiet])

    assert report.open_cases_with_disruption == 1
    assert report.disruption_this_month[DisruptionAction.arrest] == 2
    assert report.disruption_this_month[DisruptionAction.sexual_risk_order] == 0
    assert {i.referral_id: i.disruption_activities for i in agenda.not_referred} == {
        "R-D1": 3,
        "R-D2": 0,
    }


def _facts_with_disruption(
    referral_id: str, actions: list[tuple[DisruptionAction, datetime]]
) -> CaseFacts:
    return CaseFacts(
        referral_id=referral_id,
        stage=Stage.safety_plan,
        risk_score=2,
        team="T",
        received_at=datetime(2026, 9, 1, tzinfo=UTC),
        next_due=None,
        overdue=False,
        mase_referred=False,
        mase_blocker="no CRIS number",
        clocks=[],
        missing_episodes=[],
        disruption_activities=actions,
    )


# ---- the themes the panel looks for (docs/rules.md, The MASE panel) ------------------------


def screened_for(
    models: list[CseModel], indicators: list[Indicator], score: int = 2
) -> RecordScreening:
    return screening(score).model_copy(
        update={"cse_models": models, "indicators": indicators, "push_pull_factors": [PUSH_PULL]}
    )


def held_with(*agencies: str, at: datetime = T.strategy_held) -> RecordStrategyDiscussion:
    return strategy_discussion("s47", at=at).model_copy(update={"agencies": list(agencies)})


def test_facts_keep_the_latest_screenings_themes_and_who_missed_each_discussion() -> None:
    facts = facts_of(
        "R-THEMES",
        decide("assess"),
        screened_for([CseModel.online], [Indicator.use_of_technology]),
        complete_assessment(),
        held_with("Police", "education"),
    )
    assert facts.latest_cse_models == [CseModel.online]
    assert facts.latest_indicators == [Indicator.use_of_technology]
    assert [(d.held_at, d.missing_agencies) for d in facts.strategy_discussions] == [
        (T.strategy_held, ["health"])
    ]
    assert facts.cp_plan_in_force is False
    assert PUSH_PULL not in facts.model_dump_json()


def test_a_review_that_changes_the_themes_is_the_one_the_panel_reads() -> None:
    case = case_at(Stage.review)
    changed = review(3).model_copy(
        update={"cse_models": [CseModel.county_lines], "indicators": [Indicator.running_away]}
    )
    record(case, changed)
    facts = CaseFacts.from_status(case.status())
    assert (facts.latest_cse_models, facts.latest_indicators) == (
        [CseModel.county_lines],
        [Indicator.running_away],
    )


def test_facts_a_panel_run_read_before_the_themes_still_load() -> None:
    old = plain("OLD", Stage.review, 2, london(2026, 1, 1)).model_dump(
        mode="json",
        exclude={
            "latest_cse_models",
            "latest_indicators",
            "strategy_discussions",
            "cp_plan_in_force",
        },
    )
    facts = CaseFacts.model_validate(old)
    assert (facts.latest_cse_models, facts.latest_indicators) == ([], [])
    assert (facts.strategy_discussions, facts.cp_plan_in_force) == ([], False)


def test_the_report_counts_open_cases_by_cse_model_and_indicator() -> None:
    online, gangs = CseModel.online, CseModel.gangs
    away, tech = Indicator.running_away, Indicator.use_of_technology
    cases = [
        plain("A", Stage.review, 2, london(2026, 1, 1), latest_cse_models=[online, gangs]),
        plain("B", Stage.review, 3, london(2026, 1, 1), latest_cse_models=[online, online]),
        plain("C", Stage.assessment, 1, london(2026, 2, 1), latest_indicators=[away, tech]),
        plain("D", Stage.assessment, None, london(2026, 2, 1)),
        plain("E", Stage.closed, 2, london(2026, 2, 1), latest_cse_models=[online]),
    ]
    report = oversight(cases, AS_OF)
    assert report.open_cases_screened == 3
    assert list(report.open_by_cse_model) == list(CseModel)
    assert {m: n for m, n in report.open_by_cse_model.items() if n} == {online: 2, gangs: 1}
    assert list(report.open_by_indicator) == list(Indicator)
    assert {i: n for i, n in report.open_by_indicator.items() if n} == {away: 1, tech: 1}


def discussed_on(*held: tuple[datetime, list[str]]) -> list[DiscussionFacts]:
    return [DiscussionFacts(held_at=at, missing_agencies=missing) for at, missing in held]


def test_the_report_counts_strategy_discussions_held_without_police_or_health() -> None:
    this_month, in_march = london(2026, 9, 3), london(2026, 3, 10)
    too_old = london(2025, 8, 10)
    cases = [
        plain(
            "A",
            Stage.review,
            2,
            london(2026, 1, 1),
            strategy_discussions=discussed_on(
                (this_month, ["police"]), (in_march, ["police", "health"]), (too_old, ["police"])
            ),
        ),
        plain(
            "B",
            Stage.closed,
            0,
            london(2026, 3, 1),
            strategy_discussions=discussed_on((in_march, ["Health", "education"])),
        ),
        plain(
            "C",
            Stage.s47_enquiry,
            3,
            london(2026, 9, 1),
            strategy_discussions=discussed_on((this_month, [])),
        ),
    ]
    held = oversight(cases, AS_OF).strategy_discussions
    assert (held.held_this_month, held.held_last_12_months) == (2, 4)
    assert [(a.agency, a.this_month, a.last_12_months) for a in held.without] == [
        ("police", 1, 2),
        ("health", 0, 2),
        ("education", 0, 1),
    ]


def test_with_no_discussion_police_and_health_are_still_reported_as_zero() -> None:
    held = oversight([plain("A", Stage.review, 2, london(2026, 1, 1))], AS_OF).strategy_discussions
    assert [(a.agency, a.this_month, a.last_12_months) for a in held.without] == [
        ("police", 0, 0),
        ("health", 0, 0),
    ]


def test_cases_in_cp_plan_are_counted_by_stage_and_plans_in_force_in_any_stage() -> None:
    ended_reviews = CaseFacts.from_status(case_at(Stage.cp_plan, referral_id="R-PLAN").status())
    reviewing = case_at(Stage.review, referral_id="R-PLAN-REVIEW")
    record(reviewing, cp_conference("cp_plan"))
    no_plan = CaseFacts.from_status(case_at(Stage.review, referral_id="R-NO-PLAN").status())
    cases = [ended_reviews, CaseFacts.from_status(reviewing.status()), no_plan]
    report = oversight(cases, T.reviewed)
    assert report.open_by_stage[Stage.cp_plan] == 1
    assert report.open_by_stage[Stage.review] == 2
    assert report.open_cases_with_cp_plan == 2


def test_the_agenda_counts_its_cases_themes_referred_and_not() -> None:
    referred = facts_of(
        "R-REF",
        decide("assess"),
        screened_for([CseModel.county_lines, CseModel.gangs], [Indicator.running_away]),
        complete_assessment(),
        strategy_discussion(),
        refer_to_mase(),
    )
    waiting = facts_of(
        "R-WAIT", decide("assess"), screened_for([CseModel.county_lines], [], score=3)
    )
    agenda = select_agenda([referred, waiting])
    models = {t.theme: (t.referred, t.not_referred) for t in agenda.cse_model_themes()}
    assert models["county_lines"] == (1, 1)
    assert models["gangs"] == (1, 0)
    assert models["online"] == (0, 0)
    indicators = {t.theme: (t.referred, t.not_referred) for t in agenda.indicator_themes()}
    assert indicators["running_away"] == (1, 0)
    page = agenda_html("MASE", date(2026, 9, 8), agenda)
    assert "Themes of these cases" in page
    assert '<td>county lines</td><td class="n">1</td><td class="n">1</td>' in page
    assert "online" not in page  # a theme no case has is left out
    assert PUSH_PULL not in page + agenda_csv(agenda)


def test_the_report_documents_show_the_themes_and_who_was_missing() -> None:
    case = open_case(referral_id="R-SECRET-THEMES", team="Team Secret")
    record(
        case,
        decide("assess"),
        screened_for([CseModel.online], [Indicator.use_of_technology]),
        complete_assessment(),
        held_with("police"),
    )
    report = oversight([CaseFacts.from_status(case.status())], AS_OF)
    page = report_html("MASE", report)
    assert '<td>online</td><td class="n">1</td>' in page
    assert '<td>use of technology</td><td class="n">1</td>' in page
    assert '<td>Without health</td><td class="n">1</td><td class="n">1</td>' in page
    assert '<td>Without police</td><td class="n">0</td><td class="n">0</td>' in page
    assert "With a child protection plan in force: 0" in page
    assert Oversight.model_validate_json(report_json(report)) == report
    documents = page + report_json(report)
    for secret in ("R-SECRET-THEMES", "Team Secret", CHILD_REF, SUMMARY, PUSH_PULL):
        assert secret not in documents
