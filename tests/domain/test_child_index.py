"""The keyed blind index of a child (issue 19, item 1): one child whatever the spacing, case
or Unicode form of its child_ref; nothing without the key; the first key writes, all search."""

import hashlib
import os
import re

import pytest

from domain.child_index import IndexKey, child_index, child_indexes, normalised

KEY = IndexKey("index-1", os.urandom(32))
NEWER = IndexKey("index-2", os.urandom(32))


@pytest.mark.parametrize(
    "spelling",
    [
        "PERSON-1",
        "PERSON-1 ",
        "  person-1",
        "Person-1\t",
        "\u00a0PERSON-1\u00a0",  # non-breaking spaces around it
        "\uff30\uff25\uff32\uff33\uff2f\uff2e-1",  # PERSON in full-width letters
    ],
)
def test_one_child_whatever_the_spelling(spelling: str) -> None:
    assert child_index(spelling, KEY) == child_index("PERSON-1", KEY)


def test_different_children_differ() -> None:
    assert child_index("PERSON-1", KEY) != child_index("PERSON-2", KEY)
    assert child_index("PERSON-1", KEY) != child_index("PERSON-11", KEY)


def test_the_index_names_its_key_and_holds_neither_the_child_ref_nor_a_plain_hash() -> None:
    index = child_index("PERSON-1", KEY)
    key_id, _, digest = index.partition(":")

    assert key_id == "index-1"
    assert re.fullmatch("[0-9a-f]{64}", digest)
    assert "person-1" not in index.lower()
    for plain in ("PERSON-1", normalised("PERSON-1")):
        assert hashlib.sha256(plain.encode()).hexdigest() != digest


def test_another_key_gives_another_index() -> None:
    other = IndexKey("index-1", os.urandom(32))  # same id, another secret

    assert child_index("PERSON-1", other) != child_index("PERSON-1", KEY)


def test_every_key_is_searched_the_writing_key_first() -> None:
    indexes = child_indexes("person-1 ", [NEWER, KEY])

    assert indexes == [child_index("PERSON-1", NEWER), child_index("PERSON-1", KEY)]
    assert child_indexes("PERSON-1", []) == []


def test_a_key_never_shows_in_its_repr() -> None:
    assert KEY.secret.hex() not in repr(KEY)
    assert str(KEY.secret) not in repr(KEY)
