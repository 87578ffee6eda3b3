"""The OpenAPI document links a started case to every operation on it (api/links.py), so a
client or a generated test chains `POST /referrals` to `/cases/{referral_id}/...` by the
answer's `referral_id`, not by guessing."""

from __future__ import annotations

from api.app import create_app
from domain.events import EVENT_TYPES
from edge.settings import Settings


def test_a_started_case_links_to_its_status_and_every_event(api_settings: Settings) -> None:
    schema = create_app(api_settings).openapi()
    links = schema["paths"]["/referrals"]["post"]["responses"]["201"]["links"]
    operations = {
        operation["operationId"]
        for path, methods in schema["paths"].items()
        if path.startswith("/cases/{referral_id}")
        for operation in methods.values()
    }
    assert set(links) == operations
    assert {f"record_{name}" for name in EVENT_TYPES} <= operations
    assert all(
        link["parameters"] == {"referral_id": "$response.body#/referral_id"}
        for link in links.values()
    )
