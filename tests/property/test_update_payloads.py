"""Every update's payload, generated, through the checks the workflow's validators run.

Each payload is accepted, or refused as InvalidInput naming a field or as a PathwayRefusal
naming its rule; checking never changes the case, a refused `apply` leaves it exactly as it
was, and an accepted one takes the case where `check` said. Nothing else is ever raised.
"""

from __future__ import annotations

from datetime import datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from domain.case import Case
from domain.errors import PathwayRefusal
from domain.events import EVENT_TYPES
from tests.property.cases import templates
from tests.property.oracle import (
    _DEFINITION,
    OPERATOR_UPDATES,
    UPDATE_TYPES,
    Verdict,
    judge_update,
    names_a_field_or_rule,
)
from tests.property.payloads import Sent, Window, payloads, sent_to
from tests.property.tally import TALLY, count

CASES = {label: (case, now) for label, case, now in templates()}
CASE_LABELS = st.sampled_from(sorted(CASES))
ANY_UPDATE = st.one_of([payloads(model).map(sent_to(name)) for name, model in UPDATE_TYPES.items()])
HOSTILE = settings(
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def judged(case: Case, name: str, sent: Sent, now: datetime) -> Verdict:
    """Judge one payload and hold it to the contract; the case must not change."""
    before = case.model_dump()
    window = Window(case.referral.received_at, now)
    verdict = judge_update(case, name, [sent.payload(window)], now)
    unchanged(case, before, f"checking {name}", refused=not verdict.accepted)
    count("domain", sent.shape, verdict.refused_as)
    if sent.shape == "valid" and name != "record_missing_episode":  # returned before missing
        assert verdict.refused_as != "InvalidInput", f"a valid {name}: {verdict.message}"
    if verdict.refused_as is not None:
        fields = set(UPDATE_TYPES[name].model_fields)
        fault = names_a_field_or_rule(
            verdict.refused_as, verdict.message, verdict.details, fields, sent.keys()
        )
        assert fault is None, fault
    return verdict


def applied(case: Case, verdict: Verdict, now: datetime) -> None:
    """`apply` agrees with `check`: refused the same way and changing nothing, or accepted
    into the stage `check` named."""
    if verdict.event is None:
        return  # refused as input: no event ever reaches `apply`
    before = case.model_dump()
    if verdict.accepted:
        case.apply(verdict.event, now)
        assert case.stage == verdict.stage
        case.status()
        return
    with pytest.raises(PathwayRefusal) as refusal:
        case.apply(verdict.event, now)
    assert (type(refusal.value).__name__, refusal.value.rule) == (verdict.refused_as, verdict.rule)
    unchanged(case, before, f"a refused {verdict.event.name}", refused=True)


def unchanged(case: Case, before: dict[str, object], what: str, refused: bool) -> None:
    """Nothing about the case changed (a deep dump of every field, history and clocks too)."""
    changed = case.model_dump() != before
    TALLY["state_changes_from_refusals"] += changed and refused
    assert not changed, f"{what} changed the case"


def test_every_event_of_the_pathway_is_an_update_with_its_model() -> None:
    assert UPDATE_TYPES == EVENT_TYPES
    assert set(_DEFINITION.updates) == set(EVENT_TYPES) | OPERATOR_UPDATES


@pytest.mark.parametrize("name", sorted(UPDATE_TYPES))
@settings(HOSTILE, max_examples=450)
@given(data=st.data())
def test_each_payload_is_accepted_or_refused_by_name_and_a_refusal_changes_nothing(
    name: str, data: st.DataObject
) -> None:
    template, now = CASES[data.draw(CASE_LABELS, label="case")]
    sent = data.draw(payloads(UPDATE_TYPES[name]), label="payload")
    verdict = judged(template, name, sent, now)
    if verdict.accepted:
        template = template.model_copy(deep=True)  # the templates are shared: apply on a copy
    applied(template, verdict, now)


@settings(HOSTILE, max_examples=250)
@given(data=st.data())
def test_a_case_driven_by_a_run_of_payloads_is_never_changed_by_a_refusal(
    data: st.DataObject,
) -> None:
    """Payload after payload on one case, so accepted events take it to states no template
    has; every refusal along the way must leave it as it was."""
    template, now = CASES[data.draw(CASE_LABELS, label="case")]
    case = template.model_copy(deep=True)
    run = data.draw(st.lists(ANY_UPDATE, min_size=1, max_size=14), label="run")
    for name, sent in run:
        applied(case, judged(case, name, sent, now), now)
