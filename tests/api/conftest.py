"""API test fixtures: the app in-process (httpx over ASGI) against a REAL Temporal dev server
and the project's own worker.py, both from tests/e2e/conftest.py.

A users file with fresh random tokens is written per session; only their digests are in it.
Teams are unique to the session, so listings filtered by team see only this session's cases.
"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest
from fastapi import FastAPI
from temporalio.client import Client

from api.app import create_app
from api.auth import token_digest
from contract.workflows import MASE_PANEL_WORKFLOW, PanelOutcome
from domain.oversight import PanelRun
from edge.panel_runs import panel_runs_query
from edge.settings import Settings
from tests import polling
from tests.e2e.conftest import (  # noqa: F401  # fixtures, registered by being imported here
    REPO,
    RunningWorker,
    iso,
    sealed_worker,
    seconds,
    temporal_server,
)

VISIBILITY_TIMEOUT = 20.0
T = TypeVar("T")

TEAM_A = f"API-A-{uuid.uuid4().hex[:6]}"
TEAM_B = f"API-B-{uuid.uuid4().hex[:6]}"


@dataclass(frozen=True)
class User:
    user_id: str
    role: str
    team: str | None
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


@dataclass(frozen=True)
class Users:
    intake: User
    social_worker_a: User
    social_worker_b: User
    manager_a: User
    head_of_service: User
    analyst: User
    specialist_lead: User
    mase_chair: User
    police_spoc: User

    def all(self) -> list[User]:
        return [getattr(self, name) for name in self.__dataclass_fields__]


def _user(user_id: str, role: str, team: str | None = None) -> User:
    return User(user_id, role, team, secrets.token_urlsafe(24))


@pytest.fixture(scope="session")
def users() -> Users:
    return Users(
        intake=_user("mash-intake@example.org", "intake"),
        social_worker_a=_user("sw-a@example.org", "social_worker", TEAM_A),
        social_worker_b=_user("sw-b@example.org", "social_worker", TEAM_B),
        manager_a=_user("tm-a@example.org", "team_manager", TEAM_A),
        head_of_service=_user("hos@example.org", "head_of_service"),
        analyst=_user("analyst@example.org", "analyst"),
        specialist_lead=_user("lead@example.org", "specialist_safeguarding_lead"),
        mase_chair=_user("mase-chair@example.org", "mase_chair"),
        police_spoc=_user("police-spoc@example.org", "police_spoc"),
    )


def users_toml(users: list[User]) -> str:
    blocks = []
    for user in users:
        lines = [f'[users."{user.user_id}"]', f'role = "{user.role}"']
        if user.team:
            lines.append(f'team = "{user.team}"')
        lines.append(f'token_sha256 = "{token_digest(user.token)}"')
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks) + "\n"


@pytest.fixture(scope="session")
def users_file(users: Users, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("api") / "users.toml"
    path.write_text(users_toml(users.all()), encoding="utf-8")
    return path


@pytest.fixture(scope="session")
def api_settings(sealed_worker: RunningWorker, users_file: Path) -> Settings:  # noqa: F811  # the imported fixture
    return Settings(
        temporal_address=sealed_worker.address,
        task_queue=sealed_worker.task_queue,
        codec_keys=sealed_worker.codec_keys,
        users_file=users_file,
        policy_dir=REPO / "policies",
    )


@pytest.fixture(scope="session")
async def app(api_settings: Settings) -> AsyncIterator[FastAPI]:
    application = create_app(api_settings)
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture(scope="session")
async def api(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://api", timeout=60) as client:
        yield client


# ---- referrals and events, with times relative to now ------------------------------------


def referral(
    team: str = TEAM_A, received_ago: timedelta = timedelta(minutes=30), **extra: Any
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "referral_id": f"API-{uuid.uuid4().hex[:12]}",
        "received_at": iso(seconds(datetime.now(UTC) - received_ago)),
        "child_ref": f"PERSON-{uuid.uuid4().hex[:8]}",
        "team": team,
        "referrer_agency": "school",
        "concerns": ["sexual_health"],
        "significant_harm_suspected": False,
        "summary": "api test referral",
    }
    body.update(extra)
    return body


async def start_raw(client: Client, task_queue: str) -> dict[str, Any]:
    """Start a new referral's case with this client, not through the API; the referral sent."""
    case = referral()
    await client.start_workflow(
        "ReferralWorkflow", case, id=f"referral-{case['referral_id']}", task_queue=task_queue
    )
    return case


def just_now() -> str:
    return iso(seconds(datetime.now(UTC) - timedelta(seconds=5)))


StartCase = Callable[..., Awaitable[dict[str, Any]]]


@pytest.fixture
def start_case(api: httpx.AsyncClient, users: Users) -> StartCase:
    """Start a case through the API as intake; the referral sent (with its child_ref)."""

    async def start(**overrides: Any) -> dict[str, Any]:
        body = referral(**overrides)
        answer = await api.post("/referrals", json=body, headers=users.intake.headers)
        assert answer.status_code == 201, answer.text
        return body

    return start


async def eventually(
    what: str, probe: Callable[[], Awaitable[T | None]], within: float = VISIBILITY_TIMEOUT
) -> T:
    """`tests.polling.eventually`, given the time visibility takes."""
    return await polling.eventually(what, probe, within, interval=0.3)


async def run_the_panel(app: FastAPI, name: str) -> PanelOutcome:
    """A panel run started by hand on the worker's task queue (workflow id `mase-<name>-...`),
    finished and visible."""
    client: Client = app.state.client
    task_queue = app.state.settings.task_queue
    outcome: PanelOutcome = await client.execute_workflow(
        MASE_PANEL_WORKFLOW,
        PanelRun(panel_name="MASE"),
        id=f"mase-{name}-{uuid.uuid4().hex[:8]}",
        task_queue=task_queue,
        result_type=PanelOutcome,
    )

    async def listed() -> bool:
        query = panel_runs_query(task_queue, outcome.run_date)
        return bool([run async for run in client.list_workflows(query)])

    await eventually("the panel run to be visible", listed)
    return outcome
