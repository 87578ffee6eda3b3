"""Every way the pathway refuses an event, and every error type the service's Temporal
errors carry, in one place.

PathwayRefusal            an event was refused; nothing about the case changed
 ├── EventNotAllowed      the event (or its outcome) does not apply in the case's stage
 ├── RuleBroken           a guard (docs/rules.md, Guards) failed, the rule named
 └── InvalidEventTime     the event's time is in the future or before the referral

Each carries `rule`, a stable identifier (also the Temporal ApplicationError type's detail
and what the API reports), and a message a practitioner can act on.

The ApplicationError types (ERROR_TYPES), named here only and read by the workflows, the
activities' retry policies and the API's error mapping:

InvalidInput              a payload's fields are wrong (each named `field.path: problem`)
EventNotAllowed, RuleBroken, InvalidEventTime
                          a PathwayRefusal, under its class's name (PATHWAY_REFUSAL_TYPES)
CaseNotOpen               the case's start was refused: no case to ask or change
DuplicateReferral         the referral id already had a case; this run is not a case
PermanentDeliveryError    a notification channel can never deliver (a bad address): not retried
"""

from typing import Final

from pydantic import ValidationError

INVALID_INPUT: Final = "InvalidInput"
"""The refusal of a payload whose fields are wrong (each named `field.path: problem`), under
this name at every boundary: the workflow's error type, activities' non-retryable errors, the
API's 422."""
CASE_NOT_OPEN: Final = "CaseNotOpen"
DUPLICATE_REFERRAL: Final = "DuplicateReferral"
PERMANENT_DELIVERY_ERROR: Final = "PermanentDeliveryError"


class PathwayRefusal(Exception):
    rule: str = "pathway_refusal"

    def __init__(self, message: str, rule: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if rule is not None:
            self.rule = rule


class EventNotAllowed(PathwayRefusal):
    rule = "event_not_allowed_in_stage"


class RuleBroken(PathwayRefusal):
    rule = "pathway_rule"


class InvalidEventTime(PathwayRefusal):
    rule = "event_time"


def field_errors(err: ValidationError) -> list[str]:
    """One line per bad field, as `field.path: what is wrong`."""
    return [f"{'.'.join(str(p) for p in e['loc']) or '(input)'}: {e['msg']}" for e in err.errors()]


PATHWAY_REFUSAL_TYPES: Final = frozenset(
    kind.__name__ for kind in (EventNotAllowed, RuleBroken, InvalidEventTime)
)
"""The error types of a refused event: each PathwayRefusal travels under its class's name."""

ERROR_TYPES: Final = frozenset(
    {INVALID_INPUT, CASE_NOT_OPEN, DUPLICATE_REFERRAL, PERMANENT_DELIVERY_ERROR}
    | PATHWAY_REFUSAL_TYPES
)
