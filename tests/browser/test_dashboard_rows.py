"""A list of small models in a dashboard form (a MASE decision's actions), without a server:
a fixed number of rows, each the item model's fields; empty rows left out; each problem put
beside the field of the row it is about; and the open actions offered to complete."""

from __future__ import annotations

from datetime import UTC, datetime

from api.dashboard.event_forms import event_body, with_case_choices
from api.dashboard.form_flow import validated
from api.dashboard.forms import ROWS, Values, Widget, form_fields
from domain.events import CompleteMaseAction, RecordMaseDecision
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

HELD = "2026-10-06T10:00"
DUE = "2026-10-20T17:00"


def decision_form(**rows: str) -> Values:
    return {"held_at": [HELD], "decision": ["keep_open"]} | {k: [v] for k, v in rows.items()}


def test_a_list_of_models_is_rows_of_the_item_models_fields() -> None:
    actions = {f.name: f for f in form_fields(RecordMaseDecision)}["actions"]

    assert actions.widget == Widget.rows
    assert actions.item_label == "Agreed action"
    assert len(actions.rows) == ROWS
    first = {part.name: part for part in actions.rows[0]}
    assert list(first) == ["actions.0.action", "actions.0.owner_role", "actions.0.due_at"]
    assert first["actions.0.action"].widget == Widget.text
    assert first["actions.0.owner_role"].options == tuple(r.value for r in Role)
    assert first["actions.0.due_at"].widget == Widget.moment
    assert first["actions.0.due_at"].control_id == "in-actions-0-due_at"
    labels = [c.label for c in actions.controls]
    assert labels[:2] == ["Actions", "Agreed action 1, action"]


def test_rows_are_read_back_as_the_items_and_empty_rows_left_out() -> None:
    fields = form_fields(RecordMaseDecision)
    sent = decision_form(
        **{"actions.1.action": "disruption plan", "actions.1.owner_role": "police_spoc"},
        **{"actions.1.due_at": DUE, "actions.3.action": "  attendance  "},
        **{"actions.3.owner_role": "education_safeguarding_lead", "actions.3.due_at": DUE},
        **{"actions.0.action": " ", "actions.0.owner_role": ""},
    )
    decision = validated(event_body("record_mase_decision"), sent, fields)

    assert isinstance(decision, RecordMaseDecision)
    assert [(a.action, a.owner_role) for a in decision.actions] == [
        ("disruption plan", Role.police_spoc),
        ("attendance", Role.education_safeguarding_lead),
    ]
    assert decision.actions[0].due_at == datetime(2026, 10, 20, 16, tzinfo=UTC)


def test_a_problem_in_a_row_goes_beside_that_rows_field() -> None:
    fields = form_fields(RecordMaseDecision)
    sent = decision_form(
        **{"actions.2.action": "disruption plan", "actions.2.owner_role": "police_spoc"},
    )
    problems = validated(event_body("record_mase_decision"), sent, fields)

    assert problems == {"actions.2.due_at": "Field required"}


def test_an_action_due_before_the_panel_is_refused_beside_the_actions() -> None:
    fields = form_fields(RecordMaseDecision)
    sent = decision_form(
        **{"actions.0.action": "disruption plan", "actions.0.owner_role": "police_spoc"},
        **{"actions.0.due_at": "2026-10-05T10:00"},
    )
    problems = validated(event_body("record_mase_decision"), sent, fields)

    assert list(problems) == ["actions"]
    assert problems["actions"].startswith("action 1 is due at")


def test_an_action_to_complete_is_chosen_from_the_cases_open_actions() -> None:
    case = case_at(Stage.s47_enquiry)
    due = london(2026, 10, 20, 17)
    two = [("disruption plan", Role.police_spoc, due), ("attendance", Role.named_nurse, due)]
    record(case, refer_to_mase(), mase_decision("keep_open", *two, at=london(2026, 10, 6, 10)))
    record(case, complete_mase_action("action-1", at=london(2026, 10, 7, 10)))
    (choice, _) = with_case_choices(form_fields(CompleteMaseAction), case.status())

    assert choice.widget == Widget.select
    assert choice.options == ("action-2",)
    assert choice.option_labels == (
        "action-2: attendance (Named nurse, due Tue 20 Oct 2026 17:00)",
    )
