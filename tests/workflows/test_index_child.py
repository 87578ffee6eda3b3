"""An operator indexes a case started before the child index (issue 19, item 2): the
`index_child` update, refused before history when the case is indexed or closed, asks its
activity once and keeps the answer, so the case gets its index, when it was received and the
child's earlier referrals as a new case does from its opening answer."""

import uuid
from datetime import timedelta

import pytest
from temporalio.client import WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError
from temporalio.testing import WorkflowEnvironment

from contract import search_attributes as sa
from contract.child_indexing import NOT_INDEXABLE, ChildIndexed, IndexChild
from domain.child_index import child_index, normalised
from domain.events import Close
from domain.status import EarlierReferral
from domain.vocabulary import Stage
from tests.conftest import EARLIER_REFERRALS, TEST_INDEX_KEY, Outbox
from tests.workflows.helpers import Handle, now, published, start
from tests.workflows.unindexed import unindexed_worker
from tests.workflows.updates import act, index_child
from workflows.referral import ReferralWorkflow

OPERATOR = IndexChild(actor="ops-1")


def a_child() -> str:
    return f"PERSON-UNINDEXED-{uuid.uuid4().hex[:8]}"


async def opened_unindexed(handle: Handle) -> None:
    """Wait for the opening answer (the case publishes its team), then check it is bare."""
    assert await published(handle, sa.CSE_TEAM) is not None
    assert (await handle.describe()).typed_search_attributes.get(sa.CSE_CHILD_INDEX) is None


async def refusal(handle: Handle) -> ApplicationError:
    with pytest.raises(WorkflowUpdateFailedError) as failed:
        await index_child(handle, OPERATOR)
    cause = failed.value.cause
    assert isinstance(cause, ApplicationError)
    assert cause.type == NOT_INDEXABLE
    return cause


async def test_an_unindexed_case_is_indexed_and_finds_the_child_s_earlier_referrals(
    env: WorkflowEnvironment, task_queue: str
) -> None:
    child, t = a_child(), await now(env)
    earlier = EarlierReferral(
        referral_id="R-BEFORE", received_at=t - timedelta(days=60), stage=Stage.closed
    )
    later = EarlierReferral(
        referral_id="R-AFTER", received_at=t + timedelta(days=1), stage=Stage.assessment
    )
    async with unindexed_worker(env.client, task_queue, Outbox()):
        handle = await start(env, task_queue, child_ref=child)
        await opened_unindexed(handle)
        EARLIER_REFERRALS[normalised(child)] = [earlier, later]

        answer = await index_child(handle, OPERATOR)

        assert answer == ChildIndexed(
            referral_id=handle.id.removeprefix("referral-"), earlier_referrals=1, re_referral=True
        )
        assert await published(handle, sa.CSE_CHILD_INDEX) == child_index(child, TEST_INDEX_KEY)
        assert await published(handle, sa.CSE_RECEIVED_AT) is not None
        status = await handle.query(ReferralWorkflow.status)
        assert status.earlier_referrals == [earlier]  # a later referral is not an earlier one
        assert status.re_referral
        assert "already has a child index" in (await refusal(handle)).message


async def test_a_closed_case_is_not_indexed(env: WorkflowEnvironment, task_queue: str) -> None:
    """Refused by the case while it sends its last notifications, by the server once its run
    has ended: either way nothing is recorded."""
    async with unindexed_worker(env.client, task_queue, Outbox()):
        handle = await start(env, task_queue, child_ref=a_child())
        await opened_unindexed(handle)
        closing = Close(reason="moved away", closed_at=await now(env), actor="tm-1")
        await act(handle, ReferralWorkflow.close, closing)

        with pytest.raises((WorkflowUpdateFailedError, RPCError)):
            await index_child(handle, OPERATOR)


async def test_a_worker_without_index_keys_refuses_and_a_later_ask_succeeds(
    env: WorkflowEnvironment, task_queue: str
) -> None:
    child = a_child()
    async with unindexed_worker(env.client, task_queue, Outbox(), keys=False):
        handle = await start(env, task_queue, child_ref=child)
        await opened_unindexed(handle)

        assert "CSE_INDEX_KEYS" in (await refusal(handle)).message

    async with unindexed_worker(env.client, task_queue, Outbox()):
        handle = await start(env, task_queue, child_ref=child)
        await opened_unindexed(handle)
        answer = await index_child(handle, OPERATOR)

    assert answer.earlier_referrals == 0
    assert not answer.re_referral
