"""The pathway's cost per event in the domain alone, no Temporal: `python -m bench.domain_cost`.

A case is opened and taken through a whole journey (decision, screening, assessment, strategy
discussion, enquiry, safety plan, reviews, disruption-free, to closing), again and again; each
event is checked (the update validator's question) and then recorded, as the workflow does.
The baseline, measured in the same run, reads the same payloads into their models, which any
workflow taking JSON pays. Prints microseconds per event and the ratio.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from domain.case import Case
from domain.policy import Policy

try:  # the layout before issue 8, to measure the same journey on older code
    from domain.models import EVENT_TYPES, Referral  # type: ignore[import-not-found]
except ImportError:
    from domain.events import EVENT_TYPES
    from domain.referral import Referral

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
ACTOR = {"actor": "sw-1"}


def _journey() -> list[tuple[str, dict[str, Any]]]:
    at = [(START + timedelta(days=day)).isoformat() for day in range(0, 400, 5)]
    return [
        ("decide", {"decision": "assess", "decided_at": at[1], "reason": "harm"}),
        ("allocate", {"social_worker": "sw-1", "team": "T-1", "allocated_at": at[1]}),
        (
            "record_screening",
            {"score": 2, "professional_concern": "medium", "screened_at": at[2]},
        ),
        ("complete_assessment", {"outcome": "strategy_discussion", "completed_at": at[3]}),
        (
            "record_strategy_discussion",
            {"held_at": at[4], "chair_role": "team_manager", "outcome": "s47"},
        ),
        ("record_missing_episode", {"went_missing_at": at[5], "returned_at": at[6]}),
        ("record_return_interview", {"held_at": at[6]}),
        ("conclude_s47", {"outcome": "risk_of_harm", "concluded_at": at[7]}),
        ("record_safety_plan", {"agreed_at": at[8]}),
        ("raise_professional_concern", {"level": "medium", "raised_at": at[9]}),
        (
            "record_review",
            {"score": 2, "professional_concern": "medium", "reviewed_at": at[20]},
        ),
        (
            "record_strategy_discussion",
            {"held_at": at[21], "chair_role": "team_manager", "outcome": "continue"},
        ),
        (
            "record_review",
            {"score": 1, "professional_concern": "low", "reviewed_at": at[40]},
        ),
    ]


REFERRAL = {
    "referral_id": "BENCH-1",
    "received_at": START.isoformat(),
    "child_ref": "PERSON-BENCH",
    "team": "T-1",
    "referrer_agency": "school",
    "significant_harm_suspected": True,
}


def _pathway(journey: list[tuple[str, dict[str, Any]]]) -> None:
    now = START + timedelta(days=500)
    case, _ = Case.open(Referral.model_validate(REFERRAL), Policy(), now)
    for name, body in journey:
        event = EVENT_TYPES[name].model_validate(body | ACTOR)
        case.check(event, now)
        case.apply(event, now)
    assert case.is_closed


def _payloads_only(journey: list[tuple[str, dict[str, Any]]]) -> None:
    Referral.model_validate(REFERRAL)
    for name, body in journey:
        EVENT_TYPES[name].model_validate(body | ACTOR)


def _per_event(run: Callable[[list[tuple[str, dict[str, Any]]]], None], cases: int) -> float:
    journey = _journey()
    run(journey)  # warm: the one machine is built once per worker, not per case
    started = time.perf_counter()
    for _ in range(cases):
        run(journey)
    return (time.perf_counter() - started) / (cases * len(journey)) * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=300)
    args = parser.parse_args()
    baseline = _per_event(_payloads_only, args.cases)
    pathway = _per_event(_pathway, args.cases)
    print(f"events per case: {len(_journey())}, cases: {args.cases}")
    print(f"payloads only (baseline): {baseline:8.1f} µs per event")
    print(f"pathway, check + record:  {pathway:8.1f} µs per event ({pathway / baseline:.1f}x)")


if __name__ == "__main__":
    main()
