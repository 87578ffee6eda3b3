"""Across borough lines (issue 19, item 4): with a directory listing other local authorities,
POST /referrals and the dashboard's intake form take a `placing_authority` or
`host_authority` only among them (or our own code); any other is refused with 422 naming the
field and listing the known codes, and no case is started."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from api.app import create_app
from edge.settings import Settings
from tests.api.conftest import Users, referral
from tests.api.test_intake_teams import case_exists, client_of, signed_in

pytestmark = pytest.mark.e2e

OURS, ONE, TWO = "E99000099", "E99000001", "E99000002"  # invented codes
DIRECTORY = f"""
authority = "{OURS}"
[roles]
team_manager = ["cse-managers@example.org"]
[authorities."{ONE}"]
name = "Example Borough One"
contact = ["cse-contact@la-one.example.org"]
[authorities."{TWO}"]
name = "Example Borough Two"
contact = ["cse-contact@la-two.example.org"]
"""


@pytest.fixture(scope="module")
def directory_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("authorities") / "directory.toml"
    path.write_text(DIRECTORY, encoding="utf-8")
    return path


@pytest.fixture(scope="module")
async def authorities_api(
    api_settings: Settings, directory_file: Path
) -> AsyncIterator[httpx.AsyncClient]:
    """The API of a service whose directory lists two other authorities and our own."""
    path = directory_file
    app = create_app(api_settings.model_copy(update={"directory_file": path}))
    async with app.router.lifespan_context(app), client_of(app) as client:
        yield client


@pytest.mark.parametrize("field", ["placing_authority", "host_authority"])
async def test_an_unknown_authority_is_refused_naming_the_field_and_the_known_ones(
    authorities_api: httpx.AsyncClient, users: Users, field: str
) -> None:
    body = referral(looked_after=True)
    body[field] = "E99000777"

    answer = await authorities_api.post("/referrals", json=body, headers=users.intake.headers)

    assert answer.status_code == 422, answer.text
    [problem] = answer.json()["errors"]
    assert problem["field"] == f"body.{field}"
    assert f"give one of {ONE}, {TWO}, {OURS}" in problem["message"]
    assert not await case_exists(authorities_api, users, body["referral_id"])


async def test_a_known_authority_starts_the_case_and_its_status_shows_them(
    authorities_api: httpx.AsyncClient, users: Users
) -> None:
    body = referral(looked_after=True, placing_authority=ONE, host_authority=OURS)

    answer = await authorities_api.post("/referrals", json=body, headers=users.intake.headers)

    assert answer.status_code == 201, answer.text
    status = answer.json()
    assert (status["looked_after"], status["placing_authority"], status["host_authority"]) == (
        True,
        ONE,
        OURS,
    )


async def test_the_intake_form_offers_the_authorities_by_code_and_name(
    authorities_api: httpx.AsyncClient, users: Users
) -> None:
    page = await signed_in(authorities_api, users.intake)
    for field in ("placing_authority", "host_authority"):
        found = re.search(
            rf'<select id="in-{field}" name="{field}"[^>]*>(.*?)</select>', page, re.S
        )
        assert found, f"the intake form offers no choice of {field}"
        assert re.findall(r'<option value="([^"]*)"', found.group(1)) == ["", ONE, TWO, OURS]
        assert "E99000001: Example Borough One" in found.group(1)
