"""Every dashboard page and form, in each of its states, checked by axe-core at WCAG 2.2 AA
(tags wcag2a, wcag2aa, wcag21a, wcag21aa, wcag22aa) in Debian's chromium: no violation allowed.

States: the sign-in page (fresh, a bad token, sent from a link); the intake form (new, invalid
fields, refused by the pathway, started); the caseload (each role, filtered, invalid filters);
the forecast (and invalid); a case page (open, just recorded, closed); every event form (new,
invalid fields, refused by the pathway); and the error pages (not found, not permitted, not
understood).
Refusals follow the GOV.UK Design System: an error summary that takes the focus, linking to
each field, whose message its control names in `aria-describedby`, and "Error: " in the title.

Each page leaves test-artifacts/a11y-NAME.png and test-artifacts/axe/NAME.json.
"""

from __future__ import annotations

from datetime import timedelta
from functools import partial
from pathlib import Path
from typing import Any

import httpx
import pytest

from api.dashboard.rendering import words
from domain.events import EVENT_TYPES
from tests.api.conftest import TEAM_A, User, Users, just_now, referral
from tests.browser.accessibility import audit, focus_is_visible, focused
from tests.browser.test_dashboard_browser import sign_in, sign_out
from tests.e2e.conftest import wait_until

pytestmark = pytest.mark.e2e

VISIBILITY_TIMEOUT = 20.0


class Api:
    """The service's own API, as intake and practitioners call it, to set the scene quickly."""

    def __init__(self, url: str) -> None:
        self.url = url

    def start(self, user: User, **extra: Any) -> str:
        body = referral(**extra)
        answer = httpx.post(f"{self.url}/referrals", json=body, headers=user.headers, timeout=60)
        assert answer.status_code == 201, answer.text
        return str(body["referral_id"])

    def record(self, user: User, referral_id: str, event: str, **body: Any) -> None:
        path = f"{self.url}/cases/{referral_id}/events/{event}"
        answer = httpx.post(path, json=body, headers=user.headers, timeout=60)
        assert answer.status_code == 200, answer.text

    def listed(self, user: User, referral_id: str) -> bool:
        answer = httpx.get(f"{self.url}/cases", headers=user.headers, timeout=60)
        return referral_id in answer.text


@pytest.fixture(scope="module")
def cases(dashboard_url: str, users: Users) -> dict[str, str]:
    """Team A's cases: one at assessment screened 2 (so an outcome needs a rationale), one
    received ten days ago (overdue), one closed; listed before the tests look for them."""
    api = Api(dashboard_url)
    screened = api.start(users.intake, team=TEAM_A)
    worker = users.social_worker_a
    api.record(worker, screened, "decide", decision="assess", decided_at=just_now())
    api.record(
        worker,
        screened,
        "record_screening",
        score=2,
        professional_concern="medium",
        screened_at=just_now(),
    )
    late = api.start(users.intake, team=TEAM_A, received_ago=timedelta(days=10))
    closed = api.start(users.intake, team=TEAM_A)
    api.record(users.manager_a, closed, "close", reason="moved away", closed_at=just_now())
    for rid in (screened, late, closed):
        wait_until(
            f"{rid} to be listed",
            partial(api.listed, users.head_of_service, rid),
            VISIBILITY_TIMEOUT,
        )
    return {"screened": screened, "late": late, "closed": closed}


def error_summary_has_focus(page: Any) -> None:
    """GOV.UK's error summary: at the top of main, an alert, focused on arrival."""
    summary = page.locator(".error-summary")
    assert summary.count() == 1
    assert summary.get_attribute("role") == "alert"
    state = focused(page)
    assert state is not None
    assert state["id"] == "error-summary", state
    assert focus_is_visible(state), state
    assert page.title().startswith("Error: "), page.title()


def field_error_is_described(page: Any, control: str) -> None:
    """The control is marked invalid and names its error message in aria-describedby, and the
    summary links to it."""
    box = page.locator(f"#{control}")
    assert box.get_attribute("aria-invalid") == "true"
    described_by = (box.get_attribute("aria-describedby") or "").split()
    messages = [i for i in described_by if i.startswith("problem-")]
    assert messages, f"#{control} names no error message: {described_by}"
    assert page.locator(f"#{messages[0]}").inner_text().startswith("Error:")
    assert page.locator(f".error-summary a[href='#{control}']").count() == 1


# ---- signing in ------------------------------------------------------------------------------


def test_the_sign_in_page_fresh_refused_and_from_a_link(
    page: Any, dashboard_url: str, artifacts: Path
) -> None:
    page.goto(f"{dashboard_url}/dashboard/login")
    assert page.title() == "Sign in · CSE referral pathway"
    audit(page, "login", artifacts)

    page.fill("#in-token", "not-a-token")
    page.click("button:has-text('Sign in')")
    page.wait_for_selector(".error-summary")
    error_summary_has_focus(page)
    field_error_is_described(page, "in-token")
    audit(page, "login-bad-token", artifacts)

    page.goto(f"{dashboard_url}/dashboard/forecast")  # not signed in: sent to sign in first
    assert "/dashboard/login?next=" in page.url
    audit(page, "login-from-a-link", artifacts)


# ---- intake ----------------------------------------------------------------------------------


def test_the_intake_form_new_invalid_refused_and_started(
    page: Any, dashboard_url: str, users: Users, cases: dict[str, str], artifacts: Path
) -> None:
    sign_in(page, dashboard_url, users.intake)
    assert page.title() == "New referral · CSE referral pathway"
    audit(page, "intake-form", artifacts)

    page.fill("#in-referral_id", "has spaces")  # the pattern refuses it; the rest is empty
    page.click("button:has-text('Start the case')")
    page.wait_for_selector(".error-summary")
    error_summary_has_focus(page)
    for control in ("in-referral_id", "in-child_ref", "in-team", "in-referrer_agency"):
        field_error_is_described(page, control)
    audit(page, "intake-form-invalid-fields", artifacts)

    fill_referral(page, cases["screened"])  # an id already taken: the pathway refuses it
    page.click("button:has-text('Start the case')")
    page.wait_for_selector(".error-summary")
    error_summary_has_focus(page)
    field_error_is_described(page, "in-referral_id")
    audit(page, "intake-form-refused", artifacts)

    fill_referral(page, f"A11Y-{cases['screened']}")
    page.click("button:has-text('Start the case')")
    assert "started" in page.inner_text("#notice")
    assert page.locator(".error-summary").count() == 0
    audit(page, "intake-form-started", artifacts)


def fill_referral(page: Any, referral_id: str) -> None:
    page.fill("#in-referral_id", referral_id)
    page.fill("#in-child_ref", "PERSON-A11Y")
    page.fill("#in-team", TEAM_A)
    page.fill("#in-referrer_agency", "school")
    page.check("input[name=concerns][value=running_away]")


# ---- caseload and forecast -------------------------------------------------------------------


def test_the_caseload_for_each_role_filtered_and_refused(
    page: Any, dashboard_url: str, users: Users, cases: dict[str, str], artifacts: Path
) -> None:
    sign_in(page, dashboard_url, users.social_worker_a)
    assert page.title() == "Caseload · CSE referral pathway"
    assert page.locator(f"tr.overdue a[href$='/{cases['late']}']").count() == 1
    audit(page, "caseload-social-worker", artifacts)

    page.select_option("#f-stage", "assessment")
    page.select_option("#f-score", "2")
    page.click("button:has-text('Filter')")
    assert page.locator(f"a[href$='/{cases['screened']}']").count() == 1
    audit(page, "caseload-filtered", artifacts)

    page.goto(f"{dashboard_url}/dashboard/?overdue=true")
    assert page.locator("table.cases tbody tr.overdue").count() >= 1
    audit(page, "caseload-overdue-only", artifacts)

    page.goto(f"{dashboard_url}/dashboard/?score=9&stage=nowhere")
    error_summary_has_focus(page)
    field_error_is_described(page, "f-score")
    field_error_is_described(page, "f-stage")
    audit(page, "caseload-invalid-filters", artifacts)
    sign_out(page)

    sign_in(page, dashboard_url, users.head_of_service)
    page.fill("#f-team", TEAM_A)
    page.click("button:has-text('Filter')")
    audit(page, "caseload-head-of-service", artifacts)
    sign_out(page)

    sign_in(page, dashboard_url, users.analyst)
    assert page.locator("table.cases .muted:has-text('withheld')").count() >= 1
    audit(page, "caseload-analyst", artifacts)


def test_the_forecast_and_its_refusal(
    page: Any, dashboard_url: str, users: Users, cases: dict[str, str], artifacts: Path
) -> None:
    sign_in(page, dashboard_url, users.manager_a)
    page.goto(f"{dashboard_url}/dashboard/forecast?working_days=20")
    assert page.title() == "Forecast · CSE referral pathway"
    audit(page, "forecast", artifacts)

    page.goto(f"{dashboard_url}/dashboard/forecast?working_days=0")
    error_summary_has_focus(page)
    field_error_is_described(page, "f-days")
    audit(page, "forecast-invalid", artifacts)


# ---- a case ----------------------------------------------------------------------------------


def test_a_case_page_open_recorded_and_closed(
    page: Any, dashboard_url: str, users: Users, cases: dict[str, str], artifacts: Path
) -> None:
    sign_in(page, dashboard_url, users.manager_a)
    rid = cases["screened"]
    page.goto(f"{dashboard_url}/dashboard/cases/{rid}")
    assert page.title() == f"Case {rid} · CSE referral pathway"
    page.click("summary:has-text('Diagram source')")  # the Mermaid source, opened
    audit(page, "case", artifacts)

    page.click("a.button[href$='/events/record_missing_episode']")
    page.click("button:has-text('Record')")
    page.wait_for_selector("#notice")
    audit(page, "case-just-recorded", artifacts)

    page.goto(f"{dashboard_url}/dashboard/cases/{cases['closed']}")
    assert page.locator("#record").count() == 0
    audit(page, "case-closed", artifacts)


@pytest.mark.parametrize("event", list(EVENT_TYPES))
def test_each_event_form(
    event: str,
    page: Any,
    dashboard_url: str,
    users: Users,
    cases: dict[str, str],
    artifacts: Path,
) -> None:
    sign_in(page, dashboard_url, users.manager_a)  # a manager may record every event, `close` too
    page.goto(f"{dashboard_url}/dashboard/cases/{cases['screened']}/events/{event}")
    assert page.locator("form.event-form").count() == 1
    assert page.title().startswith(f"{words(event)}: case {cases['screened']} · ")
    audit(page, f"event-{event}", artifacts)


def test_an_event_form_with_invalid_fields_and_refused(
    page: Any, dashboard_url: str, users: Users, cases: dict[str, str], artifacts: Path
) -> None:
    sign_in(page, dashboard_url, users.social_worker_a)
    form = f"{dashboard_url}/dashboard/cases/{cases['screened']}/events"

    page.goto(f"{form}/record_screening")
    page.fill("#in-score", "9")
    page.fill("#in-screened_at", "")
    page.click("button:has-text('Record')")
    page.wait_for_selector(".error-summary")
    error_summary_has_focus(page)
    for control in ("in-score", "in-professional_concern", "in-screened_at"):
        field_error_is_described(page, control)
    assert page.input_value("#in-score") == "9", "the form keeps what was sent"
    audit(page, "event-form-invalid-fields", artifacts)

    page.goto(f"{form}/record_screening")  # one of a list's lines is too long
    page.fill("#in-score", "1")
    page.select_option("#in-professional_concern", "low")
    page.fill("#in-push_pull_factors", "x" * 300)
    page.click("button:has-text('Record')")
    page.wait_for_selector(".error-summary")
    field_error_is_described(page, "in-push_pull_factors")
    audit(page, "event-form-invalid-list", artifacts)

    page.goto(f"{form}/complete_assessment")  # a score of 2 needs a rationale
    page.select_option("#in-outcome", "cin")
    page.click("button:has-text('Record')")
    page.wait_for_selector(".error-summary")
    error_summary_has_focus(page)
    field_error_is_described(page, "in-rationale")
    assert "Not recorded" in page.inner_text(".error-summary")
    audit(page, "event-form-refused", artifacts)

    page.goto(f"{form}/record_missing_episode")  # a whole-model rule, named by its field
    page.fill("#in-went_missing_at", "2026-01-02T10:00")
    page.fill("#in-returned_at", "2026-01-01T10:00")
    page.click("button:has-text('Record')")
    page.wait_for_selector(".error-summary")
    field_error_is_described(page, "in-returned_at")
    audit(page, "event-form-rule-between-fields", artifacts)


# ---- error pages -----------------------------------------------------------------------------


def test_the_error_pages(
    page: Any, dashboard_url: str, users: Users, cases: dict[str, str], artifacts: Path
) -> None:
    sign_in(page, dashboard_url, users.social_worker_b)  # another team's social worker
    answer = page.goto(f"{dashboard_url}/dashboard/cases/{cases['screened']}")
    assert answer is not None
    assert answer.status == 403
    assert page.title().startswith("Error: Not permitted")
    audit(page, "error-not-permitted", artifacts)

    answer = page.goto(f"{dashboard_url}/dashboard/cases/NO-SUCH-CASE-{cases['late']}")
    assert answer is not None
    assert answer.status == 404
    assert page.title().startswith("Error: Not found")
    audit(page, "error-not-found", artifacts)

    answer = page.goto(f"{dashboard_url}/dashboard/cases/{cases['closed']}/events/close")
    assert answer is not None
    assert answer.status == 403  # only a manager closes a case
    audit(page, "error-manager-only", artifacts)

    answer = page.goto(f"{dashboard_url}/dashboard/login?next=/dashboard/{'x' * 2000}")
    assert answer is not None
    assert answer.status == 422  # `next` longer than a page address may be
    assert page.title().startswith("Error: Not understood")
    assert page.locator("ul.problems li").count() >= 1
    audit(page, "error-not-understood", artifacts)
