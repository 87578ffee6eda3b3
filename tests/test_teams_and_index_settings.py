"""CSE_TEAMS and CSE_INDEX_KEYS as the settings loader reads them (issue 19, items 1 and 5):
the teams matched exactly, the index keys in the payload keys' format and never the same key;
a bad value refused naming the variable, never echoing a key."""

from __future__ import annotations

import base64
import os

import pytest

from domain.child_index import IndexKey
from edge.codec import new_key_item
from edge.settings import Settings, SettingsRefused, read_settings


def settings_of(monkeypatch: pytest.MonkeyPatch, **env: str) -> Settings:
    for name in [n for n in os.environ if n.startswith(("CSE_", "TEMPORAL_"))]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("CSE_PLAINTEXT_PAYLOADS", "true")
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return read_settings()


def refusal(monkeypatch: pytest.MonkeyPatch, **env: str) -> str:
    with pytest.raises(SettingsRefused) as refused:
        settings_of(monkeypatch, **env)
    return str(refused.value)


def test_teams_are_read_as_written_in_order(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = settings_of(monkeypatch, CSE_TEAMS=" TEAM-A, TEAM-B ,RAI-2,")

    assert settings.teams == ("TEAM-A", "TEAM-B", "RAI-2")


def test_no_teams_unless_set(monkeypatch: pytest.MonkeyPatch) -> None:
    assert settings_of(monkeypatch).teams == ()


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("TEAM-A,TEAM-B,TEAM-A", "CSE_TEAMS names TEAM-A more than once"),
        ("", "CSE_TEAMS is empty: give a value, or unset it for the default"),
        ("X" * 201, "CSE_TEAMS: a team's name has at most 200 characters"),
    ],
)
def test_a_bad_list_of_teams_is_refused(
    monkeypatch: pytest.MonkeyPatch, value: str, expected: str
) -> None:
    assert expected in refusal(monkeypatch, CSE_TEAMS=value)


def test_index_keys_are_read_the_writing_key_first(monkeypatch: pytest.MonkeyPatch) -> None:
    newer, older = new_key_item("index-2"), new_key_item("index-1")

    keys = settings_of(monkeypatch, CSE_INDEX_KEYS=f"{newer},{older}").child_index_keys()

    assert [key.key_id for key in keys] == ["index-2", "index-1"]
    assert keys[0] == IndexKey("index-2", base64.b64decode(newer.partition(":")[2]))


def test_no_index_keys_unless_set(monkeypatch: pytest.MonkeyPatch) -> None:
    assert settings_of(monkeypatch).child_index_keys() == []
    assert settings_of(monkeypatch, CSE_INDEX_KEYS=" ").child_index_keys() == []


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("index-1:c2hvcnQ=", "CSE_INDEX_KEYS item 1 (index-1): the key must be 32 bytes, not 5"),
        (f"{new_key_item('a')},nonsense", "CSE_INDEX_KEYS item 2: expected `<key id>:<base64"),
        (f"{new_key_item('a')},{new_key_item('a')}", "CSE_INDEX_KEYS item 2: key id 'a' repeated"),
    ],
)
def test_bad_index_keys_are_refused_naming_the_item_never_the_key(
    monkeypatch: pytest.MonkeyPatch, value: str, expected: str
) -> None:
    problem = refusal(monkeypatch, CSE_INDEX_KEYS=value)

    assert expected in problem
    assert "CSE_CODEC_KEYS" not in problem
    for secret in [item.partition(":")[2] for item in value.split(",")]:
        assert not secret or secret not in problem


def test_the_index_never_reuses_a_payload_key(monkeypatch: pytest.MonkeyPatch) -> None:
    payload_key = new_key_item("keys-1")
    monkeypatch.delenv("CSE_PLAINTEXT_PAYLOADS", raising=False)
    problem = refusal(
        monkeypatch,
        CSE_PLAINTEXT_PAYLOADS="false",
        CSE_CODEC_KEYS=payload_key,
        CSE_INDEX_KEYS=f"{new_key_item('index-2')},index-1:{payload_key.partition(':')[2]}",
    )

    assert problem == "CSE_INDEX_KEYS reuses a key of CSE_CODEC_KEYS: give it its own"
