"""The dashboard without a mouse: only key presses (Tab, Shift+Tab, Enter, Space, arrows and
typing; never a click) sign in as intake, start a case (refused once, the error summary
followed to the field), sign out, sign in as the team's social worker, open the case and
record `decide`, and see it recorded.

On every page the first Tab stop is the skip link, and it leads into the main content; every
control that takes the focus shows it (a solid outline or a box shadow, computed).
"""

from __future__ import annotations

import time
import uuid
from pathlib import Path
from typing import Any

import pytest

from tests.api.conftest import TEAM_A, User, Users
from tests.browser.accessibility import focus_is_visible, focused

pytestmark = pytest.mark.e2e

MAX_TAB_STOPS = 150  # more than any page here has before the control a step is after
VISIBILITY_TIMEOUT = 20.0


class Keyboard:
    """One person's keyboard on `page`; every focus it moves is checked to be visible."""

    def __init__(self, page: Any, artifacts: Path) -> None:
        self.page = page
        self.artifacts = artifacts
        self.stops = 0

    def screenshot(self, name: str, full_page: bool = False) -> None:
        self.page.screenshot(path=str(self.artifacts / f"keyboard-{name}.png"), full_page=full_page)

    def matches(self, selector: str) -> bool:
        return bool(self.page.evaluate("s => document.activeElement.matches(s)", selector))

    def tab(self, backwards: bool = False) -> dict[str, Any]:
        self.page.keyboard.press("Shift+Tab" if backwards else "Tab")
        self.stops += 1
        return self.focus_shows()

    def focus_shows(self) -> dict[str, Any]:
        state = focused(self.page)
        assert state is not None, f"nothing has the focus on {self.page.url}"
        assert focus_is_visible(state), f"focus not visible on {state} ({self.page.url})"
        return state

    def tab_to(self, selector: str, backwards: bool = False) -> dict[str, Any]:
        for _ in range(MAX_TAB_STOPS):
            state = self.tab(backwards)
            if self.matches(selector):
                return state
        raise AssertionError(f"{selector} was never reached with Tab on {self.page.url}")

    def press(self, key: str) -> None:
        self.page.keyboard.press(key)

    def type(self, text: str) -> None:
        self.page.keyboard.type(text)

    def skip_to_main(self, screenshot: str | None = None) -> None:
        """A page just opened: the first Tab stop is the skip link, shown, and Enter on it
        puts the focus at the start of the main content."""
        state = self.tab()
        assert state["href"] == "#main", state
        assert state["text"] == "Skip to main content", state
        box = self.page.locator(".skip-link").bounding_box()
        assert box is not None
        assert box["y"] >= 0, box  # on the page, not moved off it
        assert box["height"] >= 20, box
        if screenshot is not None:
            self.screenshot(screenshot)
        self.press("Enter")
        assert self.page.evaluate("() => document.activeElement.id") == "main"

    def choose(self, value: str) -> None:
        """The focused select: arrow down through its options until `value` is chosen."""
        for _ in range(30):
            if self.page.evaluate("() => document.activeElement.value") == value:
                return
            self.press("ArrowDown")
            self.focus_shows()
        raise AssertionError(f"no option {value} in the focused select")


def sign_in(keys: Keyboard, url: str, user: User, lands_on: str) -> None:
    keys.page.goto(f"{url}/dashboard/login")
    keys.skip_to_main(screenshot="skip-link")
    keys.tab_to("#in-token")
    keys.type(user.token)
    keys.tab_to("form button[type=submit]")
    keys.screenshot("sign-in-button")
    keys.press("Enter")
    keys.page.wait_for_url(f"**{lands_on}")


def sign_out(keys: Keyboard) -> None:
    """From the main content, back (Shift+Tab) to the header's Sign out button."""
    keys.skip_to_main()
    state = keys.tab(backwards=True)
    assert state["text"] == "Sign out", state
    keys.press("Enter")
    keys.page.wait_for_selector("#in-token")


def start_case(keys: Keyboard, referral_id: str) -> None:
    """The intake form, sent once without the referrer agency: the error summary takes the
    focus, its link leads to the field, and the form goes again with it filled in."""
    page = keys.page
    keys.skip_to_main()
    keys.tab_to("#in-referral_id")
    keys.type(referral_id)
    keys.tab_to("#in-child_ref")
    keys.type(f"PERSON-{uuid.uuid4().hex[:8]}")
    keys.tab_to("#in-team")
    keys.type(TEAM_A)
    keys.tab_to("#in-concerns")  # the first box of the concerns
    keys.press("Space")
    keys.tab_to("#in-significant_harm_suspected")
    keys.press("Space")
    keys.tab_to("#in-summary")
    keys.type("keyboard test referral")
    keys.tab_to("form.event-form button[type=submit]")
    keys.press("Enter")

    page.wait_for_selector(".error-summary")
    assert keys.matches(".error-summary"), "the error summary does not have the focus"
    keys.focus_shows()
    keys.screenshot("error-summary", full_page=True)
    state = keys.tab()
    assert state["href"] == "#in-referrer_agency", state
    keys.press("Enter")
    assert keys.matches("#in-referrer_agency"), "the summary's link did not move the focus"
    keys.focus_shows()
    keys.type("school")
    assert page.is_checked("#in-concerns")
    assert page.is_checked("#in-significant_harm_suspected")
    keys.tab_to("form.event-form button[type=submit]")
    keys.press("Space")
    page.wait_for_selector("#notice")
    assert f"Referral {referral_id} started" in page.inner_text("#notice")


def open_from_caseload(keys: Keyboard, referral_id: str) -> None:
    """The caseload, reloaded until the new case is listed (eventually consistent), then the
    case's link reached with Tab and followed with Enter."""
    page = keys.page
    link = f"a[href='/dashboard/cases/{referral_id}']"
    deadline = time.monotonic() + VISIBILITY_TIMEOUT
    while page.locator(link).count() == 0:
        assert time.monotonic() < deadline, f"{referral_id} was not listed in time"
        time.sleep(0.5)
        page.reload()
    keys.skip_to_main()
    keys.tab_to(link)
    keys.press("Enter")
    page.wait_for_url(f"**/dashboard/cases/{referral_id}")


def record_decision(keys: Keyboard) -> None:
    page = keys.page
    keys.skip_to_main()
    keys.tab_to("a[href$='/events/decide']")
    keys.press("Enter")
    page.wait_for_selector("form.event-form")
    keys.skip_to_main()
    keys.tab_to("#in-decision")
    keys.choose("assess")
    keys.tab_to("#in-reason")
    keys.type("significant harm suspected")
    keys.tab_to("form.event-form button[type=submit]")
    keys.screenshot("decide-form", full_page=True)
    keys.press("Space")
    page.wait_for_selector("#notice")


def test_a_case_started_and_an_event_recorded_with_the_keyboard_alone(
    page: Any, dashboard_url: str, users: Users, artifacts: Path
) -> None:
    keys = Keyboard(page, artifacts)
    rid = f"KEYS-{uuid.uuid4().hex[:10]}"

    sign_in(keys, dashboard_url, users.intake, lands_on="/dashboard/referrals/new")
    start_case(keys, rid)
    sign_out(keys)

    sign_in(keys, dashboard_url, users.social_worker_a, lands_on="/dashboard/")
    open_from_caseload(keys, rid)
    assert page.inner_text("#stage") == "Referral received"
    record_decision(keys)

    assert "Decide recorded" in page.inner_text("#notice")
    assert page.inner_text("#stage") == "Assessment"
    timeline = page.inner_text("#timeline")
    assert "Decide" in timeline
    assert users.social_worker_a.user_id in timeline
    assert "Decision: assess" in timeline
    keys.screenshot("decided", full_page=True)
    assert keys.stops > 10
