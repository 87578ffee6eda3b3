"""Children's data is sealed by default: every service refuses to start without a key unless
plaintext is asked for on purpose, and then says so in its start-up log; a malformed key is
refused naming its place in CSE_CODEC_KEYS, never echoing a key."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from edge.codec import new_key_item
from tests.e2e.conftest import RunningWorker, run_python, worker_process

NO_KEY = "CSE_CODEC_KEYS is not set"


def without_payload_settings(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TEMPORAL_", "CSE_"))}
    return env | extra


@pytest.mark.parametrize(
    "args",
    [["worker.py"], ["-m", "api"], ["starter.py", "referral.json"], ["-m", "cli", "cases"]],
    ids=["worker", "api", "intake", "cli"],
)
def test_no_service_starts_without_a_key(args: list[str], tmp_path: Path) -> None:
    referral = {
        "referral_id": "KEYS-1",
        "received_at": "2026-11-27T10:00:00+00:00",
        "child_ref": "PERSON-KEYS",
        "team": "RAI-2",
        "referrer_agency": "school",
        "concerns": ["sexual_health"],
        "significant_harm_suspected": False,
        "summary": "",
    }
    (tmp_path / "referral.json").write_text(json.dumps(referral))
    args = [a if a != "referral.json" else str(tmp_path / a) for a in args]
    done = run_python(*args, env=without_payload_settings(TEMPORAL_ADDRESS="127.0.0.1:1"))
    assert done.returncode == 2, done.stdout + done.stderr
    assert NO_KEY in done.stderr


def test_a_malformed_key_is_refused_by_its_place_and_never_echoed() -> None:
    secret = "c2hvcnQta2V5"  # base64 of 9 bytes, not 32
    env = without_payload_settings(CSE_CODEC_KEYS=f"{new_key_item('k1')},k2:{secret}")
    done = run_python("worker.py", env=env)
    assert done.returncode == 2
    assert "CSE_CODEC_KEYS item 2 (k2): the key must be 32 bytes, not 9" in done.stderr
    assert secret not in done.stdout + done.stderr


def test_plaintext_on_purpose_is_said_in_the_start_up_log(
    service_worker: RunningWorker, tmp_path: Path
) -> None:
    """The CLI-driven worker of these tests runs with CSE_PLAINTEXT_PAYLOADS=true."""
    assert service_worker.payloads == {"CSE_PLAINTEXT_PAYLOADS": "true"}
    assert "payloads in PLAINTEXT" in service_worker.log.read_text()


def test_a_sealed_worker_says_nothing_of_plaintext(tmp_path: Path, temporal_server: str) -> None:
    env = without_payload_settings(
        TEMPORAL_ADDRESS=temporal_server,
        CSE_CODEC_KEYS=new_key_item("k1"),
        CSE_TASK_QUEUE=f"keys-{tmp_path.name}",
        CSE_OUTBOX_FILE=str(tmp_path / "outbox.jsonl"),
        CSE_PANEL_SCHEDULE_ID=f"panel-keys-{tmp_path.name}",
    )
    log = tmp_path / "worker.log"
    with worker_process(env, log):
        pass
    assert "PLAINTEXT" not in log.read_text()
