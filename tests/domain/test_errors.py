"""The error-type registry (domain/errors.py): every refusal travels under a registered name."""

from __future__ import annotations

from domain.errors import ERROR_TYPES, PATHWAY_REFUSAL_TYPES, PathwayRefusal


def every_refusal_class() -> set[type[PathwayRefusal]]:
    found: set[type[PathwayRefusal]] = set()
    waiting = [PathwayRefusal]
    while waiting:
        kind = waiting.pop()
        found.add(kind)
        waiting += kind.__subclasses__()
    return found - {PathwayRefusal}


def test_every_pathway_refusal_travels_under_a_registered_type() -> None:
    assert {kind.__name__ for kind in every_refusal_class()} == PATHWAY_REFUSAL_TYPES
    assert PATHWAY_REFUSAL_TYPES <= ERROR_TYPES


def test_the_registry_names_what_clients_read() -> None:
    """These names are a contract: clients of the workflows and the API read them."""
    assert {
        "InvalidInput",
        "EventNotAllowed",
        "RuleBroken",
        "InvalidEventTime",
        "CaseNotOpen",
        "DuplicateReferral",
        "PermanentDeliveryError",
    } == ERROR_TYPES
