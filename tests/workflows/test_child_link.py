"""A new case and the child's earlier referrals, and the workflow's own team check (issue 19,
items 2 and 5), on the time-skipping server: the opening activity's answer (here the stand-in
registry over EARLIER_REFERRALS) decides everything, so it replays from the history."""

import asyncio
import uuid
from datetime import timedelta

from temporalio.testing import WorkflowEnvironment

from contract import search_attributes as sa
from domain.child_index import child_index
from domain.events import Allocate
from domain.policy import Policy
from domain.status import CaseStatus, EarlierReferral
from domain.vocabulary import Stage
from tests.conftest import EARLIER_REFERRALS, TEST_INDEX_KEY, Outbox, running_worker
from tests.workflows.helpers import eventually, invalid_input, now, published, start
from tests.workflows.updates import act
from workflows.referral import ReferralWorkflow


def a_child() -> str:
    return f"PERSON-LINK-{uuid.uuid4().hex[:8]}"


async def opened_for(
    env: WorkflowEnvironment, task_queue: str, child: str, child_ref: str, earlier: EarlierReferral
) -> CaseStatus:
    """A case for `child` (given as `child_ref`) whose index holds `earlier`, once the case's
    opening answer has named its earlier referrals."""
    EARLIER_REFERRALS[child.casefold()] = [earlier]
    handle = await start(env, task_queue, child_ref=child_ref)
    return await eventually(handle, lambda s: bool(s.earlier_referrals))


async def test_a_second_referral_within_twelve_months_keeps_the_first_and_is_a_re_referral(
    env: WorkflowEnvironment, task_queue: str, worker: object
) -> None:
    child, t = a_child(), await now(env)
    first = EarlierReferral(
        referral_id="R-FIRST", received_at=t - timedelta(days=91), stage=Stage.closed
    )
    status = await opened_for(env, task_queue, child, f" {child.lower()}", first)

    assert status.earlier_referrals == [first]
    assert status.re_referral


async def test_a_referral_more_than_twelve_months_after_every_other_links_but_is_not_one(
    env: WorkflowEnvironment, task_queue: str, worker: object
) -> None:
    child, t = a_child(), await now(env)
    old = EarlierReferral(
        referral_id="R-OLD", received_at=t - timedelta(days=400), stage=Stage.closed
    )
    status = await opened_for(env, task_queue, child, child, old)

    assert [e.referral_id for e in status.earlier_referrals] == ["R-OLD"]
    assert not status.re_referral


async def test_the_case_is_indexed_under_the_writing_key_never_in_the_clear(
    env: WorkflowEnvironment, task_queue: str, worker: object
) -> None:
    child = a_child()
    handle = await start(env, task_queue, child_ref=child)

    index = await published(handle, sa.CSE_CHILD_INDEX)

    assert index == child_index(child, TEST_INDEX_KEY)
    assert index is not None
    assert index.startswith("tests-index-1:")
    assert child.lower() not in index.lower()
    assert await published(handle, sa.CSE_RECEIVED_AT) is not None
    status = await handle.query(ReferralWorkflow.status)
    assert status.earlier_referrals == []
    assert not status.re_referral


async def test_an_unknown_team_fails_the_run_naming_the_field_and_the_teams(
    env: WorkflowEnvironment, task_queue: str
) -> None:
    queue = f"{task_queue}-teams"
    async with running_worker(env.client, queue, Outbox(), teams=("TEAM-A", "TEAM-B")):
        handle = await start(env, queue, team="team-a")
        cause = await invalid_input(handle)

    assert cause.message.startswith("invalid input: team: 'team-a' is not a team of this")
    assert "give one of TEAM-A, TEAM-B" in cause.message
    attributes = (await handle.describe()).typed_search_attributes
    assert attributes.get(sa.CSE_TEAM) is None  # on no caseload
    assert attributes.get(sa.CSE_CHILD_INDEX) is None  # and linked to no child


async def test_a_known_team_opens_the_case(env: WorkflowEnvironment, task_queue: str) -> None:
    queue = f"{task_queue}-teams"
    async with running_worker(env.client, queue, Outbox(), teams=("TEAM-A", "TEAM-B")):
        handle = await start(env, queue, team="TEAM-B")

        assert await published(handle, sa.CSE_TEAM) == "TEAM-B"


async def test_a_case_that_continues_as_new_keeps_its_index(
    env: WorkflowEnvironment, task_queue: str, outbox: Outbox
) -> None:
    queue, child = f"{task_queue}-long", a_child()
    async with running_worker(env.client, queue, outbox, Policy(continue_as_new_after_events=30)):
        handle = await start(env, queue, child_ref=child, significant_harm_suspected=True)
        first_run = (await handle.describe()).run_id
        t = await now(env)
        for n in range(12):
            event = Allocate(social_worker=f"sw-{n}", team="RAI-2", allocated_at=t, actor="tm-1")
            await act(handle, ReferralWorkflow.allocate, event)
        latest = env.client.get_workflow_handle_for(ReferralWorkflow.run, handle.id)
        for _ in range(300):
            if (await latest.describe()).run_id != first_run:
                break
            await asyncio.sleep(0.1)
        await eventually(latest, lambda s: len(s.history) == 12, seconds=30)
        described = await latest.describe()

    assert described.run_id != first_run
    assert described.typed_search_attributes.get(sa.CSE_CHILD_INDEX) == child_index(
        child, TEST_INDEX_KEY
    )
