"""The child on a case page (issue 19, items 3 and 4), without a server: the age at referral
(never the date of birth), whether looked after, the placing and host authorities by their
directory names (and whether they are told of the case), and the transition planning clock in
the clocks table as every other clock is shown."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from api.auth import ApiRole, Identity
from api.dashboard.earlier_referrals import EarlierShown
from domain.policy import ClockName
from domain.status import CaseStatus, Clock, ClockState
from tests.api.test_earlier_referrals_shown import a_status, page

OURS, ONE = "E99000099", "E99000001"  # invented codes
AUTHORITIES = {ONE: "Example Borough One", OURS: "this authority"}
READER = Identity(user_id="sw-1", role=ApiRole.social_worker, team="TEAM-A")
OPENED = datetime(2026, 3, 2, 10, tzinfo=UTC)


def rendered(status: CaseStatus, **more: Any) -> str:
    return page(status, EarlierShown([], 0), READER, **more)


def test_age_looked_after_and_authorities_by_name() -> None:
    status = a_status(
        age_at_referral=16,
        looked_after=True,
        placing_authority=ONE,
        host_authority=OURS,
        other_authorities=[ONE],
    )

    html = rendered(status, authorities=AUTHORITIES)

    assert '<dd id="age-at-referral">16 years</dd>' in html
    assert '<dd id="looked-after">yes</dd>' in html
    placing = html.split('id="placing-authority">')[1].split("</dd>")[0]
    assert placing.startswith(f"Example Borough One ({ONE})")
    assert "told of the MASE referral" in placing
    host = html.split('id="host-authority">')[1].split("</dd>")[0]
    assert host == f"this authority ({OURS})"


def test_a_referral_without_them_says_so_and_names_no_authority() -> None:
    html = rendered(a_status(), authorities=AUTHORITIES)

    assert '<dd id="age-at-referral">not known (no date of birth)</dd>' in html
    assert '<dd id="looked-after">no</dd>' in html
    assert "placing-authority" not in html
    assert "host-authority" not in html


def test_an_authority_the_directory_does_not_name_shows_its_code() -> None:
    html = rendered(a_status(placing_authority="E99000007"), authorities={})

    assert '<dd id="placing-authority">E99000007</dd>' in html


def test_the_transition_planning_clock_is_shown_as_other_clocks_are() -> None:
    clock = Clock(
        id="transition_planning-1",
        name=ClockName.transition_planning,
        opened_at=OPENED,
        due_at=OPENED + timedelta(days=92),
        state=ClockState.open,
        escalations=[],
    )
    status = a_status(clocks=[clock], age_at_referral=17)

    html = rendered(status, clocks=[clock])

    row = html.split('data-clock="transition_planning"')[1].split("</tr>")[0]
    assert "transition planning" in row.lower()
    assert '<span class="badge state-open">open</span>' in row
