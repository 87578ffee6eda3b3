"""The demo caseload (cli/demo.py) seeded into a running service: the sealed worker.py of
tests/e2e on a real dev server, read back through the API app as a head of service and an
analyst. Seeding twice changes nothing; a service beyond loopback, or one with a directory of
real addresses, is refused before anything is sent."""

from __future__ import annotations

import subprocess
import sys
from collections import Counter

import httpx
import pytest

from cli.demo import PREFIX, STORIES, DemoRefused, demo
from edge.settings import Settings
from tests.api.conftest import Users
from tests.e2e.conftest import REPO, RunningWorker, clean_env

pytestmark = pytest.mark.slow  # seeds the demo caseload and runs the panel on the dev server


def demo_settings(worker: RunningWorker) -> Settings:
    """The settings of the service the worker fixture runs (its queue, key and schedule id)."""
    return Settings(
        temporal_address=worker.address,
        task_queue=worker.task_queue,
        codec_keys=worker.codec_keys,
        panel_schedule_id=f"panel-{worker.task_queue}",
        policy_dir=REPO / "policies",
    )


async def demo_cases_listed(api: httpx.AsyncClient, users: Users) -> list[dict[str, object]]:
    answer = await api.get(
        "/cases", params={"page_size": 500}, headers=users.head_of_service.headers
    )
    assert answer.status_code == 200, answer.text
    cases: list[dict[str, object]] = answer.json()["cases"]
    return [c for c in cases if str(c["referral_id"]).startswith(PREFIX)]


async def test_the_demo_caseload_is_seeded_once_and_the_panel_runs(
    sealed_worker: RunningWorker, api: httpx.AsyncClient, users: Users
) -> None:
    settings = demo_settings(sealed_worker)
    said: list[str] = []
    assert await demo(settings, said.append) == 0, "\n".join(said)
    assert said[0].startswith(f"Demo caseload: {len(STORIES)} cases seeded, 0 already there")
    assert "REFUSED" not in "\n".join(said)
    assert any(line.startswith("MASE panel run ") for line in said), said
    assert any("/reports/" in line and "oversight.html" in line for line in said), said
    # The documents are kept in the panel run (no disk holds them): its links open on the API.
    link = next(word for line in said for word in line.split() if "/reports/" in word)
    for name in ("oversight.html", "agenda.html", "oversight.json"):
        document = link[link.index("/reports/") :].rsplit("/", 1)[0] + f"/{name}"
        answer = await api.get(document, headers=users.head_of_service.headers)
        assert answer.status_code == 200, (document, answer.text)

    listed = await demo_cases_listed(api, users)
    assert len(listed) >= 30
    stages = Counter(str(c["stage"]) for c in listed)
    assert len(stages) >= 5, stages
    assert stages == Counter(s.stage.value for s in STORIES)
    assert sum(bool(c["overdue"]) for c in listed) == sum(s.overdue for s in STORIES)
    assert {c["team"] for c in listed} == {"DEMO-NORTH", "DEMO-SOUTH"}
    overdue = await api.get(
        "/cases", params={"overdue": "true", "page_size": 500}, headers=users.analyst.headers
    )
    assert overdue.status_code == 200
    assert len(overdue.json()["cases"]) >= 5

    again: list[str] = []
    assert await demo(settings, again.append) == 0, "\n".join(again)
    assert again[0].startswith(f"Demo caseload: 0 cases seeded, {len(STORIES)} already there")
    assert await demo_cases_listed(api, users) == listed  # nothing moved, nothing added


@pytest.mark.parametrize(
    "setting",
    [
        {"temporal_address": "192.0.2.10:7233"},
        {"temporal_address": "cse-temporal.example.org:7233"},
        {"api_host": "0.0.0.0"},
        {"public_url": "https://cse.example.org"},
        {"directory_file": "config/directory.example.toml"},
    ],
)
async def test_a_service_beyond_loopback_is_refused(setting: dict[str, str]) -> None:
    settings = Settings.model_validate({"plaintext_payloads": True, **setting})
    said: list[str] = []
    with pytest.raises(DemoRefused) as refused:
        await demo(settings, said.append)
    assert refused.value.exit_code == 2
    assert "not this machine" in str(refused.value) or "real people" in str(refused.value)
    assert not said


def test_the_command_refuses_a_remote_temporal_with_exit_2() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "cli.demo"],
        cwd=REPO,
        env=clean_env(TEMPORAL_ADDRESS="192.0.2.10:7233"),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "TEMPORAL_ADDRESS points at 192.0.2.10, not this machine" in proc.stderr
    assert not proc.stdout
