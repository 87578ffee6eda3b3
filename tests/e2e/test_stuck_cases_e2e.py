"""`cse case` on a case that cannot answer (issue 15, item 2): two lines, what is wrong and
what the operator should do, exit 3 (Temporal or the case did not answer), never a
traceback; exit 1 stays "no case has that referral id". Real dev server, the console script
run as a subprocess, the cases made by tests/e2e/stuck_cases.py."""

from __future__ import annotations

import asyncio
import subprocess
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from edge.codec import new_key_item
from tests.e2e.conftest import (
    BIN,
    CLI_TIMEOUT,
    E2E_CODEC_KEYS,
    REPO,
    RunningWorker,
    TemporalCli,
    clean_env,
    iso,
    seconds,
)
from tests.e2e.stuck_cases import (
    case_nobody_serves,
    case_sealed_with_a_lost_key,
    case_under_changed_code,
    closed_case_whose_key_was_dropped,
)

pytestmark = pytest.mark.e2e

TEAM = f"CLI-STUCK-{uuid.uuid4().hex[:6]}"
EXIT_UNAVAILABLE = 3


async def cse_case(address: str, referral_id: str) -> subprocess.CompletedProcess[str]:
    """`cse case REFERRAL_ID` with the service's key, while this loop keeps the workers on."""
    env = clean_env(
        TEMPORAL_ADDRESS=address,
        CSE_CODEC_KEYS=E2E_CODEC_KEYS,
        CSE_POLICY_DIR=str(REPO / "policies"),
    )
    return await cse_case_with(env, referral_id)


async def cse_case_with(env: dict[str, str], referral_id: str) -> subprocess.CompletedProcess[str]:
    """`cse case REFERRAL_ID` with `env`, from a folder that is not the repository."""
    return await asyncio.to_thread(
        subprocess.run,
        [str(BIN / "cse"), "case", referral_id],
        capture_output=True,
        text=True,
        timeout=CLI_TIMEOUT,
        env=env,
        cwd="/tmp",
        check=False,
    )


def said_in_two_lines(proc: subprocess.CompletedProcess[str], *words: str) -> list[str]:
    lines = proc.stderr.strip().splitlines()
    assert proc.returncode == EXIT_UNAVAILABLE, proc.stderr
    assert "Traceback" not in proc.stderr + proc.stdout
    assert len(lines) == 2, proc.stderr
    assert lines[1].startswith("what to do: ")
    for word in words:
        assert word in proc.stderr, proc.stderr
    return lines


async def test_cse_case_says_the_code_changed_under_the_case(temporal_server: str) -> None:
    async with case_under_changed_code(temporal_server, E2E_CODEC_KEYS, TEAM) as case:
        proc = await cse_case(temporal_server, case.referral_id)

    said_in_two_lines(proc, "(nondeterminism)", "restore them", "reset the case")


async def test_cse_case_names_the_key_a_closed_case_was_sealed_with(temporal_server: str) -> None:
    dropped = new_key_item("dropped-cli-1")
    async with closed_case_whose_key_was_dropped(
        temporal_server, E2E_CODEC_KEYS, dropped, TEAM
    ) as case:
        proc = await cse_case(temporal_server, case.referral_id)

    said_in_two_lines(
        proc, "(payload_key_missing)", "give key 'dropped-cli-1' back to CSE_CODEC_KEYS"
    )


async def test_cse_case_names_the_key_a_running_case_was_sealed_with(temporal_server: str) -> None:
    lost = new_key_item("lost-cli-1")
    async with case_sealed_with_a_lost_key(temporal_server, E2E_CODEC_KEYS, lost, TEAM) as case:
        proc = await cse_case(temporal_server, case.referral_id)

    said_in_two_lines(proc, "(payload_key_missing)", "give key 'lost-cli-1' back")


async def test_cse_case_says_to_start_a_worker_when_none_polls(temporal_server: str) -> None:
    case = await case_nobody_serves(temporal_server, E2E_CODEC_KEYS, TEAM)

    proc = await cse_case(temporal_server, case.referral_id)

    said_in_two_lines(proc, "(no_worker)", f"CSE_TASK_QUEUE={case.task_queue}")


async def test_an_unknown_referral_id_is_still_exit_1(temporal_server: str) -> None:
    proc = await cse_case(temporal_server, f"NOBODY-{uuid.uuid4().hex[:8]}")

    assert proc.returncode == 1, proc.stderr
    assert proc.stderr.strip().startswith("no case has referral id NOBODY-")


async def test_cse_case_says_a_terminated_case_is_not_running_and_how_to_reset_it(
    service_worker: RunningWorker, temporal: TemporalCli
) -> None:
    """Terminated from the Web UI or the CLI: the case is not shown alive at its last stage."""
    referral: dict[str, Any] = {
        "referral_id": f"CLI-ENDED-{uuid.uuid4().hex[:8]}",
        "received_at": iso(seconds(datetime.now(UTC) - timedelta(hours=1))),
        "child_ref": "PERSON-CLI-ENDED",
        "team": TEAM,
        "referrer_agency": "school",
        "concerns": ["sexual_health"],
        "significant_harm_suspected": True,
        "summary": "cli terminated case",
    }
    workflow_id = f"referral-{referral['referral_id']}"
    temporal.start(service_worker.task_queue, referral)
    temporal.wait_listed(f"CseTeam = '{TEAM}'", workflow_id)
    temporal(
        "workflow", "terminate", "--workflow-id", workflow_id, "--reason", "pressed by mistake"
    )
    env = clean_env(TEMPORAL_ADDRESS=service_worker.address, CSE_PLAINTEXT_PAYLOADS="true")
    proc = await cse_case_with(env, referral["referral_id"])
    said_in_two_lines(proc, "terminated", "temporal workflow reset", workflow_id)
