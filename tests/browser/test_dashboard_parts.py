"""The dashboard's parts without a server: forms generated from the contract's models and read
back, the events a case page offers, and the pathway drawing from the machine, its tracks
included (sessions: tests/api/test_sessions.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError

from api.auth import ApiRole, Identity
from api.dashboard.case_page import events_for, where_on_tracks
from api.dashboard.diagram import draw, pathway_of
from api.dashboard.event_forms import RECORDERS
from api.dashboard.forms import Widget, field_problems, form_fields, initial_values, submitted
from api.diagram import pathway_at
from domain.events import (
    EVENT_TYPES,
    Decide,
    RecordMissingEpisode,
    RecordReview,
    RecordScreening,
)
from domain.pathway import tracks
from domain.policy import ClockName
from domain.referral import Referral
from domain.status import CaseStatus, Clock, MaseStatus
from domain.vocabulary import Indicator, Stage

LONDON_WINTER = "2026-11-27T10:00"
LONDON_SUMMER = "2026-07-01T10:00"


@pytest.mark.parametrize("name", list(EVENT_TYPES))
def test_every_event_has_a_form_with_its_fields_but_actor(name: str) -> None:
    fields = form_fields(EVENT_TYPES[name])

    assert [f.name for f in fields] == [f for f in EVENT_TYPES[name].model_fields if f != "actor"]
    assert {f.widget for f in fields} <= set(Widget)


def test_widgets_follow_the_model_types() -> None:
    widgets = {f.name: f for f in form_fields(RecordScreening)}

    assert widgets["score"].widget == Widget.number
    assert (widgets["score"].minimum, widgets["score"].maximum) == (0, 3)
    assert widgets["indicators"].widget == Widget.checkboxes
    assert "running_away" in widgets["indicators"].options
    assert widgets["push_pull_factors"].widget == Widget.lines
    assert widgets["professional_concern"].widget == Widget.select
    assert widgets["professional_concern"].options == ("low", "medium", "high")
    assert widgets["complex"].widget == Widget.checkbox
    assert widgets["screened_at"].widget == Widget.moment
    assert widgets["screened_at"].required
    summary = {f.name: f for f in form_fields(Referral, omit=frozenset())}["summary"]
    assert summary.widget == Widget.textarea


def test_a_submitted_form_becomes_the_model() -> None:
    fields = form_fields(RecordScreening)
    values = {
        "score": ["2"],
        "indicators": ["running_away", "sexual_health"],
        "push_pull_factors": ["older boyfriend\r\n\r\n gifts "],
        "professional_concern": ["medium"],
        "complex": ["true"],
        "screened_at": [LONDON_SUMMER],
    }

    event = RecordScreening.model_validate(submitted(values, fields) | {"actor": "sw-1"})

    assert event.score == 2
    assert event.push_pull_factors == ["older boyfriend", "gifts"]
    assert event.complex is True
    assert event.screened_at == datetime(2026, 7, 1, 9, 0, tzinfo=UTC)  # BST


def test_form_times_are_uk_time_and_empty_optional_fields_take_their_default() -> None:
    fields = form_fields(RecordMissingEpisode)

    data = submitted({"went_missing_at": [LONDON_WINTER], "returned_at": [""]}, fields)

    assert data == {
        "went_missing_at": datetime(2026, 11, 27, 10, 0, tzinfo=UTC),
        "returned_at": None,
    }


def test_a_review_left_without_indicators_models_or_factors_keeps_them_unchanged() -> None:
    fields = form_fields(RecordReview)
    optional = {f.name: f for f in fields if f.empty_is_unchanged}
    sent = {"score": ["1"], "professional_concern": ["low"], "reviewed_at": [LONDON_WINTER]}

    left_empty = submitted(sent | {"push_pull_factors": [" \r\n "]}, fields)
    review = RecordReview.model_validate(left_empty | {"actor": "sw-1"})
    ticked = submitted(sent | {"indicators": ["running_away"]}, fields)

    assert set(optional) == {"indicators", "cse_models", "push_pull_factors"}
    assert all("unchanged since the last screening" in f.hint for f in optional.values())
    assert optional["push_pull_factors"].hint.startswith("one per line")
    assert not {"indicators", "cse_models", "push_pull_factors"} & set(left_empty)
    assert (review.indicators, review.cse_models, review.push_pull_factors) == (None, None, None)
    assert RecordReview.model_validate(ticked | {"actor": "sw-1"}).indicators == [
        Indicator.running_away
    ]


def test_a_screenings_empty_lists_are_sent_empty() -> None:
    fields = form_fields(RecordScreening)

    data = submitted({"score": ["0"], "screened_at": [LONDON_WINTER]}, fields)

    assert (data["indicators"], data["cse_models"], data["push_pull_factors"]) == ([], [], [])
    assert not any(f.empty_is_unchanged for f in fields)


def test_the_decide_form_offers_a_strategy_discussion_now() -> None:
    [decision] = [f for f in form_fields(Decide) if f.name == "decision"]

    assert decision.widget == Widget.select
    assert "strategy_discussion" in decision.options


def test_problems_are_put_beside_the_field_they_name() -> None:
    fields = form_fields(RecordMissingEpisode)
    data = submitted(
        {"went_missing_at": [LONDON_WINTER], "returned_at": ["2026-11-27T09:00"]}, fields
    )

    with pytest.raises(ValidationError) as refused:
        RecordMissingEpisode.model_validate(data | {"actor": "sw-1"})

    assert field_problems(refused.value) == {
        "returned_at": "a child cannot return before going missing"
    }


def test_empty_required_fields_and_unreadable_numbers_are_named() -> None:
    fields = form_fields(RecordScreening)

    with pytest.raises(ValidationError) as refused:
        RecordScreening.model_validate(
            submitted({"score": ["two"], "screened_at": ["soon"]}, fields) | {"actor": "sw-1"}
        )

    problems = field_problems(refused.value)
    assert problems["professional_concern"] == "Field required"
    assert "valid integer" in problems["score"]
    assert "datetime" in problems["screened_at"]


def test_a_new_form_starts_its_times_at_now_in_uk_time() -> None:
    fields = form_fields(RecordMissingEpisode)

    values = initial_values(fields, datetime(2026, 7, 1, 9, 30, 42, tzinfo=UTC))

    assert values == {"went_missing_at": ["2026-07-01T10:30"], "returned_at": ["2026-07-01T10:30"]}


# ---- the pathway drawing ----------------------------------------------------------------------


def status_at(
    stage: Stage, clocks: list[Clock], on_tracks: dict[str, str] | None = None
) -> CaseStatus:
    return CaseStatus(
        referral_id="R-1",
        stage=stage,
        risk_score=2,
        complex=False,
        professional_concern=None,
        team="RAI-2",
        allocated_to=None,
        clocks=clocks,
        history=[],
        mase=MaseStatus(),
        missing_episodes=[],
        closed_reason=None,
        overdue=False,
        next_due=None,
        policy_version="test",
        tracks=on_tracks or {},
    )


SIDE_BY_SIDE = {"assessment_track": "assessing", "plan_track": "plan_in_force"}


def test_the_drawing_follows_the_machine() -> None:
    now = datetime(2026, 11, 27, 10, 0, tzinfo=UTC)
    clock = Clock(
        id="c1",
        name=ClockName.safety_plan,
        opened_at=now,
        due_at=now + timedelta(days=14),
        escalations=[],
    )

    drawing = draw(status_at(Stage.safety_plan, [clock]))

    assert [box.id for box in drawing.boxes if box.active] == ["safety_plan"]
    assert len(drawing.boxes) == len(Stage)
    assert ("Record safety plan", "Review") in drawing.ways_out
    assert any(arc.leaves_active and "Safety plan → Review" in arc.title for arc in drawing.arcs)
    assert any("safety_plan due" in line for line in drawing.note)
    assert all(box.x >= 0 and box.x + box.width <= drawing.width for box in drawing.boxes)


def test_the_drawing_has_every_move_of_the_mermaid_text() -> None:
    pathway = pathway_of(status_at(Stage.assessment, []))
    mermaid = pathway_at(Stage.assessment)

    assert pathway.active == "assessment"
    assert ("assessment", "child_in_need", "Complete assessment (cin)") in pathway.moves
    assert dict(pathway.stages)["s47_enquiry"] == "S47 enquiry"
    for source, target, _ in pathway.moves:
        assert f"{source} --> {target}" in mermaid


def test_every_event_form_posts_through_the_apis_own_route() -> None:
    assert set(RECORDERS) == set(EVENT_TYPES)


def test_the_mermaid_text_draws_the_tracks_and_where_the_case_is_on_each() -> None:
    mermaid = pathway_at(
        Stage.s47_enquiry, (("assessment_track", "assessing"), ("plan_track", "plan_in_force"))
    )
    assert 'state "Assessment track" as assessment_track {' in mermaid
    assert 'state "Plan track" as plan_track {' in mermaid
    active = {
        line.strip().removesuffix(":::active")
        for line in mermaid.splitlines()
        if ":::active" in line
    }
    assert {"s47_enquiry", "assessing", "plan_in_force"} <= active
    assert "no_plan" not in active


def test_the_drawing_draws_a_row_per_track_under_the_stages_with_the_case_marked() -> None:
    drawing = draw(status_at(Stage.s47_enquiry, [], SIDE_BY_SIDE))

    assert [lane.id for lane in drawing.lanes] == [t.id for t in tracks()]
    assert [lane.name for lane in drawing.lanes] == ["Assessment track", "Plan track"]
    marked = {lane.id: [b.id for b in lane.row.boxes if b.active] for lane in drawing.lanes}
    assert marked == {"assessment_track": ["assessing"], "plan_track": ["plan_in_force"]}
    assert [lane.at for lane in drawing.lanes] == ["Assessing", "Plan in force"]
    assessment, plan = drawing.lanes
    assert assessment.row.ways_out == [("Complete assessment", "Assessed")]
    assert plan.row.ways_out == [("Record cp review (end plan)", "Plan ended")]
    assert any(
        arc.leaves_active and "Plan in force → Plan ended" in arc.title for arc in plan.row.arcs
    )
    assert any("Conference due → No plan" in arc.title for arc in plan.row.arcs)
    stage_bottom = max(box.y + box.height for box in drawing.boxes)
    assert stage_bottom < assessment.heading_y < assessment.row.boxes[0].y
    assert assessment.row.bottom < plan.heading_y < plan.row.boxes[0].y
    every_box = [*drawing.boxes, *(box for lane in drawing.lanes for box in lane.row.boxes)]
    assert all(box.x + box.width <= drawing.width for box in every_box)
    assert plan.row.bottom <= drawing.height


def test_a_closed_case_is_marked_on_no_track() -> None:
    drawing = draw(status_at(Stage.closed, []))

    assert len(drawing.lanes) == len(tracks())
    assert not [box for lane in drawing.lanes for box in lane.row.boxes if box.active]
    assert [lane.at for lane in drawing.lanes] == [None, None]
    assert not [arc for lane in drawing.lanes for arc in lane.row.arcs if arc.leaves_active]


def test_the_drawing_has_every_move_of_each_track_in_the_mermaid_text() -> None:
    pathway = pathway_of(status_at(Stage.s47_enquiry, [], SIDE_BY_SIDE))
    mermaid = pathway_at(Stage.s47_enquiry, tuple(sorted(SIDE_BY_SIDE.items())))

    assert [lane.active for lane in pathway.lanes] == ["assessing", "plan_in_force"]
    assert all(lane.moves for lane in pathway.lanes)
    for lane in pathway.lanes:
        for state, _ in lane.states:
            assert f"as {state}" in mermaid
        for source, target, _ in lane.moves:
            assert f"{source} --> {target}" in mermaid


def test_the_case_page_offers_what_the_tracks_allow_besides_the_stage() -> None:
    worker = Identity(user_id="sw-1", role=ApiRole.social_worker, team="T")

    on_the_line = events_for(worker, Stage.s47_enquiry, {})
    assessing = events_for(worker, Stage.s47_enquiry, SIDE_BY_SIDE)

    assert "complete_assessment" not in on_the_line
    assert "complete_assessment" in assessing
    assert "record_cp_review" in assessing
    assert "close" not in assessing  # a manager's event: the worker may not record it


def test_the_case_page_names_where_the_case_is_on_each_track() -> None:
    assert where_on_tracks(status_at(Stage.s47_enquiry, [], SIDE_BY_SIDE)) == [
        ("Assessment track", "Assessing"),
        ("Plan track", "Plan in force"),
    ]
    assert where_on_tracks(status_at(Stage.closed, [])) == []


def test_a_tick_box_list_shows_its_hint_and_its_group_is_described_by_it() -> None:
    from api.dashboard.rendering import templates

    page = templates.env.get_template("form.html").render(
        fields=form_fields(RecordReview),
        values={},
        problems={},
        action="/dashboard/cases/R-1/events/record_review",
        submission="s",
        csrf_token="c",
        title="Record review",
        user=None,
        case=None,
        notice=None,
        cancel="/dashboard/cases/R-1",
    )
    assert '<p class="hint" id="hint-indicators">' in page
    assert 'aria-describedby="hint-indicators"' in page
    assert "unchanged since the last screening" in page
