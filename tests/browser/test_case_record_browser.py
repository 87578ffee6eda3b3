"""A case under a child protection plan in a real browser (Debian's chromium, Playwright): a
review recorded through its form with the CSE models and push/pull factors left empty (so
unchanged), then the case page shows the plan, the tracks drawn and marked, each screening
with what changed, the strategy discussion with the agency not there, and passes axe-core at
WCAG 2.2 AA. Screenshots go to test-artifacts/."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.api.conftest import TEAM_A, Users
from tests.browser.accessibility import audit
from tests.browser.test_dashboard_accessibility import Api
from tests.browser.test_dashboard_browser import sign_in
from tests.browser.test_dashboard_http import steps_to_a_plan

pytestmark = pytest.mark.e2e


def test_a_review_under_a_plan_and_the_case_page_that_shows_it(
    page: Any, dashboard_url: str, users: Users, artifacts: Path
) -> None:
    api = Api(dashboard_url)
    rid = api.start(users.intake, team=TEAM_A, significant_harm_suspected=True)
    for event, body in steps_to_a_plan():
        api.record(users.social_worker_a, rid, event, **body)
    sign_in(page, dashboard_url, users.social_worker_a)
    page.goto(f"{dashboard_url}/dashboard/cases/{rid}")

    page.click("a.button[href$='/events/record_review']")
    page.fill("#in-score", "3")
    page.select_option("#in-professional_concern", "high")
    page.check("input[name=indicators][value=running_away]")
    page.check("input[name=indicators][value=use_of_technology]")
    page.click("button:has-text('Record')")
    page.wait_for_selector("#notice")

    assert page.inner_text("#cp-plan") == "Child protection plan in force"
    reviews = page.locator("#screenings li.screening")
    assert reviews.count() == 2
    latest = reviews.nth(1).inner_text()
    assert "Score up 1 (2 → 3)" in latest
    assert "Indicators added: Use of technology" in latest
    assert "Indicators gone: Sexual health" in latest
    models = reviews.nth(1).locator("dt:has-text('CSE models') + dd")
    assert models.inner_text() == "Online"  # left empty: unchanged since the screening
    assert "<script>alert(1)</script> older boyfriend" in latest  # shown as text, not run
    assert page.inner_text("#strategy-discussions .missing-agency") == "health not there"
    marked = page.locator("figure.pathway g.track-box.active")
    assert [marked.nth(i).get_attribute("data-state") for i in range(marked.count())] == [
        "assessing",
        "plan_in_force",
    ]
    assert all(marked.nth(i).is_visible() for i in range(marked.count()))
    caption = page.inner_text("#pathway-caption")
    assert "Assessment track: assessing; from here: Complete assessment → assessed." in caption
    assert "Plan track: plan in force" in caption
    page.click("summary:has-text('Diagram source')")
    audit(page, "case-under-a-plan", artifacts)
