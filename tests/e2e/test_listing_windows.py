"""The caseload read in windows (edge/listing.py) against the real dev server's visibility:
every page of every filter is exactly what sorting every match would give, in order across
window boundaries, with ties by referral id, cases with no next due last, and page tokens
that carry on, while reading far fewer cases than match."""

from __future__ import annotations

import asyncio
import random
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from temporalio.client import Client
from temporalio.common import SearchAttributePair, TypedSearchAttributes

from contract import search_attributes as sa
from domain.vocabulary import Stage
from edge import caseload, listing
from edge.caseload import CaseFilter, CaseSummary, case_query, find_cases, list_cases, sort_key

pytestmark = pytest.mark.e2e

BASE = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
CASES = 160


def attributes(n: int, rnd: random.Random) -> TypedSearchAttributes:
    """A caseload with what makes paging hard: a large tie (one next due, as a batch of
    referrals received together has), dues a fraction of a millisecond apart, dues spread
    over months, and cases with no next due."""
    pairs: list[SearchAttributePair[Any]] = [
        SearchAttributePair(sa.CSE_TEAM, f"T{n % 3}"),
        SearchAttributePair(sa.CSE_STAGE, rnd.choice([Stage.assessment, Stage.review]).value),
        SearchAttributePair(sa.CSE_RISK_SCORE, n % 4),
        SearchAttributePair(sa.CSE_OVERDUE, n % 2 == 0),
    ]
    if n % 10 == 9:
        return TypedSearchAttributes(pairs)  # no running clock
    if n % 2 == 0:
        due = BASE  # the tie
    elif n % 5 == 1:
        due = BASE + timedelta(hours=1, microseconds=rnd.randrange(0, 3000))
    else:
        due = BASE + timedelta(days=rnd.randrange(-90, 90), seconds=rnd.randrange(86400))
    return TypedSearchAttributes([*pairs, SearchAttributePair(sa.CSE_NEXT_DUE, due)])


@pytest.fixture(scope="module")
async def caseload_queue(temporal_server: str) -> tuple[Client, str]:
    client = await Client.connect(temporal_server)
    queue = f"windows-{uuid.uuid4().hex[:8]}"
    rnd = random.Random(7)
    gate = asyncio.Semaphore(20)

    async def start(n: int) -> None:
        async with gate:  # no worker: visibility holds what the start said
            await client.start_workflow(
                "ReferralWorkflow",
                id=f"referral-W{rnd.getrandbits(40):010x}",
                task_queue=queue,
                search_attributes=attributes(n, rnd),
            )

    await asyncio.gather(*(start(n) for n in range(CASES)))
    query = case_query(queue, CaseFilter())
    for _ in range(100):
        if len(await find_cases(client, query)) == CASES:
            break
        await asyncio.sleep(0.2)
    return client, queue


@pytest.fixture
def small_windows(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Windows of at most 12 cases and samples of 8, so that 160 cases take many windows;
    returns the number of cases each read returned."""
    monkeypatch.setattr(listing, "READ_AT_MOST", 12)
    monkeypatch.setattr(listing, "SAMPLE", 8)
    reads: list[int] = []
    real = caseload.find_cases

    async def counted(client: Client, query: str, limit: int | None = None) -> list[CaseSummary]:
        found = await real(client, query, limit)
        reads.append(len(found))
        return found

    monkeypatch.setattr(caseload, "find_cases", counted)
    return reads


async def every_page(client: Client, queue: str, wanted: CaseFilter, size: int) -> list[str]:
    shown: list[str] = []
    token = None
    while True:
        page = await list_cases(client, queue, wanted, size, token)
        shown += [case.referral_id for case in page.cases]
        token = page.next_page_token
        if token is None:
            return shown
        assert len(page.cases) == size


FILTERS = [
    CaseFilter(),
    CaseFilter(overdue=True),
    CaseFilter(overdue=False),
    CaseFilter(team="T1"),
    CaseFilter(stage=Stage.review, risk_score=2),
    CaseFilter(due_before=BASE + timedelta(days=30)),
    CaseFilter(team="nobody"),
]


@pytest.mark.parametrize("wanted", FILTERS, ids=lambda f: f.model_dump_json(exclude_none=True))
async def test_every_page_is_what_sorting_every_match_gives(
    caseload_queue: tuple[Client, str], small_windows: list[int], wanted: CaseFilter
) -> None:
    client, queue = caseload_queue
    everything = sorted(await caseload.find_cases(client, case_query(queue, wanted)), key=sort_key)
    small_windows.clear()

    shown = await every_page(client, queue, wanted, size=7)

    assert shown == [case.referral_id for case in everything]


async def test_the_first_page_reads_about_what_it_shows(
    caseload_queue: tuple[Client, str], small_windows: list[int]
) -> None:
    """The tie of 80 cases at one next due is paged by referral id, not read whole."""
    client, queue = caseload_queue
    wanted = CaseFilter(overdue=True)  # the tie alone: every overdue case is due at BASE
    matches = len(await caseload.find_cases(client, case_query(queue, wanted)))
    small_windows.clear()

    page = await list_cases(client, queue, wanted, 5, None)

    assert len(page.cases) == 5
    assert page.next_page_token is not None
    assert sum(small_windows) < matches / 2, small_windows


async def test_ties_are_ordered_by_referral_id_and_no_due_comes_last(
    caseload_queue: tuple[Client, str], small_windows: list[int]
) -> None:
    client, queue = caseload_queue

    shown = await every_page(client, queue, CaseFilter(), size=11)
    everything = {
        c.referral_id: c for c in await caseload.find_cases(client, case_query(queue, CaseFilter()))
    }

    cases = [everything[rid] for rid in shown]
    tie = [c.referral_id for c in cases if c.next_due == BASE]
    assert tie == sorted(tie)
    assert len(tie) == CASES // 2
    assert all(c.next_due is None for c in cases[-(CASES // 10) :])
    dues = [listing.bucket(c.next_due) for c in cases if c.next_due is not None]
    assert dues == sorted(dues)
