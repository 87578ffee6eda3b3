"""The commit-msg hook (`scripts/check_commit_msg.py`), run as git runs it: on a message file."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "check_commit_msg.py"


def check(message: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    path = tmp_path / "COMMIT_EDITMSG"
    path.write_text(message, encoding="utf-8")
    return subprocess.run(
        [sys.executable, str(SCRIPT), str(path)], capture_output=True, text=True, check=False
    )


@pytest.mark.parametrize(
    "message",
    [
        "Fast test loop: plain pytest skips the slow tiers\n",
        "A subject alone, no newline",
        "x" * 72 + "\n\nA body may have lines of any length: " + "y" * 120 + "\n",
        "Subject\n\nWhy, over\nseveral lines.\n\n# Please enter the commit message...\n",
        "\n\nSubject after blank lines git strips\n\nBody\n",
        "Subject\n# a comment git strips\n\nBody\n",
        "Subject\n\n# ------------------------ >8 ------------------------\n" + "diff " * 40,
    ],
)
def test_a_readable_message_passes(message: str, tmp_path: Path) -> None:
    done = check(message, tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""


def test_a_subject_over_72_characters_is_refused_saying_why(tmp_path: Path) -> None:
    done = check("x" * 73 + "\n\nBody\n", tmp_path)
    assert done.returncode == 1
    assert "the subject is 73 characters, over 72" in done.stderr
    assert "git log --oneline" in done.stderr


def test_a_body_without_a_blank_line_before_it_is_refused_saying_why(tmp_path: Path) -> None:
    done = check("Subject\nThe why, straight after it\n", tmp_path)
    assert done.returncode == 1
    assert "no blank line after the subject" in done.stderr


def test_both_faults_are_named_at_once(tmp_path: Path) -> None:
    done = check("x" * 100 + "\nbody\n", tmp_path)
    assert done.returncode == 1
    assert done.stderr.count("commit message refused:") == 2


def test_an_empty_message_is_refused(tmp_path: Path) -> None:
    done = check("# only comments\n\n", tmp_path)
    assert done.returncode == 1
    assert "empty" in done.stderr


def test_without_a_message_file_it_says_how_to_call_it() -> None:
    done = subprocess.run(
        [sys.executable, str(SCRIPT)], capture_output=True, text=True, check=False
    )
    assert done.returncode == 2
    assert "usage:" in done.stderr
