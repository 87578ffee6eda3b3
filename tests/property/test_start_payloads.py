"""The start input, generated: a Referral, or refused as InvalidInput naming its fields.

Whatever the converter accepts must open a case (the workflow opens it before it checks the
referral's date), and the case must survive the trip through the converter that carries it
into its next run.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import HealthCheck, given, settings

from domain.case import Case
from domain.policy import Policy
from domain.referral import Referral
from tests.property.oracle import CONVERTER, convert, judge_start, names_a_field_or_rule
from tests.property.payloads import Sent, Window, payloads
from tests.property.tally import count

NOW = datetime(2026, 12, 1, 12, tzinfo=UTC)
WINDOW = Window(received_at=NOW - timedelta(days=400), now=NOW)
FIELDS = set(Referral.model_fields)


@settings(
    max_examples=2500,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(sent=payloads(Referral))
def test_each_start_input_opens_a_case_or_is_refused_naming_the_referrals_fields(
    sent: Sent,
) -> None:
    referral_id = sent.value.get("referral_id") if isinstance(sent.value, dict) else None
    workflow_id = f"referral-{referral_id}"
    verdict = judge_start([sent.payload(WINDOW)], workflow_id, NOW)
    count("domain", sent.shape, verdict.refused_as)
    if verdict.refused_as is not None:
        fault = names_a_field_or_rule(
            verdict.refused_as, verdict.message, verdict.details, FIELDS, sent.keys()
        )
        assert fault is None, fault
        assert sent.shape != "valid", f"a valid referral refused: {verdict.message}"
        return
    referral = verdict.event
    assert isinstance(referral, Referral)
    case, _ = Case.open(referral, Policy(), NOW)
    case.status()
    (carried,) = convert(CONVERTER.to_payloads([case]), Case)
    assert carried == case, "a case must cross continue-as-new unchanged"
