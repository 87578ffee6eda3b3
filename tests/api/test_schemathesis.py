"""Property-based checks of the whole OpenAPI contract (schemathesis, in-process ASGI) against
the real dev server and worker: no 5xx, every status code, content type and body as
documented. Bounded: a few examples per operation, no deadline."""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.result import Err
from schemathesis.schemas import APIOperation
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    ignored_auth,
    response_schema_conformance,
    status_code_conformance,
)

from api.app import create_app
from edge.settings import Settings
from tests.api.conftest import StartCase, Users

pytestmark = [pytest.mark.e2e, pytest.mark.slow]  # hundreds of generated requests

EXAMPLES_PER_OPERATION = 20
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    ignored_auth,
]


@pytest.fixture(scope="session")
def schemathesis_app(api_settings: Settings) -> FastAPI:
    """An app of its own: schemathesis runs its lifespan (and Temporal client) in its thread."""
    return create_app(api_settings)


@pytest.fixture(scope="session")
def api_schema(schemathesis_app: FastAPI) -> schemathesis.BaseSchema:
    return schemathesis.openapi.from_asgi("/openapi.json", schemathesis_app)


@pytest.fixture
async def open_case(start_case: StartCase) -> str:
    """A real open case, so event routes are also tried against a case that exists."""
    referral = await start_case(significant_harm_suspected=True)
    return str(referral["referral_id"])


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_the_api_keeps_its_contract(
    api_schema: schemathesis.BaseSchema, users: Users, mode: GenerationMode, open_case: str
) -> None:
    failures = []
    for found in api_schema.get_all_operations():
        if isinstance(found, Err):
            raise found.err()
        operation = found.ok()
        user = users.intake if operation.path == "/referrals" else users.head_of_service
        tries: list[dict[str, str] | None] = [None]
        if "{referral_id}" in operation.path and mode is GenerationMode.POSITIVE:
            tries.append({"referral_id": open_case})
        for path_parameters in tries:
            try:
                exercise(operation, mode, user.headers, path_parameters)
            except (Exception, BaseExceptionGroup) as err:  # try all; report every failure
                failures.append(f"{operation.label} {path_parameters or ''}: {err}")
    assert not failures, "\n\n".join(failures)


def exercise(
    operation: APIOperation[Any, Any, Any, Any],
    mode: GenerationMode,
    headers: dict[str, str],
    path_parameters: dict[str, str] | None,
) -> None:
    strategy = operation.as_strategy(generation_mode=mode, path_parameters=path_parameters)

    @given(case=strategy)
    @settings(
        max_examples=EXAMPLES_PER_OPERATION,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def keeps_its_contract(case: schemathesis.Case[Any]) -> None:
        case.call_and_validate(headers=headers, checks=CHECKS)

    try:
        keeps_its_contract()
    except Unsatisfiable:  # an operation with no input (GET /health) has no invalid input
        if mode is not GenerationMode.NEGATIVE:
            raise
