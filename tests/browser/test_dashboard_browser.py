"""A case clicked through the dashboard in a real browser (Debian's chromium, Playwright):
intake starts it, a social worker takes it from referral to safety plan (one event refused
on the way, its message beside the field), then the caseload shows it, highlights an overdue
case, and the case page shows its clocks. Screenshots go to test-artifacts/."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.api.conftest import TEAM_A, User, Users
from tests.e2e.conftest import LONDON

pytestmark = pytest.mark.e2e

VISIBILITY_TIMEOUT = 20.0


def local_minute(moment: datetime) -> str:
    """The value a `datetime-local` input takes: UK time, to the minute."""
    return moment.astimezone(LONDON).strftime("%Y-%m-%dT%H:%M")


def sign_in(page: Any, url: str, user: User) -> None:
    page.goto(f"{url}/dashboard/login")
    page.fill("#in-token", user.token)
    page.click("button:has-text('Sign in')")
    page.wait_for_selector(".who")


def sign_out(page: Any) -> None:
    page.click("button:has-text('Sign out')")
    page.wait_for_selector("#in-token")


def start_referral(page: Any, referral_id: str, received_at: datetime | None = None) -> None:
    page.fill("#in-referral_id", referral_id)
    if received_at is not None:
        page.fill("#in-received_at", local_minute(received_at))
    page.fill("#in-child_ref", f"PERSON-{uuid.uuid4().hex[:8]}")
    page.fill("#in-team", TEAM_A)
    page.fill("#in-referrer_agency", "school")
    page.check("input[name=concerns][value=sexual_health]")
    page.check("#in-significant_harm_suspected")
    page.fill("#in-summary", "browser test referral")
    page.click("button:has-text('Start the case')")
    notice = page.inner_text("#notice")
    assert f"Referral {referral_id} started" in notice, notice


def record(page: Any, event: str, fill: dict[str, str], select: dict[str, str]) -> None:
    """Open the event's form from the case page, fill it in and send it."""
    page.click(f"a.button[href$='/events/{event}']")
    page.wait_for_selector("form.event-form")
    for field, value in fill.items():
        page.fill(f"#in-{field}", value)
    for field, value in select.items():
        page.select_option(f"#in-{field}", value)
    page.click("button:has-text('Record')")


def recorded(page: Any, stage: str) -> None:
    page.wait_for_selector(".notice")
    assert page.inner_text("#stage") == stage


def test_a_case_from_referral_to_safety_plan(
    page: Any, dashboard_url: str, users: Users, artifacts: Path
) -> None:
    rid = f"WEB-{uuid.uuid4().hex[:10]}"
    late = f"WEB-LATE-{uuid.uuid4().hex[:6]}"

    sign_in(page, dashboard_url, users.intake)
    assert page.url.endswith("/dashboard/referrals/new")
    start_referral(page, rid)
    start_referral(page, late, received_at=datetime.now(UTC) - timedelta(days=10))
    sign_out(page)

    sign_in(page, dashboard_url, users.social_worker_a)
    page.goto(f"{dashboard_url}/dashboard/cases/{rid}")
    assert page.inner_text("#stage") == "Referral received"

    record(page, "decide", {"reason": "significant harm suspected"}, {"decision": "assess"})
    recorded(page, "Assessment")
    page.click("a.button[href$='/events/record_screening']")
    page.fill("#in-score", "2")
    page.check("input[name=indicators][value=running_away]")
    page.select_option("#in-professional_concern", "medium")
    page.click("button:has-text('Record')")
    recorded(page, "Assessment")

    # Refused: a score of 2 needs a rationale for anything but a strategy discussion.
    record(page, "complete_assessment", {}, {"outcome": "cin"})
    problem = page.inner_text("#field-rationale .problem")
    assert "needs a written rationale" in problem
    assert "Not recorded" in page.inner_text("#form-problem")
    assert page.input_value("#in-outcome") == "cin", "the form keeps what was sent"
    page.screenshot(path=str(artifacts / "dashboard-refused-form.png"), full_page=True)
    page.select_option("#in-outcome", "strategy_discussion")
    page.click("button:has-text('Record')")
    recorded(page, "Strategy discussion")

    record(
        page,
        "record_strategy_discussion",
        {"agencies": "police\nhealth", "cris_number": "CRIS-4711"},
        {"chair_role": "team_manager", "outcome": "s47"},
    )
    recorded(page, "S47 enquiry")
    record(page, "conclude_s47", {}, {"outcome": "risk_of_harm"})
    recorded(page, "Safety plan")
    assert "Conclude s47 recorded" in page.inner_text(".notice")

    clocks = page.locator("#clocks")
    safety_plan = clocks.locator("tr[data-clock=safety_plan]")
    assert "open" in safety_plan.inner_text()
    assert safety_plan.locator(".ladder li").count() == 4  # reminder, breach, escalation, ...
    assert "met" in clocks.locator("tr[data-clock=strategy_discussion]").inner_text()
    timeline = page.inner_text("#timeline")
    for event in ("Decide", "Record screening", "Complete assessment", "Conclude s47"):
        assert event in timeline
    assert " ".join(page.locator(".stage-box.active tspan").all_text_contents()) == "Safety plan"
    page.screenshot(path=str(artifacts / "dashboard-case.png"), full_page=True)

    caseload_shows(page, dashboard_url, rid, late)
    page.screenshot(path=str(artifacts / "dashboard-caseload.png"), full_page=True)

    page.select_option("#f-overdue", "true")
    page.click("button:has-text('Filter')")
    overdue_rows = page.locator("table.cases tbody tr")
    assert overdue_rows.count() == page.locator("table.cases tbody tr.overdue").count()
    assert page.locator(f"a[href='/dashboard/cases/{late}']").count() == 1
    assert page.locator(f"a[href='/dashboard/cases/{rid}']").count() == 0


def caseload_shows(page: Any, url: str, rid: str, late: str) -> None:
    """The caseload (eventually consistent visibility) with the case at safety plan and the
    late case highlighted as overdue; reloaded for at most VISIBILITY_TIMEOUT seconds."""
    deadline = time.monotonic() + VISIBILITY_TIMEOUT
    while True:
        page.goto(f"{url}/dashboard/")
        row = page.locator("tr", has=page.locator(f"a[href='/dashboard/cases/{rid}']"))
        late_row = page.locator("tr", has=page.locator(f"a[href='/dashboard/cases/{late}']"))
        if row.count() and late_row.count() and "Safety plan" in row.inner_text():
            break
        assert time.monotonic() < deadline, "the caseload did not show both cases in time"
        time.sleep(0.5)
    assert "overdue" in (late_row.get_attribute("class") or "")
    assert "Overdue" in late_row.inner_text()
    assert "overdue" not in (row.get_attribute("class") or "")
