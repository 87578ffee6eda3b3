"""The caseload as supervisors see it: which cases stand where, and which clocks fall due soon.

Everything here reads Temporal's visibility store through the case search attributes
(workflows/search_attributes.py): a list never opens a case. Only the forecast opens the few
cases visibility names as candidates, to read their clocks. Shared by the HTTP API and the
supervisors' command line, so it knows nothing of HTTP.

Listing is sorted by next due (soonest first; cases with no running clock last) and paged
with an opaque keyset token: each page is "the cases after the last one shown", so a case
that changes between two pages is neither shown twice nor skipped because of an offset.
Before them all come the cases that need attention: out of sight, their run ended without
the pathway closing them (contract/visibility.py), each flagged with what ended it; they are few,
so they are read whole (and checked run by run) for every listing.
Visibility on the dev server (SQLite) cannot ORDER BY: a fresh page counts and reads windows
of next dues until it holds the page (edge/listing.py), so it reads about what it shows, not
every match; a shared listing (RecentListings) reads every match once and cuts pages from it.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hashlib
import json
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError, field_validator
from temporalio.api.workflow.v1 import WorkflowExecutionInfo
from temporalio.api.workflowservice.v1 import (
    CountWorkflowExecutionsRequest,
    ListWorkflowExecutionsRequest,
)
from temporalio.client import Client, WorkflowExecutionStatus
from temporalio.common import SearchAttributeKey
from temporalio.service import RPCError, RPCStatusCode

from contract import search_attributes as sa
from contract.visibility import (
    ENDED_UNCLOSED,
    LIVE_OR_CLOSED,
    RunState,
    cases_on,
    cases_out_of_sight,
    quoted,
    run_state,
)
from domain.clocks import policy_calendar
from domain.policy import ClockName, PolicyBook
from domain.referral import referral_id_of, workflow_id_for
from domain.status import CaseStatus, ClockState
from domain.vocabulary import Stage
from edge.listing import SortKey, after, first_after, key_of

VISIBILITY_TIMEOUT = timedelta(seconds=10)
QUERY_TIMEOUT = timedelta(seconds=10)
FORECAST_CONCURRENCY = 16
MAX_PAGE_SIZE = 500
MAX_FORECAST_DAYS = 60
LIST_PAGE = 1000  # entries per visibility read (the server's maximum)
RECENT_LISTINGS_KEPT = 256
NOT_REFUSED = "ExecutionStatus != 'Failed'"  # runs refused at their start are not cases
ATTENTION = {
    RunState.terminated: "terminated",
    RunState.timed_out: "timed out",
    RunState.failed: "failed",
    RunState.canceled: "canceled",
    RunState.continued_as_new: "continued into a run that is not a case",
}


class CaseloadError(ValueError):
    """A request the caseload cannot answer as asked; the message names the field."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


RiskScore = Annotated[int, Field(ge=0, le=3, description="Latest risk score")]
TeamName = Annotated[str, Field(min_length=1, max_length=200, pattern=r"\S")]
WorkingDaysAhead = Annotated[int, Field(ge=1, le=MAX_FORECAST_DAYS)]


EARLIEST_DUE = datetime(2000, 1, 1, tzinfo=UTC)
LATEST_DUE = datetime(2200, 1, 1, tzinfo=UTC)


class CaseFilter(BaseModel):
    """What a supervisor narrows the caseload to; every field is optional. The one model of
    the filters and their limits: the API's query parameters (`score` for `risk_score`) and
    the command line's options are both read into it."""

    model_config = ConfigDict(populate_by_name=True)
    stage: Stage | None = None
    risk_score: Annotated[RiskScore | None, Field(alias="score")] = None
    team: TeamName | None = None
    overdue: bool | None = None
    due_before: Annotated[
        AwareDatetime | None,
        Field(description="Next due strictly before this time (years 2000 to 2199)"),
    ] = None

    @field_validator("due_before")
    @classmethod
    def _within_the_years_cases_run(cls, value: datetime | None) -> datetime | None:
        """Every date the API takes is bounded: one near the ends of time would overflow."""
        if value is None:
            return None
        try:
            moment = value.astimezone(UTC)
        except OverflowError:
            moment = None
        if moment is None or not EARLIEST_DUE <= moment < LATEST_DUE:
            raise ValueError("must be within the years 2000 to 2199")
        return moment


class ForecastAsk(BaseModel):
    """How far ahead the forecast looks, and for which team (all, unless given)."""

    working_days: WorkingDaysAhead = 5
    team: TeamName | None = None


class CaseAttributes(BaseModel):
    """A case's search attributes as a listing shows them, never a child's details."""

    stage: Stage | None
    risk_score: int | None
    team: str | None
    overdue: bool
    next_due: datetime | None
    complex: bool
    mase_referred: bool
    run_state: RunState = Field(
        RunState.running,
        description="running; closed (the pathway closed it); or terminated, timed_out, "
        "failed, canceled, continued_as_new: its run ended without the pathway closing it",
    )
    needs_attention: bool = Field(
        False,
        description="Its run ended without the pathway closing it: no clock fires and "
        "nothing can be recorded until an operator resets it (listed first)",
    )
    ended_at: datetime | None = Field(None, description="When its run ended, if it has")
    attention: str | None = Field(None, description="What needs attention, in words")


class CaseSummary(CaseAttributes):
    """One case as visibility knows it."""

    referral_id: str

    @property
    def key(self) -> SortKey:
        return sort_key(self)


class CasePage(BaseModel):
    cases: list[CaseSummary]
    next_page_token: str | None


class ClockDue(BaseModel):
    """A running clock that falls due by the forecast's cutoff."""

    referral_id: str
    team: str
    stage: Stage
    clock: ClockName
    clock_id: str
    due_at: datetime


# ---- the visibility query ------------------------------------------------------------------


def timestamp(moment: datetime) -> str:
    return quoted(moment.astimezone(UTC).isoformat().replace("+00:00", "Z"))


def case_query(task_queue: str, wanted: CaseFilter, runs: str = NOT_REFUSED) -> str:
    """The visibility query for the cases of one task queue matching `wanted`, among the
    `runs` it names: those not refused, the listing's LIVE_OR_CLOSED, or ENDED_UNCLOSED."""
    clauses = [runs]
    if wanted.stage is not None:
        clauses.append(f"{sa.CSE_STAGE.name} = {quoted(wanted.stage.value)}")
    if wanted.risk_score is not None:
        clauses.append(f"{sa.CSE_RISK_SCORE.name} = {int(wanted.risk_score)}")
    if wanted.team is not None:
        clauses.append(f"{sa.CSE_TEAM.name} = {quoted(wanted.team)}")
    if wanted.overdue is not None:
        clauses.append(f"{sa.CSE_OVERDUE.name} = {'true' if wanted.overdue else 'false'}")
    if wanted.due_before is not None:
        clauses.append(f"{sa.CSE_NEXT_DUE.name} < {timestamp(wanted.due_before)}")
    return cases_on(task_queue, *clauses)


# ---- listing, sorted by next due, one keyset page at a time ---------------------------------


def sort_key(case: CaseSummary) -> SortKey:
    """Soonest due first (to the millisecond); cases with no running clock last; ties by
    referral id."""
    return key_of(case.next_due, case.referral_id)


class Cursor(BaseModel):
    """Where the previous page ended, tied to the query it paged through."""

    query: str
    next_due: AwareDatetime | None
    referral_id: str
    attention: bool = False  # among the cases needing attention, which come first

    @classmethod
    def after(cls, case: CaseSummary, query: str) -> Cursor:
        return cls(
            query=_fingerprint(query),
            next_due=case.next_due,
            referral_id=case.referral_id,
            attention=case.needs_attention,
        )

    def encode(self) -> str:
        return base64.urlsafe_b64encode(self.model_dump_json().encode()).decode().rstrip("=")

    @classmethod
    def decode(cls, token: str, query: str) -> Cursor:
        try:
            raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
            cursor = cls.model_validate(json.loads(raw))
        except (binascii.Error, ValueError, ValidationError):
            raise CaseloadError("next_page_token", "is not a token this listing gave") from None
        if cursor.query != _fingerprint(query):
            raise CaseloadError("next_page_token", "belongs to a listing with other filters")
        return cursor

    def key(self) -> SortKey:
        return key_of(self.next_due, self.referral_id)

    def narrowing(self) -> str:
        """Only the cases that sort after the cursor."""
        return f" AND {after(self.key())}"


def _fingerprint(query: str) -> str:
    return hashlib.sha256(query.encode()).hexdigest()[:16]


async def find_cases(client: Client, query: str, limit: int | None = None) -> list[CaseSummary]:
    """Every case visibility finds for `query` (the first `limit` it lists, if given),
    sorted by next due.

    Reads the raw listing and decodes only the case attributes: on a large caseload building
    the SDK's full WorkflowExecution for each entry costs as much as the query itself.
    """
    found: list[CaseSummary] = []
    token = b""
    size = LIST_PAGE if limit is None else min(limit, LIST_PAGE)
    while True:
        request = ListWorkflowExecutionsRequest(
            namespace=client.namespace, query=query, page_size=size, next_page_token=token
        )
        answer = await client.workflow_service.list_workflow_executions(
            request, retry=True, timeout=VISIBILITY_TIMEOUT
        )
        found += [summary_of(info) for info in answer.executions]
        token = answer.next_page_token
        enough = limit is not None and len(found) >= limit
        if enough or not token or len(answer.executions) < size:
            return sorted(found[:limit], key=sort_key)


async def count_cases(client: Client, query: str) -> int:
    request = CountWorkflowExecutionsRequest(namespace=client.namespace, query=query)
    answer = await client.workflow_service.count_workflow_executions(
        request, retry=True, timeout=VISIBILITY_TIMEOUT
    )
    return int(answer.count)


def summary_of(info: WorkflowExecutionInfo) -> CaseSummary:
    fields = info.search_attributes.indexed_fields

    def value(key: SearchAttributeKey[Any]) -> Any:
        return json.loads(fields[key.name].data) if key.name in fields else None

    stage, next_due = value(sa.CSE_STAGE), value(sa.CSE_NEXT_DUE)
    ended = info.close_time.ToDatetime(UTC) if info.HasField("close_time") else None
    return CaseSummary(
        referral_id=referral_id_of(info.execution.workflow_id),
        run_state=run_state(WorkflowExecutionStatus(info.status)),
        ended_at=ended,
        stage=Stage(stage) if stage is not None else None,
        risk_score=value(sa.CSE_RISK_SCORE),
        team=value(sa.CSE_TEAM),
        overdue=bool(value(sa.CSE_OVERDUE)),
        next_due=datetime.fromisoformat(next_due) if next_due is not None else None,
        complex=bool(value(sa.CSE_COMPLEX)),
        mase_referred=bool(value(sa.CSE_MASE_REFERRED)),
    )


class RecentListings:
    """Listings read from visibility in the last `max_age` seconds, shared between callers.

    Visibility is eventually consistent (a change shows a moment after it is recorded), so
    a listing a second or two old tells a supervisor nothing less; many supervisors paging
    the same caseload then cost one read, not one each. Concurrent callers of the same
    query share one read in flight. `max_age` 0 reads every time.
    """

    def __init__(
        self,
        max_age: float,
        clock: Callable[[], float] = time.monotonic,
        read: Callable[[Client, str], Awaitable[list[CaseSummary]]] | None = None,
    ) -> None:
        self.max_age = max_age
        self.clock = clock
        self.read = read or find_cases
        self._reads: OrderedDict[str, tuple[float, asyncio.Future[list[CaseSummary]]]] = (
            OrderedDict()
        )

    async def find(
        self,
        client: Client,
        query: str,
        reader: Callable[[Client, str], Awaitable[list[CaseSummary]]] | None = None,
    ) -> list[CaseSummary]:
        """The cases `query` finds, read with `reader` (default: this listing's `read`)."""
        now = self.clock()
        read = self._reads.get(query)
        if read is None or now - read[0] >= self.max_age:
            read = (now, asyncio.ensure_future((reader or self.read)(client, query)))
            self._reads[query] = read
            while len(self._reads) > RECENT_LISTINGS_KEPT:
                self._reads.popitem(last=False)
        try:
            return await asyncio.shield(read[1])
        except BaseException:
            if self._reads.get(query) is read:  # a failed read is not kept for others
                del self._reads[query]
            raise


async def list_cases(
    client: Client,
    task_queue: str,
    wanted: CaseFilter,
    page_size: int = 50,
    page_token: str | None = None,
    recent: RecentListings | None = None,
) -> CasePage:
    """One page of the caseload: the cases needing attention first, then the rest sorted by
    next due; pass `next_page_token` for the next page.

    With `recent`, every page is cut from the whole listing read (or shared) there;
    without, each page reads about the cases it shows (edge/listing.py).
    """
    if not 1 <= page_size <= MAX_PAGE_SIZE:
        raise CaseloadError("page_size", f"must be between 1 and {MAX_PAGE_SIZE}")
    query = case_query(task_queue, wanted, LIVE_OR_CLOSED)
    cursor = Cursor.decode(page_token, query) if page_token else None
    page: list[CaseSummary] = []
    if cursor is None or cursor.attention:
        flagged = await needing_attention(client, task_queue, wanted, recent)
        page = [c for c in flagged if cursor is None or sort_key(c) > cursor.key()]
        if len(page) > page_size:
            page = page[:page_size]
            return CasePage(cases=page, next_page_token=Cursor.after(page[-1], query).encode())
        cursor = None
    rest, more = await _in_order(client, query, cursor, page_size - len(page), recent)
    page += rest
    token = Cursor.after(page[-1], query).encode() if more and page else None
    return CasePage(cases=page, next_page_token=token)


async def _in_order(
    client: Client,
    query: str,
    cursor: Cursor | None,
    wanted: int,
    recent: RecentListings | None,
) -> tuple[list[CaseSummary], bool]:
    """The first `wanted` cases of `query` after `cursor`, and whether more follow them."""
    if recent is not None and recent.max_age > 0:
        found = await recent.find(client, query)
        if cursor is not None:
            found = [case for case in found if sort_key(case) > cursor.key()]
        return found[:wanted], len(found) > wanted
    start = cursor.key() if cursor else None
    if wanted == 0:
        return [], await count_cases(client, query + (f" AND {after(start)}" if start else "")) > 0
    page, total = await first_after(
        query,
        start,
        wanted,
        lambda q: count_cases(client, q),
        lambda q, limit: find_cases(client, q, limit),
    )
    return page, total > len(page) > 0


async def needing_attention(
    client: Client,
    task_queue: str,
    wanted: CaseFilter,
    recent: RecentListings | None = None,
) -> list[CaseSummary]:
    """The cases matching `wanted` whose run ended without the pathway closing them,
    sorted by next due (as they stood when their run ended), each saying what happened."""
    query = case_query(task_queue, wanted, ENDED_UNCLOSED)
    if recent is not None and recent.max_age > 0:
        return await recent.find(client, query, find_out_of_sight)
    return await find_out_of_sight(client, query)


async def find_out_of_sight(client: Client, query: str) -> list[CaseSummary]:
    runs = await cases_out_of_sight(client, query)
    return sorted((flagged(summary_of(run.raw_info)) for run in runs), key=sort_key)


def flagged(case: CaseSummary) -> CaseSummary:
    """A case out of sight, flagged with what ended its run and what it needs."""
    what = ATTENTION.get(case.run_state, case.run_state.value)
    attention = (
        f"Its run was {what} without the pathway closing it: no clock fires and nothing can "
        "be recorded until an operator resets it (the case says how)"
    )
    return case.model_copy(update={"needs_attention": True, "attention": attention})


# ---- the forecast ----------------------------------------------------------------------------


def forecast_cutoff(book: PolicyBook, now: datetime, working_days: int) -> datetime:
    """The end of the Nth working day after today (today itself is not counted), by the
    calendar of the policy in force today."""
    if not 1 <= working_days <= MAX_FORECAST_DAYS:
        raise CaseloadError("working_days", f"must be between 1 and {MAX_FORECAST_DAYS}")
    return policy_calendar(book.in_force_on(now)).add_working_days(now, working_days)


async def forecast(
    client: Client, task_queue: str, cutoff: datetime, team: str | None = None
) -> list[ClockDue]:
    """Every running clock not yet breached that falls due by `cutoff`, soonest first.

    Visibility names the candidates (a running case whose next due is by the cutoff); each
    candidate's own status then says which of its clocks fall due.
    """
    query = case_query(task_queue, CaseFilter(team=team))
    query += f" AND {sa.CSE_NEXT_DUE.name} <= {timestamp(cutoff)} AND ExecutionStatus = 'Running'"
    candidates = await find_cases(client, query)
    limit = asyncio.Semaphore(FORECAST_CONCURRENCY)
    statuses = await asyncio.gather(*(_status(client, c.referral_id, limit) for c in candidates))
    due = [clock for status in statuses if status for clock in _falling_due(status, cutoff)]
    return sorted(due, key=lambda c: (c.due_at, c.referral_id, c.clock_id))


async def _status(client: Client, referral_id: str, limit: asyncio.Semaphore) -> CaseStatus | None:
    handle = client.get_workflow_handle(workflow_id_for(referral_id))
    async with limit:
        try:
            status: CaseStatus = await handle.query(
                "status", result_type=CaseStatus, rpc_timeout=QUERY_TIMEOUT
            )
        except RPCError as err:
            if err.status == RPCStatusCode.NOT_FOUND:  # gone since visibility listed it
                return None
            raise
    return status


def _falling_due(status: CaseStatus, cutoff: datetime) -> list[ClockDue]:
    return [
        ClockDue(
            referral_id=status.referral_id,
            team=status.team,
            stage=status.stage,
            clock=clock.name,
            clock_id=clock.id,
            due_at=clock.due_at,
        )
        for clock in status.clocks
        if clock.running and clock.state == ClockState.open and clock.due_at <= cutoff
    ]
