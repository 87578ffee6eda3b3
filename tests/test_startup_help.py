"""`--help` on every entry point prints its usage and exits 0, starting nothing: not the
worker, not the API, not an intake, not a command (issue 15, item 4)."""

from __future__ import annotations

import subprocess

import pytest

from tests.e2e.conftest import BIN, PYTHON, REPO, clean_env

pytestmark = pytest.mark.slow  # runs each entry point as a process

ENTRY_POINTS = {
    "worker": [str(PYTHON), "worker.py"],
    "api": [str(PYTHON), "-m", "api"],
    "intake": [str(PYTHON), "starter.py"],
    "cli": [str(PYTHON), "-m", "cli"],
    "cse": [str(BIN / "cse")],
    "cases": [str(BIN / "cases")],
    "case": [str(BIN / "case")],
    "forecast": [str(BIN / "forecast")],
}


def nothing_configured() -> dict[str, str]:
    """An environment in which a started service would fail at once: no payload key, no
    plaintext, and a Temporal that is not there."""
    env = clean_env(TEMPORAL_ADDRESS="127.0.0.1:1")
    env.pop("CSE_PLAINTEXT_PAYLOADS")
    return env


def run(args: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        args,
        cwd=REPO,
        env=nothing_configured(),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.mark.parametrize("entry_point", ENTRY_POINTS.values(), ids=ENTRY_POINTS.keys())
@pytest.mark.parametrize("flag", ["--help", "-h"])
def test_help_prints_usage_and_where_settings_come_from(entry_point: list[str], flag: str) -> None:
    done = run([*entry_point, flag])

    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("usage: ")
    assert "CSE_ variables" in done.stdout
    assert 'README "Settings"' in done.stdout
    assert done.stderr == ""  # nothing started, so nothing logged or refused


def test_the_demo_prints_its_usage_without_seeding() -> None:
    done = run([str(BIN / "cse-demo"), "--help"])

    assert done.returncode == 0
    assert "cse-demo" in done.stderr
    assert "Temporal did not answer" in done.stderr  # its exit codes, not an attempt to connect
