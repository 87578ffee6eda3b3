"""Every bad setting stops every entry point with one line naming it (issue 15, item 4): a
value of the wrong kind, a log level that is not one, and a CSE_ name nothing reads (with the
nearest one that is). CSE_ names read outside edge/settings.py stay accepted."""

from __future__ import annotations

import os
import re
import socket
import subprocess
from pathlib import Path

import pytest

from edge.settings import (
    LOG_LEVELS,
    RUN_SCRIPT_NAMES,
    SettingsRefused,
    known_names,
    read_settings,
)
from tests.e2e.conftest import REPO, clean_env, run_python

pytestmark = pytest.mark.slow  # runs each entry point as a process


def refusal(monkeypatch: pytest.MonkeyPatch, **env: str) -> str:
    for name in [n for n in os.environ if n.startswith("CSE_")]:
        monkeypatch.delenv(name)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(SettingsRefused) as refused:
        read_settings()
    return str(refused.value)


def test_a_misspelt_setting_is_refused_with_the_nearest_name(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    problem = refusal(monkeypatch, CSE_POLICYDIR="policies")

    assert problem == "CSE_POLICYDIR is not a setting: did you mean CSE_POLICY_DIR?"


def test_a_name_like_no_setting_points_at_the_readme(monkeypatch: pytest.MonkeyPatch) -> None:
    problem = refusal(monkeypatch, CSE_ZZZ="1")

    assert problem == 'CSE_ZZZ is not a setting: see README "Settings"'


def test_a_misspelt_secret_is_named_never_echoed(monkeypatch: pytest.MonkeyPatch) -> None:
    problem = refusal(monkeypatch, CSE_SMTP_PASWORD="hunter2-hunter2")

    assert "did you mean CSE_SMTP_PASSWORD?" in problem
    assert "hunter2" not in problem


def test_a_log_level_that_is_not_one_names_the_levels(monkeypatch: pytest.MonkeyPatch) -> None:
    problem = refusal(monkeypatch, CSE_LOG_LEVEL="verbose")

    assert problem.startswith("CSE_LOG_LEVEL 'verbose' is not a level")
    assert all(level in problem for level in LOG_LEVELS)


@pytest.mark.parametrize(
    ("name", "value", "problem"),
    [
        ("CSE_SMTP_PORT", "smtp", "CSE_SMTP_PORT: Input should be a valid integer"),
        ("CSE_API_PORT", "70000", "CSE_API_PORT: Input should be less than or equal to 65535"),
        ("CSE_PLAINTEXT_PAYLOADS", "maybe", "CSE_PLAINTEXT_PAYLOADS: Input should be a valid bool"),
        ("CSE_WORKER_WORKFLOW_TASK_POLLS", "1", "CSE_WORKER_WORKFLOW_TASK_POLLS: Input should be"),
        ("CSE_PUBLIC_URL", "cse.example.org", "CSE_PUBLIC_URL 'cse.example.org' is not a web"),
        ("CSE_CODEC_CORS_ORIGIN", "ui", "CSE_CODEC_CORS_ORIGIN 'ui' is not a web address"),
        ("CSE_PANEL_SCHEDULE", "monthly", "CSE_PANEL_SCHEDULE: "),
        ("CSE_OUTBOX_FILE", "", "CSE_OUTBOX_FILE is empty: give a value, or unset it"),
        ("CSE_DIRECTORY_FILE", " ", "CSE_DIRECTORY_FILE is empty: give a value, or unset it"),
        ("TEMPORAL_ADDRESS", "", "TEMPORAL_ADDRESS is empty: give a value, or unset it"),
        ("TEMPORAL_ADDRESS", "localhost", "TEMPORAL_ADDRESS 'localhost' is not host:port"),
    ],
)
def test_a_bad_value_is_refused_naming_its_variable(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str, problem: str
) -> None:
    refused = refusal(monkeypatch, **{"CSE_PLAINTEXT_PAYLOADS": "true", name: value})

    assert refused.startswith(problem)
    assert "\n" not in refused


def test_a_log_level_is_taken_in_any_case(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CSE_LOG_LEVEL", "debug")

    assert read_settings().log_level == "DEBUG"


def names_read_outside_settings() -> set[str]:
    """CSE_ variables the scripts, the compose file and the image read or set."""
    files = [*REPO.glob("scripts/*.sh"), REPO / "docker-compose.yml", REPO / "Dockerfile"]
    text = "\n".join(path.read_text(encoding="utf-8") for path in files if path.exists())
    return set(re.findall(r"\b(CSE_[A-Z0-9_]*[A-Z0-9])\b", text))


def test_every_cse_name_the_repository_uses_is_known() -> None:
    assert names_read_outside_settings() <= known_names()
    assert known_names() >= RUN_SCRIPT_NAMES


def test_every_setting_of_the_docs_is_known() -> None:
    table = (REPO / "docs" / "settings.md").read_text(encoding="utf-8")
    rows = [line.split("|")[1] for line in table.splitlines() if line.startswith("| `")]
    documented = {name for row in rows for name in re.findall(r"`(CSE_[A-Z0-9_]+)`", row)}

    assert documented <= known_names()


ENTRY_POINTS = {
    "worker": (["worker.py"], "worker not started: "),
    "api": (["-m", "api"], "api not started: "),
    "intake": (["starter.py", "REFERRAL"], "not started: "),
    "cli": (["-m", "cli", "cases"], "settings refused: "),
}


@pytest.mark.parametrize(("args", "prefix"), ENTRY_POINTS.values(), ids=ENTRY_POINTS.keys())
@pytest.mark.parametrize(
    ("setting", "problem"),
    [
        ({"CSE_POLICYDIR": "policies"}, "CSE_POLICYDIR is not a setting: did you mean"),
        ({"CSE_LOG_LEVEL": "verbose"}, "CSE_LOG_LEVEL 'verbose' is not a level: give DEBUG"),
        ({"CSE_SMTP_PORT": "smtp"}, "CSE_SMTP_PORT: Input should be a valid integer"),
    ],
    ids=["unknown-name", "log-level", "port"],
)
def test_every_entry_point_refuses_a_bad_setting_in_one_line(
    args: list[str], prefix: str, setting: dict[str, str], problem: str, tmp_path: Path
) -> None:
    referral = tmp_path / "referral.json"
    referral.write_text("{}", encoding="utf-8")
    args = [str(referral) if a == "REFERRAL" else a for a in args]

    done = start(args, **setting)

    assert done.returncode == 2, done.stdout + done.stderr
    assert done.stderr.splitlines() == [done.stderr.strip()], done.stderr
    assert done.stderr.startswith(prefix + problem)


def start(args: list[str], **env: str) -> subprocess.CompletedProcess[str]:
    return run_python(*args, env=clean_env(TEMPORAL_ADDRESS="127.0.0.1:1", **env))


def test_the_worker_names_an_outbox_it_cannot_write(tmp_path: Path) -> None:
    not_a_folder = tmp_path / "file"
    not_a_folder.write_text("", encoding="utf-8")
    outbox = not_a_folder / "outbox.jsonl"

    done = start(["worker.py"], CSE_OUTBOX_FILE=str(outbox))

    assert done.returncode == 2
    assert done.stderr.startswith(f"worker not started: CSE_OUTBOX_FILE {outbox}: ")
    assert len(done.stderr.splitlines()) == 1


def test_the_worker_names_a_file_it_cannot_use_without_a_traceback(tmp_path: Path) -> None:
    not_a_folder = tmp_path / "file"
    not_a_folder.write_text("", encoding="utf-8")

    done = start(
        ["worker.py"],
        CSE_OUTBOX_FILE=str(tmp_path / "outbox.jsonl"),
        CSE_POLICY_LEDGER=str(not_a_folder / "policy-ledger.json"),
    )

    assert done.returncode == 2
    assert done.stderr.startswith(f"worker not started: policy ledger {not_a_folder}")
    assert "(CSE_POLICY_LEDGER): cannot write it" in done.stderr
    assert len(done.stderr.splitlines()) == 1


def test_the_api_names_an_address_it_cannot_listen_on() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]

        done = start(["-m", "api"], CSE_API_PORT=str(port))

    assert done.returncode == 2
    assert done.stderr == (
        f"api not started: CSE_API_HOST/CSE_API_PORT 127.0.0.1:{port}: Address already in use\n"
    )
