"""The agenda carries the panel's work (docs/rules.md, The MASE panel): for each referred case the
last decision and how many of its actions are open and overdue, with their owner roles, never
the actions' words (the agenda is emailed); the oversight report counts MASE actions met and
breached under a row that says what they are."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

from domain.case import Case
from domain.oversight import CaseFacts, oversight, select_agenda
from domain.panel_documents import agenda_csv, agenda_html, report_html
from domain.roles import Role
from domain.vocabulary import Stage
from tests.domain.builders import (
    case_at,
    complete_mase_action,
    london,
    mase_decision,
    record,
    refer_to_mase,
)

PANEL = london(2026, 10, 6, 10)
DUE = london(2026, 10, 20, 17)
NEXT_PANEL = london(2026, 11, 3, 10)
DONE_WORDS = "ask the school for attendance since September"
LATE_WORDS = "police to visit the flat above the takeaway"
OPEN_WORDS = "named nurse to book a sexual health appointment"


def panel_case() -> Case:
    """Referred; the panel agreed three actions: one done in time, one left to breach, one
    due after the next panel."""
    case = case_at(Stage.s47_enquiry)
    record(case, refer_to_mase())
    record(
        case,
        mase_decision(
            "keep_open",
            (DONE_WORDS, Role.education_safeguarding_lead, DUE),
            (LATE_WORDS, Role.police_spoc, DUE),
            (OPEN_WORDS, Role.named_nurse, NEXT_PANEL + timedelta(days=14)),
            at=PANEL,
        ),
    )
    record(case, complete_mase_action("action-1", at=DUE - timedelta(days=1)))
    for now in (DUE, DUE + timedelta(days=3), NEXT_PANEL - timedelta(days=1)):
        case.fire_due_steps(now)
    return case


def case_facts(case: Case) -> CaseFacts:
    return CaseFacts.from_status(case.status())


def test_the_agenda_gives_the_last_decision_and_counts_open_and_overdue_actions() -> None:
    (item,) = select_agenda([case_facts(panel_case())]).referred

    assert (item.last_decision, item.last_decision_at) == ("keep_open", PANEL)
    assert (item.open_actions, item.overdue_actions) == (2, 1)
    assert item.action_owners == [Role.police_spoc, Role.named_nurse]


def test_the_facts_the_panel_run_keeps_in_its_history_hold_no_action_words() -> None:
    kept = case_facts(panel_case()).model_dump_json()

    assert "police_spoc" in kept
    for words in (DONE_WORDS, LATE_WORDS, OPEN_WORDS):
        assert words not in kept


def test_a_referred_case_without_a_decision_says_so() -> None:
    case = case_at(Stage.s47_enquiry)
    record(case, refer_to_mase())
    agenda = select_agenda([case_facts(case)])
    (item,) = agenda.referred

    assert (item.last_decision, item.open_actions, item.action_owners) == (None, 0, [])
    assert "none yet" in agenda_html("MASE", NEXT_PANEL.date(), agenda)


def test_the_agenda_documents_show_the_counts_and_no_action_words() -> None:
    agenda = select_agenda([case_facts(panel_case())])
    html = agenda_html("MASE", NEXT_PANEL.date(), agenda)
    text = agenda_csv(agenda)

    assert "Last MASE decision" in html
    assert "Overdue actions" in html
    assert "keep open (2026-10-06 10:00)" in html
    assert "police spoc, named nurse" in html
    (row,) = csv.DictReader(io.StringIO(text))
    assert (row["last_decision"], row["open_actions"], row["overdue_actions"]) == (
        "keep_open",
        "2",
        "1",
    )
    assert row["action_owners"] == "police_spoc;named_nurse"
    for words in (DONE_WORDS, LATE_WORDS, OPEN_WORDS):
        assert words not in html
        assert words not in text
    assert "school" not in html + text
    assert "takeaway" not in html + text


def test_the_report_counts_mase_actions_met_and_breached_under_a_clear_label() -> None:
    report = oversight([case_facts(panel_case())], NEXT_PANEL)
    tally = {t.clock.value: (t.met, t.breached) for t in report.deadlines}
    page = report_html("MASE", report)

    assert tally["mase_action"] == (1, 1)
    assert "MASE actions agreed at the panel" in page
    assert LATE_WORDS not in page
    assert DONE_WORDS not in page


def stepped_down_case() -> Case:
    """Referred; the panel agreed an action, then stepped the case down before it was done:
    the action runs on and is breached, and the case scores 2, not referred."""
    case = case_at(Stage.s47_enquiry)
    record(case, refer_to_mase())
    record(case, mase_decision("keep_open", (LATE_WORDS, Role.police_spoc, DUE), at=PANEL))
    record(case, mase_decision("step_down", at=PANEL + timedelta(days=7)))
    case.fire_due_steps(NEXT_PANEL - timedelta(days=1))
    return case


def test_a_stepped_down_case_with_open_actions_shows_them_among_those_not_referred() -> None:
    agenda = select_agenda([case_facts(stepped_down_case())])
    (item,) = agenda.not_referred
    html = agenda_html("MASE", NEXT_PANEL.date(), agenda)
    waiting = html.split("Cases scoring 1-3 not referred")[1]
    (row,) = csv.DictReader(io.StringIO(agenda_csv(agenda)))

    assert (item.last_decision, item.open_actions, item.overdue_actions) == ("step_down", 1, 1)
    assert "Open actions" in waiting
    assert "step down (2026-10-13 10:00)" in waiting
    assert '<td class="n">1</td><td class="n">1</td><td>police spoc</td>' in waiting
    assert (row["section"], row["open_actions"], row["overdue_actions"]) == (
        "not_referred",
        "1",
        "1",
    )
    assert row["action_owners"] == "police_spoc"
    assert LATE_WORDS not in html


def test_a_case_never_at_the_panel_shows_no_panel_work_among_those_not_referred() -> None:
    agenda = select_agenda([case_facts(case_at(Stage.s47_enquiry))])
    waiting = agenda_html("MASE", NEXT_PANEL.date(), agenda).split("not referred (1)")[1]

    assert "none yet" not in waiting
    assert '<td class="n">0</td><td class="n">0</td><td>none</td>' in waiting
