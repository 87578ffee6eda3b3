"""Sign in on first run (api/first_run.py, called by scripts/run.sh): a local users file with one
user per role, made once, mode 0600, digests only, on loopback only; and every token it prints
signs in to the real API (the app in-process against the sealed worker of tests/e2e)."""

from __future__ import annotations

import re
import stat
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from api.app import create_app
from api.auth import ApiRole, load_users_file
from api.first_run import (
    DEMO_TEAM,
    LOCAL_USERS,
    NotLoopback,
    SignIn,
    dashboard_url,
    ensure_users_file,
)
from edge.settings import Settings
from tests.e2e.conftest import REPO, RunningWorker, clean_env

LINE = re.compile(r"^(?P<role>[a-z_]+) (?P<user>\S+@example\.org) (?P<token>[A-Za-z0-9_-]{40,})$")


def first_run(path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "api.first_run", str(path)],
        cwd=REPO,
        env=clean_env(**env),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def sign_in_lines(output: str) -> dict[str, tuple[str, str]]:
    """role -> (user id, token), from the `<role> <user id> <token>` lines."""
    found = {}
    for line in output.splitlines():
        match = LINE.match(line)
        if match:
            found[match["role"]] = (match["user"], match["token"])
    return found


def test_the_file_is_made_once_private_with_digests_only(tmp_path: Path) -> None:
    path = tmp_path / "data" / "users.toml"
    made = ensure_users_file(path, "127.0.0.1")
    assert made is not None
    assert [s.user.role for s in made] == list(ApiRole)  # one user per role, each role once
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    text = path.read_text()
    for sign_in in made:
        assert sign_in.token not in text
    identities = load_users_file(path)
    for sign_in in made:
        identity = identities.identify(sign_in.token)
        assert (identity.user_id, identity.role) == (sign_in.user.user_id, sign_in.user.role)
    team_roles = {ApiRole.social_worker, ApiRole.team_manager}
    assert {s.user.team for s in made if s.user.role in team_roles} == {DEMO_TEAM}
    assert not list(path.parent.glob(".users.toml.*")), "no temporary file left behind"

    path.chmod(0o644)
    assert ensure_users_file(path, "localhost") is None  # kept: nothing new, nothing shown
    assert path.read_text() == text
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


@pytest.mark.parametrize("host", ["127.0.0.1", "127.3.4.5", "::1", "[::1]", "localhost"])
def test_loopback_hosts_get_a_file(tmp_path: Path, host: str) -> None:
    assert ensure_users_file(tmp_path / "users.toml", host) is not None


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "10.0.0.8", "192.0.2.1", "cse.example.org"])
def test_never_beyond_loopback(tmp_path: Path, host: str) -> None:
    path = tmp_path / "users.toml"
    with pytest.raises(NotLoopback):
        ensure_users_file(path, host)
    assert not path.exists()
    path.write_text("kept = true\n")
    with pytest.raises(NotLoopback):  # a file made earlier is not used beyond loopback either
        ensure_users_file(path, host)


def test_the_command_prints_each_role_once_then_where_the_file_is(tmp_path: Path) -> None:
    path = tmp_path / "users.toml"
    made = first_run(path, CSE_API_PORT="18123")
    assert made.returncode == 0, made.stderr
    assert dashboard_url("127.0.0.1", 18123) in made.stdout
    lines = sign_in_lines(made.stdout)
    assert set(lines) == {role.value for role in ApiRole}
    assert {user for user, _ in lines.values()} == {u.user_id for u in LOCAL_USERS}
    identities = load_users_file(path)
    for role, (user, token) in lines.items():
        assert identities.identify(token).user_id == user
        assert identities.identify(token).role == role

    again = first_run(path)
    assert again.returncode == 0, again.stderr
    assert not sign_in_lines(again.stdout), "tokens are shown only when the file is made"
    assert str(path) in again.stdout
    assert "python -m api.tokens" in again.stdout

    elsewhere = first_run(tmp_path / "other.toml", CSE_API_HOST="0.0.0.0")
    assert elsewhere.returncode == 3
    assert "CSE_USERS_FILE" in elsewhere.stderr
    assert not (tmp_path / "other.toml").exists()


# ---- every printed token signs in to the API ------------------------------------------------


@pytest.fixture(scope="module")
def first_run_users(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[SignIn]]:
    path = tmp_path_factory.mktemp("first-run") / "users.toml"
    made = ensure_users_file(path, "127.0.0.1")
    assert made is not None
    return path, made


@pytest.fixture(scope="module")
async def first_run_api(
    sealed_worker: RunningWorker, first_run_users: tuple[Path, list[SignIn]]
) -> AsyncIterator[httpx.AsyncClient]:
    path, _ = first_run_users
    settings = Settings(
        temporal_address=sealed_worker.address,
        task_queue=sealed_worker.task_queue,
        codec_keys=sealed_worker.codec_keys,
        users_file=path,
        policy_dir=REPO / "policies",
    )
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://api") as client:
            yield client


# intake only starts cases; the panel's chair and police contact read the agenda
NO_CASELOAD = {ApiRole.intake, ApiRole.mase_chair, ApiRole.police_spoc}


async def test_every_token_signs_in_to_the_api(
    first_run_api: httpx.AsyncClient, first_run_users: tuple[Path, list[SignIn]]
) -> None:
    _, made = first_run_users
    for sign_in in made:
        headers = {"Authorization": f"Bearer {sign_in.token}"}
        answer = await first_run_api.get("/cases", headers=headers)
        if sign_in.user.role in NO_CASELOAD:  # signed in, but they may not list cases
            assert answer.status_code == 403, answer.text
        else:
            assert answer.status_code == 200, f"{sign_in.user.role}: {answer.text}"
    stranger = {"Authorization": "Bearer not-a-token-the-file-knows"}
    assert (await first_run_api.get("/cases", headers=stranger)).status_code == 401
