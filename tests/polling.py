"""The one way tests wait for something that happens elsewhere (a worker, a server, visibility).

- `settled(probe, holds)`: the first answer that `holds`, or the last one when time runs out,
  so the test's own assert shows what it saw;
- `eventually(what, probe)`: the first truthy answer, or AssertionError naming `what`;
- `wait_until(what, probe)`: `eventually` for a plain (blocking) probe.

The other waiting helpers (`tests/api/conftest.py`, `tests/workflows/helpers.py`,
`tests/e2e/conftest.py`, `tests/faults/ledger.py`, ...) are thin wrappers over these.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

T = TypeVar("T")

WITHIN = 10.0
"""Seconds to wait unless told: long enough for a busy 2-core machine."""


async def settled(
    probe: Callable[[], Awaitable[T]],
    holds: Callable[[T], bool],
    within: float = WITHIN,
    interval: float = 0.05,
    retrying: tuple[type[Exception], ...] = (),
) -> T:
    """Await `probe` until its answer `holds`; after `within` seconds, its last answer.

    An exception of a `retrying` type counts as "not yet" until time runs out, then is raised.
    """
    deadline = time.monotonic() + within
    while True:
        try:
            answer = await probe()
        except retrying:
            if time.monotonic() > deadline:
                raise
        else:
            if holds(answer) or time.monotonic() > deadline:
                return answer
        await asyncio.sleep(interval)


async def eventually(
    what: str,
    probe: Callable[[], Awaitable[T | None]],
    within: float = WITHIN,
    interval: float = 0.2,
    retrying: tuple[type[Exception], ...] = (),
) -> T:
    """Await `probe` until it answers something truthy; fail naming `what` after `within` s."""
    answer = await settled(probe, bool, within, interval, retrying)
    if not answer:
        raise AssertionError(f"timed out after {within:.0f} s waiting for {what}")
    return answer


def wait_until(
    what: str, probe: Callable[[], T | None], within: float = WITHIN, interval: float = 0.2
) -> T:
    """Call `probe` until it answers something truthy; fail naming `what` after `within` s."""
    deadline = time.monotonic() + within
    while not (answer := probe()):
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {within:.0f} s waiting for {what}")
        time.sleep(interval)
    return answer
