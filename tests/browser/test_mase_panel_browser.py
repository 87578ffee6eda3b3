"""The MASE panel's work in a real browser (Debian's chromium, Playwright): a manager records
the panel's decision with two actions through its form (rows of the action's own fields, an
empty row left out, a bad due date refused beside the actions), the case page shows the
decision and both actions, and one is completed by choosing it from the case's open actions.
The form, its error state and the case page pass axe-core at WCAG 2.2 AA."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from domain.calendar import LONDON
from tests.api.conftest import TEAM_A, Users
from tests.browser.accessibility import audit
from tests.browser.test_dashboard_accessibility import Api
from tests.browser.test_dashboard_browser import sign_in
from tests.e2e.conftest import iso

pytestmark = pytest.mark.e2e

FIRST = "Ask the school for attendance since September"
SECOND = "Disruption plan for the address"


def ago(minutes: int) -> str:
    return iso(datetime.now(UTC) - timedelta(minutes=minutes))


def in_form(days: int) -> str:
    """A time `days` from now as a datetime-local field takes it (London time)."""
    return (datetime.now(UTC) + timedelta(days=days)).astimezone(LONDON).strftime("%Y-%m-%dT%H:%M")


def referred_to_mase(api: Api, users: Users) -> str:
    rid = api.start(users.intake, team=TEAM_A)
    manager = users.manager_a
    api.record(manager, rid, "decide", decision="strategy_discussion", decided_at=ago(25))
    api.record(
        manager,
        rid,
        "record_screening",
        score=2,
        professional_concern="medium",
        screened_at=ago(20),
    )
    api.record(
        manager,
        rid,
        "record_strategy_discussion",
        held_at=ago(15),
        chair_role="team_manager",
        agencies=["police", "health"],
        outcome="s47",
        cris_number="CRIS-1/26",
    )
    api.record(manager, rid, "refer_to_mase", referred_at=ago(10))
    return rid


def fill_action(page: Any, row: int, words: str, role: str, due: str) -> None:
    page.fill(f"#in-actions-{row}-action", words)
    page.select_option(f"#in-actions-{row}-owner_role", role)
    page.fill(f"#in-actions-{row}-due_at", due)


def test_a_panel_decision_with_two_actions_recorded_shown_and_one_completed(
    page: Any, dashboard_url: str, users: Users, artifacts: Path
) -> None:
    rid = referred_to_mase(Api(dashboard_url), users)
    sign_in(page, dashboard_url, users.manager_a)
    page.goto(f"{dashboard_url}/dashboard/cases/{rid}")
    page.click("a.button[href$='/events/record_mase_decision']")
    assert page.locator("fieldset.row legend").all_inner_texts()[:2] == [
        "Agreed action 1",
        "Agreed action 2",
    ]
    audit(page, "mase-decision-form", artifacts)

    page.select_option("#in-decision", "keep_open")
    fill_action(page, 0, FIRST, "education_safeguarding_lead", in_form(-3))
    page.click("button:has-text('Record')")
    page.wait_for_selector("#error-summary")
    assert "not after the panel was held" in page.inner_text("#problem-actions")
    assert page.input_value("#in-actions-0-action") == FIRST  # filled in again as sent
    audit(page, "mase-decision-form-refused", artifacts)

    page.fill("#in-actions-0-due_at", in_form(14))
    fill_action(page, 2, SECOND, "police_spoc", in_form(21))  # row 2 left empty: left out
    page.click("button:has-text('Record')")
    page.wait_for_selector("#notice")

    decision = page.locator("#mase-decisions tbody tr").inner_text()
    assert "Keep open" in decision
    assert "tm-a@example.org" in decision
    assert "action-1, action-2" in decision
    actions = page.locator("#mase-actions tbody tr")
    assert actions.count() == 2
    assert FIRST in actions.nth(0).inner_text()
    assert "Education safeguarding lead" in actions.nth(0).inner_text()
    assert SECOND in actions.nth(1).inner_text()
    assert "Police SPOC" in actions.nth(1).inner_text()
    assert "open" in actions.nth(1).inner_text()
    audit(page, "case-with-mase-actions", artifacts)

    page.click("a.button[href$='/events/complete_mase_action']")
    options = page.locator("#in-action_id option").all_inner_texts()
    assert [o.split(":")[0] for o in options[1:]] == ["action-1", "action-2"]
    page.select_option("#in-action_id", "action-1")
    page.click("button:has-text('Record')")
    page.wait_for_selector("#notice")
    first = page.locator("#mase-actions tr[data-action=action-1]").inner_text()
    assert "met" in first
    assert "not yet" not in first
