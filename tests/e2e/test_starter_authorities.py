"""starter.py and the directory's authorities (issue 19, item 4): a referral naming a placing
or host authority the directory does not list exits 2 naming the field and listing the known
codes, before Temporal is asked."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import REPO, clean_env, free_ports, run_python
from tests.e2e.test_starter_teams import written

pytestmark = pytest.mark.e2e

DIRECTORY = """
authority = "E99000099"
[roles]
team_manager = ["cse-managers@example.org"]
[authorities."E99000001"]
name = "Example Borough One"
contact = ["cse-contact@la-one.example.org"]
"""


@pytest.mark.parametrize("field", ["placing_authority", "host_authority"])
def test_an_authority_not_in_the_directory_is_refused_before_temporal_is_asked(
    make_referral: Callable[..., dict[str, Any]], tmp_path: Path, field: str
) -> None:
    (nobody,) = free_ports(1)  # no Temporal there: the refusal must not need one
    directory = tmp_path / "directory.toml"
    directory.write_text(DIRECTORY, encoding="utf-8")
    env = clean_env(
        TEMPORAL_ADDRESS=f"127.0.0.1:{nobody}",
        CSE_POLICY_DIR=str(REPO / "policies"),
        CSE_DIRECTORY_FILE=str(directory),
    )
    referral = make_referral(looked_after=True, **{field: "E99000777"})

    done = run_python(
        str(REPO / "starter.py"), str(written(tmp_path, referral)), env=env, cwd=tmp_path
    )

    assert done.returncode == 2, done.stderr
    assert done.stderr.startswith(f"the referral was refused:\n  {field}: 'E99000777' is not")
    assert "give one of E99000001, E99000099" in done.stderr
    assert "did not answer" not in done.stderr
