"""starter.py and CSE_TEAMS (issue 19, item 5): a referral on a team that is not configured,
exactly, exits 2 naming `team` and listing the teams, before Temporal is asked; one on a
configured team starts its case on the real dev server."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import REPO, RunningWorker, TemporalCli, clean_env, free_ports, run_python

pytestmark = pytest.mark.e2e

TEAMS = "TEAM-A,TEAM-B"


def start(
    path: Path, address: str, task_queue: str = "cse-referrals"
) -> subprocess.CompletedProcess[str]:
    env = clean_env(
        TEMPORAL_ADDRESS=address,
        CSE_TASK_QUEUE=task_queue,
        CSE_POLICY_DIR=str(REPO / "policies"),
        CSE_TEAMS=TEAMS,
    )
    return run_python(str(REPO / "starter.py"), str(path), env=env, cwd=path.parent)


def written(folder: Path, referral: dict[str, Any]) -> Path:
    path = folder / "referral.json"
    path.write_text(json.dumps(referral), encoding="utf-8")
    return path


@pytest.mark.parametrize("team", ["TEAM-Z", "team-a", "TEAM\u2011A"])
def test_a_team_that_is_not_configured_is_refused_before_temporal_is_asked(
    make_referral: Callable[..., dict[str, Any]], tmp_path: Path, team: str
) -> None:
    (nobody,) = free_ports(1)  # no Temporal there: the refusal must not need one

    done = start(written(tmp_path, make_referral(team=team)), f"127.0.0.1:{nobody}")

    assert done.returncode == 2, done.stderr
    assert done.stdout == ""
    assert done.stderr.startswith("the referral was refused:\n  team: ")
    assert "give one of TEAM-A, TEAM-B" in done.stderr
    assert "did not answer" not in done.stderr


def test_a_configured_team_starts_its_case(
    make_referral: Callable[..., dict[str, Any]],
    service_worker: RunningWorker,
    temporal: TemporalCli,
    tmp_path: Path,
) -> None:
    referral = make_referral(team="TEAM-B")

    done = start(written(tmp_path, referral), service_worker.address, service_worker.task_queue)

    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"referral-{referral['referral_id']}"
    assert temporal.status(done.stdout.strip())["team"] == "TEAM-B"
