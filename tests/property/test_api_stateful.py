"""Schemathesis's stateful phase over the whole HTTP API (issue 17, item 4), in-process (ASGI)
against the real dev server and the project's worker: sequences of calls chained by the links
schemathesis infers from the OpenAPI document (a referral started, then its case read, its
events recorded, its history and diagram asked for), each answer checked as documented: never
a 5xx, every status code, content type and body as the schema says; a case just started can be
read (no 404 for what was created), and auth is never ignored. The stateless phases are
tests/api/test_schemathesis.py. Bounded: a few dozen scenarios of a few steps, no deadline,
derandomized, so the tier stays within a couple of minutes."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import hypothesis
import pytest
import schemathesis
from fastapi import FastAPI
from schemathesis.config._phases import InferenceConfig
from schemathesis.generation.stateful.state_machine import RecordingStateMachine
from schemathesis.specs.openapi.checks import ensure_resource_availability, use_after_free

from api.app import create_app
from domain.events import EVENT_TYPES
from edge.settings import Settings
from tests.api.conftest import (  # noqa: F401  # fixtures, registered by being imported here
    Users,
    api_settings,
    users,
    users_file,
)
from tests.api.test_schemathesis import CHECKS
from tests.e2e.conftest import (  # noqa: F401  # fixtures, registered by being imported here
    sealed_worker,
    temporal_server,
)

if TYPE_CHECKING:  # schemathesis names its OpenAPI cases for type checkers only
    from schemathesis.specs.openapi.schemas import OpenApiCase

pytestmark = pytest.mark.e2e

SCENARIOS = 100
STEPS_PER_SCENARIO = 8


def now_told(case: OpenApiCase) -> None:
    """A referral received, and an event that happened, a moment ago: with the times drawn at
    random nearly every referral is refused (in the future, before 2000, before the policy's
    tolerance) and no sequence gets past it. Only the one time each body must get right is
    set; everything else stays as drawn (random times are the stateless phases' work)."""
    if not isinstance(case.body, dict):
        return
    path = case.operation.path
    field = "received_at" if path == "/referrals" else None
    if path.startswith("/cases/{referral_id}/events/"):
        field = EVENT_TYPES[path.rsplit("/", 1)[1]].time_field
    if field is not None and field in case.body:
        case.body[field] = (datetime.now(UTC) - timedelta(seconds=30)).isoformat()
    if path == "/referrals" and "referral_id" in case.body:
        # A new case each time: a scenario replayed must not meet the case it started before.
        case.body["referral_id"] = f"ST-{uuid.uuid4().hex[:16]}"
    if path == "/referrals":
        # A child when referred, and no authority the directory does not list (there is none):
        # drawn at random, nearly every one would be refused, as it should be.
        if "date_of_birth" in case.body:
            case.body["date_of_birth"] = (
                (datetime.now(UTC) - timedelta(days=3650)).date().isoformat()
            )
        case.body.pop("placing_authority", None)
        case.body.pop("host_authority", None)


@pytest.fixture(scope="module")
def stateful_app(api_settings: Settings) -> FastAPI:  # noqa: F811  # the imported fixture
    return create_app(api_settings)


def test_sequences_of_calls_keep_the_contract(stateful_app: FastAPI, users: Users) -> None:  # noqa: F811
    schema = schemathesis.openapi.from_asgi("/openapi.json", stateful_app)
    # The document's own links only (api/links.py): guessing links from the schemas reads
    # the referral id of a case's earlier referrals as a source of case ids too, and then
    # nearly every event goes to a case that does not exist.
    schema.config.phases.stateful.inference = InferenceConfig(algorithms=["location-headers"])
    base = schema.as_state_machine()
    intake, head = users.intake.headers, users.head_of_service.headers
    answered: list[tuple[str, int]] = []

    class Calls(base):  # type: ignore[misc, valid-type]
        def before_call(self, case: OpenApiCase) -> None:
            now_told(case)

        def get_call_kwargs(self, case: OpenApiCase) -> dict[str, Any]:
            return {"headers": intake if case.operation.path == "/referrals" else head}

        def validate_response(self, response: Any, case: OpenApiCase, **kwargs: Any) -> None:
            answered.append((case.operation.label, response.status_code))
            case.validate_response(
                response,
                checks=[*CHECKS, ensure_resource_availability, use_after_free],
                headers=kwargs.get("headers"),
                recorder=self.recorder,
            )

    assert issubclass(Calls, RecordingStateMachine)  # keeps each scenario for the checks
    Calls.run(
        settings=hypothesis.settings(
            max_examples=SCENARIOS,
            stateful_step_count=STEPS_PER_SCENARIO,
            deadline=None,
            derandomize=True,
            database=None,
            phases=[hypothesis.Phase.generate],
            suppress_health_check=list(hypothesis.HealthCheck),
        )
    )
    # The sequences went past intake: cases were opened and events recorded on them.
    assert answered.count(("POST /referrals", 201)) >= SCENARIOS // 4, answered
    recorded = [label for label, status in answered if "/events/" in label and status == 200]
    assert len(recorded) >= SCENARIOS // 4, answered
