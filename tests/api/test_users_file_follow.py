"""The users file followed as it changes (issue 17, item 1), in-process and without Temporal:
a user taken out is refused at the next request, a new role or team holds from then on, and a
file that has become invalid or gone keeps the last good one, logged, never opening access.
(The same with two real `python -m api` replicas: tests/browser/test_users_file_replicas.py.)"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

import pytest
from structlog.testing import capture_logs

from api.app import authenticator_for
from api.auth import ApiRole, Identity, ReloadingUsersFile, TokenRefused
from edge.settings import Settings
from tests.api.conftest import User, users_toml

HOS = User("hos@example.org", "head_of_service", None, secrets.token_urlsafe(24))
SW = User("sw@example.org", "social_worker", "RAI-1", secrets.token_urlsafe(24))


def write(path: Path, text: str) -> None:
    """As an operator's editor saves: a new file renamed over the old one."""
    draft = path.with_suffix(".draft")
    draft.write_text(text, encoding="utf-8")
    os.replace(draft, path)


@pytest.fixture
def path(tmp_path: Path) -> Path:
    users = tmp_path / "users.toml"
    write(users, users_toml([HOS, SW]))
    return users


@pytest.fixture
def users(path: Path) -> ReloadingUsersFile:
    return ReloadingUsersFile(path, recheck_every=0)


def test_the_api_follows_the_users_file_it_is_given(path: Path) -> None:
    assert isinstance(authenticator_for(Settings(users_file=path)), ReloadingUsersFile)


def test_a_user_taken_out_is_refused_at_the_next_request(
    path: Path, users: ReloadingUsersFile
) -> None:
    assert users.identify(HOS.token).user_id == HOS.user_id

    write(path, users_toml([SW]))

    with pytest.raises(TokenRefused):
        users.identify(HOS.token)
    assert users.user(HOS.user_id) is None
    assert users.identify(SW.token).user_id == SW.user_id


def test_a_new_role_or_team_holds_from_the_next_request(
    path: Path, users: ReloadingUsersFile
) -> None:
    moved = User(SW.user_id, "team_manager", "RAI-7", SW.token)

    write(path, users_toml([HOS, moved]))

    expected = Identity(user_id=SW.user_id, role=ApiRole.team_manager, team="RAI-7")
    assert users.identify(SW.token) == expected
    assert users.user(SW.user_id) == expected


def test_a_change_that_keeps_size_and_time_is_still_seen(
    path: Path, users: ReloadingUsersFile
) -> None:
    """Written twice within the clock's granularity, a file can keep its mtime and size."""
    before = os.stat(path)
    other = User(SW.user_id, SW.role, "RAI-2", SW.token)  # as long as "RAI-1"
    path.write_text(users_toml([HOS, other]), encoding="utf-8")
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))

    assert os.stat(path).st_size == before.st_size
    assert users.identify(SW.token).team == "RAI-2"


@pytest.mark.parametrize(
    "broken",
    [
        "[users.x\n",  # not TOML
        '[users."sw@example.org"]\nrole = "social_worker"\ntoken_sha256 = "short"\n',
        "",  # emptied
    ],
)
def test_a_file_that_became_invalid_keeps_the_last_good_one_and_says_so(
    path: Path, users: ReloadingUsersFile, broken: str
) -> None:
    with capture_logs() as logs:
        write(path, broken)
        assert users.identify(HOS.token).user_id == HOS.user_id
        with pytest.raises(TokenRefused):
            users.identify("a-token-nobody-has")

    refusals = [e for e in logs if e["event"].startswith("users file refused")]
    assert refusals
    assert refusals[0]["log_level"] == "error"
    assert str(path) in refusals[0]["error"]


def test_a_file_that_is_gone_keeps_the_last_good_one_until_it_is_back(
    path: Path, users: ReloadingUsersFile
) -> None:
    path.unlink()
    assert users.identify(SW.token).user_id == SW.user_id

    write(path, users_toml([SW]))
    with pytest.raises(TokenRefused):
        users.identify(HOS.token)


def test_the_file_is_looked_at_no_more_than_each_recheck(path: Path) -> None:
    users = ReloadingUsersFile(path, recheck_every=3600)
    write(path, users_toml([SW]))

    assert users.identify(HOS.token).user_id == HOS.user_id  # not looked at again yet
