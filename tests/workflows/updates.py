"""A case's updates sent as a practitioner's client sends them, with their types checked: the
event against its update, and the answer as the workflow gives it.

The updates `ReferralWorkflow` makes, one per event, are declared as temporalio's
`UpdateMethodMultiParam` (`workflows.referral.Update`), so `act` is `execute_update` itself.
`@workflow.update(name=...)` on an async method gives its answer the coroutine's type, not its
result's: `index_child` says what the operator's update answers. `send` records events one
after another, each by its own update (an event's `name` is its update's).
"""

from typing import TypeVar, cast

from temporalio.workflow import UpdateMethodMultiParam

from contract.child_indexing import ChildIndexed, IndexChild
from domain.events import Event
from domain.status import Receipt
from tests.workflows.helpers import Handle
from workflows.referral import ReferralWorkflow, Update

E = TypeVar("E", bound=Event)


async def act(handle: Handle, update: Update[E], event: E) -> Receipt:
    """Record `event` by its update (e.g. `ReferralWorkflow.decide` and a `Decide`)."""
    return await handle.execute_update(update, event)


async def send(handle: Handle, *events: Event) -> list[Receipt]:
    """Record `events` in turn, each by its own update (a `Decide` by `ReferralWorkflow.decide`,
    as `act` would): for a case driven through several steps."""
    receipts = []
    for event in events:
        update = cast(Update[Event], getattr(ReferralWorkflow, event.name))
        receipts.append(await act(handle, update, event))
    return receipts


async def index_child(handle: Handle, asked: IndexChild) -> ChildIndexed:
    """An operator's `index_child`, answered with what the case found."""
    update = cast(
        UpdateMethodMultiParam[[ReferralWorkflow, IndexChild], ChildIndexed],
        ReferralWorkflow.index_child,
    )
    return await handle.execute_update(update, asked)
