"""The checks ReferralWorkflow runs on what a client sends, run here without a server.

An update's payloads go through the project's payload converter as the SDK sends them to the
workflow's handlers, which take `*given` (so without a type hint), then through the
workflow's own `event_from` (one payload, validated as the event's model) and `Case.check`,
as its validators do. A refusal is either an ApplicationError of type "InvalidInput" or a
PathwayRefusal; anything else raised here is a crash the workflow would report as something
other than a refusal.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from temporalio import workflow
from temporalio.api.common.v1 import Payload
from temporalio.exceptions import ApplicationError

from contract.child_indexing import INDEX_CHILD
from domain.case import Case
from domain.errors import PathwayRefusal
from domain.events import EVENT_TYPES, Event
from domain.policy import Policy
from domain.referral import Referral, workflow_id_for
from domain.vocabulary import Stage
from edge.converter import data_converter
from workflows.referral import ReferralWorkflow, event_from

CONVERTER = data_converter.payload_converter
_DEFINITION = workflow._Definition.must_from_class(ReferralWorkflow)  # the SDK's own reading
OPERATOR_UPDATES = frozenset({INDEX_CHILD})
"""Updates an operator sends, not practitioners' events (tests/workflows/test_index_child.py)."""
UPDATE_TYPES: dict[str, type[Event]] = {
    name: EVENT_TYPES[name]
    for name in _DEFINITION.updates
    if name is not None and name not in OPERATOR_UPDATES  # None: a dynamic update
}
"""Each practitioner's update the workflow defines (by the SDK's reading) and its payload."""

REFUSAL_TYPES = {"InvalidInput", "EventNotAllowed", "RuleBroken", "InvalidEventTime"}
RULE = re.compile(r"^[a-z][a-z0-9_]*$")


@dataclass(frozen=True)
class Verdict:
    """What the workflow would answer: accepted (with the stage it leads to) or refused."""

    refused_as: str | None
    message: str = ""
    details: tuple[str, ...] = ()
    stage: Stage | None = None
    event: Any = None

    @property
    def accepted(self) -> bool:
        return self.refused_as is None

    @property
    def rule(self) -> str | None:
        return self.details[0] if self.refused_as in _PATHWAY and self.details else None


_PATHWAY = {"EventNotAllowed", "RuleBroken", "InvalidEventTime"}


def convert(payloads: list[Payload], hint: type) -> list[Any]:
    hints = [hint] if len(payloads) == 1 else None  # as the SDK's workflow instance does
    return CONVERTER.from_payloads(payloads, hints) if payloads else []


def judge_update(case: Case, name: str, payloads: list[Payload], now: datetime) -> Verdict:
    """Convert and check as the update's validator does; changes nothing about `case`."""
    try:
        event = event_from(UPDATE_TYPES[name], tuple(CONVERTER.from_payloads(payloads, None)))
    except ApplicationError as refusal:
        return Verdict(refusal.type, refusal.message, tuple(map(str, refusal.details)))
    try:
        stage = case.check(event, now)
    except PathwayRefusal as refusal:
        return Verdict(type(refusal).__name__, refusal.message, (refusal.rule,), event=event)
    return Verdict(None, stage=stage, event=event)


def judge_start(payloads: list[Payload], workflow_id: str, now: datetime) -> Verdict:
    """What a start must come to (issue 7): one Referral, its own workflow id, not dated in
    the future; anything else fails the case as InvalidInput naming the referral's fields."""
    if len(payloads) != 1:
        return _invalid(f"(input): one referral expected, {len(payloads)} given")
    try:
        (referral,) = convert(payloads, Referral)
    except ApplicationError as refusal:
        return Verdict(refusal.type, refusal.message, tuple(map(str, refusal.details)))
    if not isinstance(referral, Referral):
        return _invalid(f"(input): not a referral but {type(referral).__name__}")
    Case.open(referral, Policy(), now)  # the workflow opens the case before it checks anything
    if workflow_id != workflow_id_for(referral.referral_id):
        return _invalid("referral_id: not the one the workflow id names")
    if referral.received_at > now + timedelta(minutes=Policy().clock_skew_minutes):
        return _invalid("received_at: in the future")
    return Verdict(None, event=referral)


def _invalid(problem: str) -> Verdict:
    return Verdict("InvalidInput", f"invalid input: {problem}", (problem,))


def names_a_field_or_rule(
    refused_as: str | None,
    message: str,
    details: tuple[str, ...],
    fields: set[str],
    keys: set[str],
) -> str | None:
    """Why a refusal's words fail the contract (a field or the rule must be named), or None.

    InvalidInput lists one `field.path: problem` per bad field; each must start with one of
    the model's fields, a key the client sent, or "(input)": the payload as a whole, which
    for a JSON object must then say which field it means (unless the bytes are not JSON, or
    the bad key is the empty string). A pathway refusal carries its rule.
    """
    if refused_as not in REFUSAL_TYPES:
        return f"refused as {refused_as!r}, not one of {sorted(REFUSAL_TYPES)}"
    if refused_as != "InvalidInput":
        if not details or not RULE.match(details[0]):
            return f"a pathway refusal without a rule: {details!r}"
        return None if message.strip() else "a pathway refusal without a message"
    if not message.startswith("invalid input: ") or not details:
        return f"an InvalidInput refusal that lists no field: {message!r}"
    for line in details:
        named = [n for n in (*fields, *keys) if n and line.startswith((f"{n}: ", f"{n}."))]
        if named:
            continue
        if not line.startswith("(input): "):
            return f"names no field of the payload: {line!r}"
        if line.startswith("(input): Invalid JSON"):
            continue  # bytes that do not parse (a lone surrogate, say) have no fields to name
        if keys and not any(f in line for f in fields) and "" not in keys:
            return f"a JSON object refused as a whole, no field named: {line!r}"
    if "CarriedCase" in message:
        return f"talks about an internal type: {message!r}"
    return None
