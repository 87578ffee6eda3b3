"""An event is declared once (its payload in EVENT_TYPES, its transitions, guards and effect on
the pathway machine); every layer that offers events is made from, or checked against, that
list: the workflow's updates, the API's routes, the dashboard's forms and buttons."""

from __future__ import annotations

from typing import ClassVar, get_args, get_origin, get_type_hints

import pytest
from fastapi.routing import APIRoute
from statemachine.exceptions import InvalidDefinition
from temporalio.workflow import _Definition

from api.dashboard.event_forms import RECORDERS, event_body
from api.routes import events
from contract.child_indexing import INDEX_CHILD
from domain.events import EVENT_TYPES
from domain.pathway import (
    CaseOnPathway,
    PathwayMachine,
    effects_missing_from,
    events_allowed_in,
    machine_events,
)
from domain.rules import PathwayRules
from domain.vocabulary import Stage
from workflows.referral import ReferralWorkflow


def test_every_layer_offers_exactly_the_events_of_the_contract() -> None:
    updates = set(_Definition.must_from_class(ReferralWorkflow).updates)
    routes = {
        route.path.removeprefix("/cases/{referral_id}/events/")
        for route in events.router.routes
        if isinstance(route, APIRoute)
    }
    offered_somewhere = {name for stage in Stage for name in events_allowed_in(stage)}

    assert machine_events() == set(EVENT_TYPES)
    assert updates == set(EVENT_TYPES) | {INDEX_CHILD}  # and an operator's, not an event
    assert routes == set(EVENT_TYPES)
    assert set(RECORDERS) == set(EVENT_TYPES)
    assert offered_somewhere == set(EVENT_TYPES)
    assert all(event_body(name).model_fields.keys() >= {"actor"} for name in EVENT_TYPES)


def test_every_update_has_a_validator_that_refuses_before_history() -> None:
    definition = _Definition.must_from_class(ReferralWorkflow)

    assert all(update.validator is not None for update in definition.updates.values())


def test_every_update_is_typed_for_callers_as_its_event() -> None:
    """The class's annotations (what an IDE and mypy read) name each event's update once,
    taking that event's payload: an event added without one, or typed as another, fails."""
    hints = get_type_hints(ReferralWorkflow)
    typed = {
        name: get_args(get_args(hint)[0])[0][1]
        for name, hint in hints.items()
        if get_origin(hint) is ClassVar
    }
    assert typed == EVENT_TYPES


def test_a_model_without_an_events_effect_is_found_out() -> None:
    """Effects run once per event through one action, so the machine cannot resolve them
    by name at construction: the import of domain/pathway.py checks its model instead."""
    assert effects_missing_from(CaseOnPathway) == []
    assert "apply_decide" in effects_missing_from(PathwayRules)


def test_a_machine_without_a_named_guard_fails_at_construction() -> None:
    class RulesWithoutGuards:
        position = "closed"

    with pytest.raises(InvalidDefinition, match=r"screening_recorded|Did not found name"):
        PathwayMachine(model=RulesWithoutGuards(), state_field="position")


def test_a_closed_case_offers_no_event_and_an_open_one_always_offers_close() -> None:
    assert events_allowed_in(Stage.closed) == []
    assert all("close" in events_allowed_in(stage) for stage in Stage if stage != Stage.closed)
