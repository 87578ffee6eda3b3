"""Indexing a case started before the child index (issue 19, item 2): what an operator's
command, the workflow and the worker agree on.

`index_child` is an operator's update of ReferralWorkflow, not a practitioner's event (it is
not in EVENT_TYPES, changes nothing on the pathway, and no route or form offers it). It asks
the activity `index_child` for the child's index under the writing key of CSE_INDEX_KEYS and
the child's earlier referrals, as a new case's opening activity does, and keeps the answer
in the case's history; the case then sets `CseChildIndex` and `CseReceivedAt` and keeps its
earlier referrals. Refused (type NOT_INDEXABLE, before anything reaches history) when the
case already has an index, is closed, or is still opening (its opening indexes it).
"""

from __future__ import annotations

from typing import Final

from pydantic import BaseModel

from contract.activities import EARLIER_CASES_RETRY, EARLIER_CASES_TIMEOUT
from domain.status import EarlierReferral

INDEX_CHILD: Final = "index_child"
"""The update's name and its activity's."""
NOT_INDEXABLE: Final = "NotIndexable"
"""The error type of a refused `index_child` (already indexed, closed, opening, no keys)."""

# The same questions as a new case's opening (visibility and the index): the same limits.
INDEXING_TIMEOUT = EARLIER_CASES_TIMEOUT
INDEXING_RETRY = EARLIER_CASES_RETRY


class IndexChild(BaseModel):
    """The update's payload: who asked (an operator's id, or the command's name)."""

    actor: str


class ChildIndexed(BaseModel):
    """The update's answer, small and free of child data: what the case now holds."""

    referral_id: str
    earlier_referrals: int
    re_referral: bool


class IndexingRequest(BaseModel):
    workflow_id: str  # the asking case, never counted among the child's
    child_ref: str


class Indexing(BaseModel):
    """The activity's answer, kept in the case's history. No index: the worker has no keys."""

    child_index: str | None = None
    earlier_referrals: list[EarlierReferral] = []
