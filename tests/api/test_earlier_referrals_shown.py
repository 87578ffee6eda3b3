"""The child's earlier referrals on a case page (issue 19, item 2), without a server: a reader
sees, with a link, each earlier case they may open (its team is theirs, or they see every
team); of the others only how many there are; a MASE chair only the count."""

from __future__ import annotations

from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

from api.auth import ApiRole, Identity
from api.dashboard.case_page import events_for, where_on_tracks
from api.dashboard.diagram import draw
from api.dashboard.earlier_referrals import EarlierShown, shown_to
from api.dashboard.rendering import templates
from api.diagram import case_diagram
from domain.csv_export import detail_text
from domain.status import CaseStatus, EarlierReferral, MaseStatus
from domain.vocabulary import Stage

RECEIVED = datetime(2026, 3, 2, 10, tzinfo=UTC)
OURS = EarlierReferral(referral_id="R-OURS", received_at=RECEIVED, stage=Stage.closed)
THEIRS = EarlierReferral(referral_id="R-THEIRS", received_at=RECEIVED, stage=Stage.review)
TEAMS: dict[str, str | None] = {"R-OURS": "TEAM-A", "R-THEIRS": "TEAM-B"}


def user(role: ApiRole, team: str | None = None) -> Identity:
    return Identity(user_id=f"{role.value}-1", role=role, team=team)


def test_a_social_worker_sees_their_team_s_earlier_case_and_only_counts_the_other() -> None:
    shown = shown_to(user(ApiRole.social_worker, "TEAM-A"), [OURS, THEIRS], TEAMS)

    assert shown == EarlierShown([OURS], 1)


def test_a_head_of_service_sees_every_earlier_case() -> None:
    assert shown_to(user(ApiRole.head_of_service), [OURS, THEIRS], TEAMS) == EarlierShown(
        [OURS, THEIRS], 0
    )


def test_a_case_whose_team_is_unknown_is_only_counted() -> None:
    shown = shown_to(user(ApiRole.social_worker, "TEAM-A"), [OURS], {})

    assert shown == EarlierShown([], 1)


def test_a_mase_chair_sees_only_how_many() -> None:
    assert shown_to(user(ApiRole.mase_chair), [OURS, THEIRS], TEAMS) == EarlierShown([], 2)


def page(status: CaseStatus, shown: EarlierShown, reader: Identity, **more: Any) -> str:
    """case.html as case_page renders it (`more`: other context, e.g. the authorities)."""
    context: dict[str, Any] = {
        "request": SimpleNamespace(url=SimpleNamespace(path="/dashboard/cases/R-NOW")),
        "user": reader,
        "csrf_token": "t",
        "case": status,
        "clocks": [],
        "events": events_for(reader, status.stage, status.tracks),
        "tracks": where_on_tracks(status),
        "screenings": [],
        "detail_text": detail_text,
        "managers_events": set(),
        "drawing": draw(status),
        "mermaid": case_diagram(status),
        "notice": None,
        "earlier": shown,
    } | more
    return templates.env.get_template("case.html").render(context)


def a_status(**fields: Any) -> CaseStatus:
    base: dict[str, Any] = {
        "referral_id": "R-NOW",
        "stage": Stage.referral_received,
        "risk_score": None,
        "complex": False,
        "professional_concern": None,
        "team": "TEAM-A",
        "allocated_to": None,
        "clocks": [],
        "history": [],
        "mase": MaseStatus(),
        "missing_episodes": [],
        "closed_reason": None,
        "overdue": False,
        "next_due": None,
        "policy_version": "v1",
    }
    return CaseStatus.model_validate(base | fields)


def test_the_page_links_the_cases_the_reader_may_open_and_counts_the_others() -> None:
    status = a_status(earlier_referrals=[OURS, THEIRS], re_referral=True)
    reader = user(ApiRole.social_worker, "TEAM-A")

    html = page(status, shown_to(reader, [OURS, THEIRS], TEAMS), reader)

    assert '<a href="/dashboard/cases/R-OURS">Case R-OURS</a>' in html
    assert "R-THEIRS" not in html
    assert "1 more earlier referral, on cases you cannot open" in html
    assert "yes: referred before within the last 12 months" in html


def test_a_reader_who_may_open_none_sees_only_how_many() -> None:
    status = a_status(earlier_referrals=[OURS, THEIRS])
    chair = user(ApiRole.mase_chair)

    html = page(status, shown_to(chair, [OURS, THEIRS], TEAMS), chair)

    assert "There are 2 earlier referrals of this child." in html
    assert "R-OURS" not in html
    assert "R-THEIRS" not in html


def test_a_first_referral_shows_no_earlier_section() -> None:
    reader = user(ApiRole.social_worker, "TEAM-A")

    html = page(a_status(), EarlierShown([], 0), reader)

    assert "earlier-referrals" not in html
    assert '<dd id="re-referral">no</dd>' in html
