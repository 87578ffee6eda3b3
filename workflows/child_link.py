"""What a new case does with the answer of its opening activity about the child (docs/rules.md,
One child across referrals): keep its keyed child index (and when its referral was received,
which a later case of the child reads to tell a re-referral) in visibility, once, and keep the
child's earlier referrals on the case.

Everything here follows from the answer recorded in the history: an answer recorded before
the child index (no `child_index`, no `earlier_referrals`) gives no command and changes
nothing, so runs recorded before replay as they ran. The index is set once and never
published again: a run that continues as new starts with its search attributes. A case started
before the index is indexed the same way when an operator asks (`index_child`,
contract/child_indexing.py), from that update's own recorded answer.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from contract import search_attributes as sa
    from domain.case import Case
    from domain.re_referrals import earlier_referrals, is_re_referral
    from domain.status import EarlierReferral


class ChildFound(Protocol):
    """What an answer says of the child: the opening activity's, or `index_child`'s for a
    case started before the index."""

    @property
    def child_index(self) -> str | None: ...

    @property
    def earlier_referrals(self) -> Sequence[EarlierReferral]: ...


def link_the_child(case: Case, found: ChildFound) -> None:
    """Index the case as its child's, and keep the child's earlier referrals on it."""
    received_at = case.referral.received_at
    if found.child_index is not None:
        workflow.upsert_search_attributes(
            [
                sa.CSE_CHILD_INDEX.value_set(found.child_index),
                sa.CSE_RECEIVED_AT.value_set(received_at),
            ]
        )
    if found.earlier_referrals:
        case.earlier_referrals = earlier_referrals(received_at, found.earlier_referrals)
        case.re_referral = is_re_referral(received_at, case.earlier_referrals)
