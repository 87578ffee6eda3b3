"""A published policy version never changes, and one published later never moves a case
(edge/policy_ledger.py, PolicyBook.in_force_on)."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from structlog.testing import capture_logs

from domain.policy import ClockName, Deadline, Policy, PolicyBook, PolicyError
from edge.config_files import load_policy_book
from tests.domain.test_policy import SHIPPED, write

NOW = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
BACK_DATED = """
version = "borough-2026-12"
effective_from = 2026-12-05
[deadlines]
return_home_interview = { amount = 1, unit = "hours" }
"""


def folder_with_the_shipped_file(tmp_path: Path) -> Path:
    folder = tmp_path / "policies"
    folder.mkdir()
    write(folder, SHIPPED.name, SHIPPED.read_text(encoding="utf-8"))
    return folder


def test_versions_present_when_the_ledger_is_begun_count_as_published_before_any_case(
    tmp_path: Path,
) -> None:
    folder, ledger = folder_with_the_shipped_file(tmp_path), tmp_path / "ledger.json"
    book = load_policy_book(folder, ledger, NOW)
    assert book.published_at == {}
    recorded = json.loads(ledger.read_text())["versions"]
    assert list(recorded) == ["directive-2018"]
    assert recorded["directive-2018"]["first_seen"] is None


def test_a_back_dated_file_applies_only_to_cases_started_after_it_was_published(
    tmp_path: Path,
) -> None:
    folder, ledger = folder_with_the_shipped_file(tmp_path), tmp_path / "ledger.json"
    load_policy_book(folder, ledger, NOW - timedelta(days=30))
    write(folder, "borough-2026-12.toml", BACK_DATED)
    with capture_logs() as logs:
        book = load_policy_book(folder, ledger, NOW)
    assert book.published_at == {"borough-2026-12": NOW}
    [warning] = [e for e in logs if e["log_level"] == "warning"]
    assert "applies only to referrals started from now on" in warning["event"]
    assert warning["file"].endswith("borough-2026-12.toml")
    received = datetime(2026, 12, 5, 10, 0, tzinfo=UTC)
    assert book.in_force_on(received, started_at=NOW - timedelta(hours=1)).version == (
        "directive-2018"
    )
    assert book.in_force_on(received, started_at=NOW + timedelta(hours=1)).version == (
        "borough-2026-12"
    )
    assert book.in_force_on(received).version == "borough-2026-12"  # readers without a start


def test_a_file_published_again_later_keeps_its_first_publication(tmp_path: Path) -> None:
    folder, ledger = folder_with_the_shipped_file(tmp_path), tmp_path / "ledger.json"
    load_policy_book(folder, ledger, NOW - timedelta(days=30))
    write(folder, "borough-2026-12.toml", BACK_DATED)
    load_policy_book(folder, ledger, NOW)
    again = load_policy_book(folder, ledger, NOW + timedelta(days=3))
    assert again.published_at == {"borough-2026-12": NOW}


def test_a_published_version_whose_content_changed_is_refused_naming_the_file(
    tmp_path: Path,
) -> None:
    folder, ledger = folder_with_the_shipped_file(tmp_path), tmp_path / "ledger.json"
    path = write(folder, "borough-2026-12.toml", BACK_DATED)
    load_policy_book(folder, ledger, NOW)
    write(
        folder,
        path.name,
        BACK_DATED.replace('amount = 1, unit = "hours"', 'amount = 2, unit = "hours"'),
    )
    with pytest.raises(PolicyError) as refused:
        load_policy_book(folder, ledger, NOW + timedelta(days=1))
    message = str(refused.value)
    assert str(path) in message
    assert "'borough-2026-12' was published with other content" in message
    assert "publish the change as a new file with a new version" in message


def test_comments_and_layout_are_not_content(tmp_path: Path) -> None:
    folder, ledger = folder_with_the_shipped_file(tmp_path), tmp_path / "ledger.json"
    path = write(folder, "borough-2026-12.toml", BACK_DATED)
    load_policy_book(folder, ledger, NOW)
    write(folder, path.name, "# reviewed by the head of service\n" + BACK_DATED + "\n\n")
    book = load_policy_book(folder, ledger, NOW + timedelta(days=1))
    assert [p.version for p in book.versions] == ["borough-2026-12", "directive-2018"]


def test_a_ledger_that_is_not_one_is_refused_naming_it(tmp_path: Path) -> None:
    folder, ledger = folder_with_the_shipped_file(tmp_path), tmp_path / "ledger.json"
    ledger.write_text("not json")
    with pytest.raises(PolicyError, match=f"policy ledger {ledger}: not a policy ledger"):
        load_policy_book(folder, ledger, NOW)


def test_without_a_start_time_every_version_counts() -> None:
    later = Policy(
        version="later",
        effective_from=date(2026, 1, 1),
        deadlines={ClockName.assessment: Deadline(amount=20, unit="working_days")},
    )
    book = PolicyBook(versions=[Policy(), later], published_at={"later": NOW})
    assert book.in_force_on(NOW).version == "later"
    assert book.in_force_on(NOW, started_at=NOW - timedelta(seconds=1)).version == "directive-2018"


def test_a_ledger_that_cannot_be_written_is_refused_naming_the_setting(tmp_path: Path) -> None:
    folder = folder_with_the_shipped_file(tmp_path)
    blocked = tmp_path / "a-file"
    blocked.write_text("not a folder")
    with pytest.raises(PolicyError, match=r"\(CSE_POLICY_LEDGER\): cannot write it"):
        load_policy_book(folder, blocked / "ledger.json", NOW)
