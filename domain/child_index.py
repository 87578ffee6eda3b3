"""The keyed blind index of a child (docs/rules.md, One child across referrals): the cases of one
child found without the service ever storing who the child is.

`child_ref` (a case-management person id) identifies a child, so it lives only inside the
sealed payloads. What visibility holds, as the search attribute `CseChildIndex`, is
`<key id>:<HMAC-SHA256 of the normalised child_ref, hex>` under a key of CSE_INDEX_KEYS:
without the key the value says nothing, and no unkeyed hash of the child exists anywhere.

Normalised: Unicode NFKC, case-folded, and whitespace trimmed (runs inside collapsed to one
space), so `PERSON-1`, `person-1 ` and `PERSON-1` typed in full-width letters are one child.

Keys rotate as the payload keys do: the first key writes a new case's index, every key is
searched (`child_indexes`), so cases indexed under an older key are still found. Losing every
key that indexed a case loses the link to it: the index cannot be recomputed without one.
"""

from __future__ import annotations

import hashlib
import hmac
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field


@dataclass(frozen=True)
class IndexKey:
    """One key of CSE_INDEX_KEYS: its id (written beside each index it makes) and secret."""

    key_id: str
    secret: bytes = field(repr=False)


def normalised(child_ref: str) -> str:
    """The form that is indexed: NFKC, case-folded (then NFKC again, as Unicode's
    NFKC_Casefold does), whitespace trimmed and collapsed."""
    folded = unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", child_ref).casefold())
    return " ".join(folded.split())


def child_index(child_ref: str, key: IndexKey) -> str:
    """`<key id>:<hex HMAC-SHA256>` of the normalised child_ref under one key."""
    digest = hmac.new(key.secret, normalised(child_ref).encode("utf-8"), hashlib.sha256)
    return f"{key.key_id}:{digest.hexdigest()}"


def child_indexes(child_ref: str, keys: Sequence[IndexKey]) -> list[str]:
    """The child's index under every key, the writing (first) key's first: what to search."""
    return [child_index(child_ref, key) for key in keys]
