"""`python -m api`: starts uvicorn from the settings, and refuses to start on a users file it
cannot trust, naming the problem."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from api.auth import StartupError, load_users_file, token_digest
from tests.api.conftest import Users
from tests.e2e.conftest import (
    PYTHON,
    REPO,
    RunningWorker,
    answers_health,
    clean_env,
    free_ports,
    process_group,
    run_python,
    wait_until,
)

GOOD_DIGEST = token_digest("a-token")


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "users.toml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("[users.a\nrole = 1", "not valid TOML"),
        ("", "users: Field required"),
        ("[users]\n", "users: Dictionary should have at least 1 item"),
        (
            '[users.sw]\nrole = "intake"\ntoken_sha256 = "abc123"\n',
            "users.sw.token_sha256: Value error, must be the token's SHA-256 digest: "
            "64 hexadecimal characters",
        ),
        (
            f'[users.sw]\nrole = "intake"\ntoken_sha256 = "{"g" * 64}"\n',
            "users.sw.token_sha256",
        ),
        (
            f'[users.sw]\nrole = "social_worker"\ntoken_sha256 = "{GOOD_DIGEST}"\n',
            "a social_worker must belong to a team",
        ),
        (
            f'[users.sw]\nrole = "wizard"\ntoken_sha256 = "{GOOD_DIGEST}"\n',
            "users.sw.role: Input should be",
        ),
        (
            f'[users.sw]\nrole = "intake"\ntoken = "a-token"\ntoken_sha256 = "{GOOD_DIGEST}"\n',
            "users.sw.token: Extra inputs are not permitted",
        ),
        (
            f'[users.a]\nrole = "intake"\ntoken_sha256 = "{GOOD_DIGEST}"\n'
            f'[users.b]\nrole = "analyst"\ntoken_sha256 = "{GOOD_DIGEST.upper()}"\n',
            "two users share a token_sha256",
        ),
    ],
)
def test_a_malformed_users_file_is_refused_naming_the_problem(
    tmp_path: Path, text: str, problem: str
) -> None:
    path = write(tmp_path, text)

    with pytest.raises(StartupError) as refused:
        load_users_file(path)

    assert str(path) in str(refused.value)
    assert problem in str(refused.value)


def test_a_missing_users_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(StartupError, match="No such file or directory"):
        load_users_file(tmp_path / "users.toml")


def test_the_example_users_file_loads_and_lets_nobody_in() -> None:
    users = load_users_file(REPO / "config" / "users.example.toml")

    with pytest.raises(Exception, match="not one the users file knows"):
        users.identify("example")


def test_python_m_api_exits_2_naming_a_bad_users_file(tmp_path: Path) -> None:
    path = write(tmp_path, '[users.sw]\nrole = "intake"\ntoken_sha256 = "short"\n')

    done = run_python("-m", "api", env=clean_env(CSE_USERS_FILE=str(path)))

    assert done.returncode == 2
    assert f"api not started: users file {path}: users.sw.token_sha256" in done.stderr


@pytest.fixture
def served_api(sealed_worker: RunningWorker, users_file: Path, tmp_path: Path) -> Iterator[str]:
    (port,) = free_ports(1)
    log = tmp_path / "api.log"
    env = clean_env(
        TEMPORAL_ADDRESS=sealed_worker.address,
        CSE_TASK_QUEUE=sealed_worker.task_queue,
        **sealed_worker.payloads,
        CSE_USERS_FILE=str(users_file),
        CSE_API_PORT=str(port),
    )
    url = f"http://127.0.0.1:{port}"
    with process_group([str(PYTHON), "-m", "api"], env, log) as proc:
        wait_until(
            "python -m api to answer /health", lambda: answers_health(url, proc, log), timeout=30
        )
        yield url


@pytest.mark.e2e
def test_python_m_api_serves_on_the_configured_port(served_api: str, users: Users) -> None:
    cases = httpx.get(f"{served_api}/cases", headers=users.head_of_service.headers, timeout=30)
    refused = httpx.get(f"{served_api}/cases", timeout=30)

    assert cases.status_code == 200
    assert refused.status_code == 401
    assert httpx.get(f"{served_api}/docs", timeout=30).status_code == 200
