"""A worker or API beyond loopback refuses to start without CSE_TEAMS and CSE_INDEX_KEYS
(issue 19, items 1 and 5); on loopback both may be unset, and the start-up log says once that
cases will not be linked. Run as people run them: `python worker.py`, `python -m api`."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from edge.codec import new_key_item
from tests.e2e.conftest import (
    PYTHON,
    REPO,
    clean_env,
    free_ports,
    process_group,
    run_python,
    tail,
    wait_until,
)

pytestmark = pytest.mark.slow  # runs the entry points as processes

ELSEWHERE = "192.0.2.10:7233"  # TEST-NET-1: never reached, the refusal comes first
UNLINKED = "cases will not be linked"


def worker_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    return clean_env(
        CSE_OUTBOX_FILE=str(tmp_path / "outbox.jsonl"),
        CSE_POLICY_LEDGER=str(tmp_path / "policy-ledger.json"),
        **extra,
    )


def test_a_worker_beyond_loopback_refuses_to_start_without_teams_or_index_keys(
    tmp_path: Path,
) -> None:
    done = run_python("worker.py", env=worker_env(tmp_path, TEMPORAL_ADDRESS=ELSEWHERE))

    assert done.returncode == 2
    assert done.stderr.startswith(
        "worker not started: CSE_TEAMS and CSE_INDEX_KEYS must be set beyond this machine "
        "(TEMPORAL_ADDRESS 192.0.2.10)"
    )
    assert done.stderr.count("\n") == 1


def test_a_worker_beyond_loopback_names_what_is_still_missing(tmp_path: Path) -> None:
    env = worker_env(tmp_path, TEMPORAL_ADDRESS=ELSEWHERE, CSE_TEAMS="TEAM-A,TEAM-B")

    done = run_python("worker.py", env=env)

    assert done.returncode == 2
    assert done.stderr.startswith("worker not started: CSE_INDEX_KEYS must be set beyond")


def test_an_api_beyond_loopback_refuses_to_start_without_teams_or_index_keys() -> None:
    (port,) = free_ports(1)
    env = clean_env(
        CSE_API_HOST="0.0.0.0",
        CSE_API_PORT=str(port),
        CSE_POLICY_DIR=str(REPO / "policies"),
        CSE_SESSION_KEYS=new_key_item("session-1"),
        CSE_INDEX_KEYS=new_key_item("index-1"),
    )

    done = run_python("-m", "api", env=env)

    assert done.returncode == 2
    assert done.stderr.startswith(
        "api not started: CSE_TEAMS must be set beyond this machine (CSE_API_HOST 0.0.0.0)"
    )


def unlinked_lines(log: str) -> list[dict[str, str]]:
    lines = [json.loads(line) for line in log.splitlines() if line.startswith("{")]
    return [line for line in lines if UNLINKED in line.get("event", "")]


def test_a_worker_on_loopback_without_index_keys_says_so_once(tmp_path: Path) -> None:
    (nobody,) = free_ports(1)  # it says so at start-up, before it asks Temporal

    done = run_python("worker.py", env=worker_env(tmp_path, TEMPORAL_ADDRESS=f"127.0.0.1:{nobody}"))

    assert "did not answer" in done.stderr
    [line] = unlinked_lines(done.stdout)
    assert line["level"] == "warning"


def test_a_worker_with_index_keys_says_nothing_of_them(tmp_path: Path) -> None:
    (nobody,) = free_ports(1)
    key = new_key_item("index-1")
    env = worker_env(tmp_path, TEMPORAL_ADDRESS=f"127.0.0.1:{nobody}", CSE_INDEX_KEYS=key)

    done = run_python("worker.py", env=env)

    assert "did not answer" in done.stderr
    assert unlinked_lines(done.stdout) == []
    assert key.partition(":")[2] not in done.stdout + done.stderr


def test_an_api_on_loopback_without_index_keys_starts_and_says_so_once(tmp_path: Path) -> None:
    port, nobody = free_ports(2)
    env = clean_env(
        TEMPORAL_ADDRESS=f"127.0.0.1:{nobody}",
        CSE_API_PORT=str(port),
        CSE_POLICY_DIR=str(REPO / "policies"),
    )
    log = tmp_path / "api.log"
    with process_group([str(PYTHON), "-m", "api"], env, log):
        wait_until("the API to answer", lambda: answers(port), timeout=40)
        [line] = unlinked_lines(log.read_text(encoding="utf-8"))
        assert line["level"] == "warning", tail(log)


def answers(port: int) -> bool:
    try:
        httpx.get(f"http://127.0.0.1:{port}/health", timeout=2)
    except httpx.TransportError:
        return False
    return True
