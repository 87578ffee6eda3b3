"""The caseload's order, and reading one page of it from visibility without reading every
match (issue 9): visibility on the dev server (SQLite) cannot ORDER BY, and reading a case
from it costs ~0.4 ms, so a page is found by counting (cheap) and read in windows that are
exact prefixes of the order.

The order: soonest next due first, cases with no running clock last, ties by referral id.
Visibility keeps CseNextDue to the millisecond (SQLite rounds it), so the order compares next
due to the millisecond too (`bucket`): two cases due within the same millisecond are ordered
by referral id. Every bound asked of visibility lies half a millisecond before a bucket, so
"buckets m1 up to m2" is exact whatever the rounding.

A page after a key K: count what is after K; if few, read them all. Otherwise read the first
cases of visibility's own order after K as a sample, take a key x from it such that roughly
the page's worth of cases are at or before x, count those and, if they are few enough, read
exactly them: they are the first cases after K, in order. A sample that says too little
(visibility lists newest first, which may be the latest due) halves the window by counting
instead. Nothing here changes which cases a page shows, only how many are read to find them.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Protocol, TypeVar

from contract import search_attributes as sa
from contract.visibility import quoted
from domain.referral import workflow_id_for

SortKey = tuple[bool, int, str]
"""(no next due, next due in epoch milliseconds, referral id)."""

READ_AT_MOST = 150  # cases a window may hold for it to be read rather than narrowed
SAMPLE = 40  # cases read to guess a window
ROUNDS = 24  # narrowing steps before reading what is left (each a count)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# The span halved when a sample does not help (a later or earlier due is still read, by a
# larger window): dues lie within the calendar's years.
EARLIEST, LATEST = datetime(2000, 1, 1, tzinfo=UTC), datetime(2100, 1, 1, tzinfo=UTC)
_NONE = 2**62
_DUE = sa.CSE_NEXT_DUE.name


def bucket(moment: datetime) -> int:
    """The millisecond visibility keeps of `moment` (rounded half up)."""
    micros = (moment - _EPOCH) // timedelta(microseconds=1)
    return (micros + 500) // 1000


def key_of(next_due: datetime | None, referral_id: str) -> SortKey:
    return (next_due is None, _NONE if next_due is None else bucket(next_due), referral_id)


def _edge(ms: int) -> str:
    """The bound half a millisecond before bucket `ms`, as a visibility literal."""
    moment = _EPOCH + timedelta(microseconds=ms * 1000 - 500)
    return quoted(moment.isoformat().replace("+00:00", "Z"))


def _workflow_id(key: SortKey) -> str:
    return quoted(workflow_id_for(key[2]))


def _in_bucket(key: SortKey, compared: str) -> str:
    """The cases due in `key`'s millisecond whose workflow id compares so with `key`'s."""
    bounds = f"{_DUE} >= {_edge(key[1])} AND {_DUE} < {_edge(key[1] + 1)}"
    return f"{bounds} AND WorkflowId {compared} {_workflow_id(key)}"


def after(key: SortKey) -> str:
    """Visibility's clause for the cases whose key is greater than `key`."""
    if key[0]:
        return f"({_DUE} IS NULL AND WorkflowId > {_workflow_id(key)})"
    return f"(({_in_bucket(key, '>')}) OR {_DUE} >= {_edge(key[1] + 1)} OR {_DUE} IS NULL)"


def up_to(key: SortKey) -> str:
    """Visibility's clause for the cases whose key is at most `key`."""
    if key[0]:
        return f"({_DUE} IS NOT NULL OR WorkflowId <= {_workflow_id(key)})"
    return f"({_DUE} < {_edge(key[1])} OR ({_in_bucket(key, '<=')}))"


def before_bucket(ms: int) -> str:
    return f"{_DUE} < {_edge(ms)}"


class Listed(Protocol):
    @property
    def key(self) -> SortKey: ...


Item = TypeVar("Item", bound=Listed)
Count = Callable[[str], Awaitable[int]]
Read = Callable[[str, int | None], Awaitable[list[Item]]]
"""Read the cases of a query (at most `limit` of them, in visibility's order, if given)."""


async def first_after(
    query: str, start: SortKey | None, wanted: int, count: Count, read: Read[Item]
) -> tuple[list[Item], int]:
    """The `wanted` first cases after `start` (fewer if there are not so many), in order,
    and how many cases there are after `start` in all."""
    rest = query + (f" AND {after(start)}" if start else "")
    total = await count(rest)
    found: list[Item] = []
    held = total
    while len(found) < wanted and held > 0:
        window = await _window(rest, held, wanted - len(found), count, read)
        cases = sorted(await read(window, None), key=lambda case: case.key)
        found += cases[: wanted - len(found)]
        if not cases:
            break
        rest = f"{query} AND {after(cases[-1].key)}"
        held = await count(rest) if len(found) < wanted else 0
    return found, total


async def _window(rest: str, held: int, wanted: int, count: Count, read: Read[Item]) -> str:
    """A query for a prefix (in key order) of `rest` (which holds `held` cases) holding at
    least `wanted` cases and, if it can be found in a few counts, at most READ_AT_MOST."""
    window = rest
    for _ in range(ROUNDS):
        if held <= max(READ_AT_MOST, wanted):
            return window
        narrower = await _from_a_sample(rest, window, held, wanted, count, read)
        if narrower is None:
            narrower = await _by_halving(rest, held, wanted, count)
        if narrower is None:
            return window
        window, held = narrower
    return window


async def _from_a_sample(
    rest: str, window: str, held: int, wanted: int, count: Count, read: Read[Item]
) -> tuple[str, int] | None:
    """Guess from the first cases visibility lists; None if the guess did not narrow."""
    sample = sorted(case.key for case in await read(window, min(SAMPLE, held)))
    pick = max(1, round(1.5 * wanted * len(sample) / held))
    while sample:  # a pick that holds too few is raised: at most a few counts
        pick = min(pick, len(sample))
        narrower = f"{rest} AND {up_to(sample[pick - 1])}"
        fits = await count(narrower)
        if fits >= wanted:
            return (narrower, fits) if fits <= max(held // 2, READ_AT_MOST) else None
        if pick == len(sample):
            break
        pick *= 2
    return None


async def _by_halving(rest: str, held: int, wanted: int, count: Count) -> tuple[str, int] | None:
    """The cases due before a time found by halving a span of next dues until it holds
    at least `wanted` and at most READ_AT_MOST cases (or cannot be halved further)."""
    high = bucket(LATEST)
    dated = await count(f"{rest} AND {before_bucket(high)}")
    if dated < wanted:  # every dated case fits; the rest have no next due
        return (f"{rest} AND {before_bucket(high)}", dated) if 0 < dated < held else None
    low, best = bucket(EARLIEST), (f"{rest} AND {before_bucket(high)}", dated)
    for _ in range(ROUNDS * 3):
        if high - low <= 1 or best[1] <= READ_AT_MOST:
            break
        middle = (low + high) // 2
        half = f"{rest} AND {before_bucket(middle)}"
        in_half = await count(half)
        if in_half >= wanted:
            high, best = middle, (half, in_half)
        else:
            low = middle
    return best if best[1] < held else None
