"""Benchmark: GET /cases?overdue=true over a caseload of 10,000 cases (goal: p95 < 300 ms).

    .venv/bin/python -m bench.caseload_listing [--cases 10000] [--requests 200]

Starts a Temporal dev server (in memory) and the project's worker on a task queue of its own,
unless TEMPORAL_ADDRESS is set (then a worker must already serve --task-queue there). Starts
the cases concurrently (bounded), a share of them received ten days ago so they are overdue
at once, waits (bounded) until visibility lists them all, then serves the API with
`python -m api` and times the listing over HTTP, with GET /health measured in the same run
as the baseline. Not a test: it prints numbers and stops everything it started.
Row 7 of `python -m bench` runs `measure` here (every listing read afresh) over its caseload.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import secrets
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

from api.auth import token_digest
from bench.rig import (
    BIN,
    clean_env,
    dev_server,
    free_port,
    percentile,
    process,
    wait_for,
    worker_process,
)
from domain.referral import Referral
from edge.client import connect
from edge.codec import new_key_item
from edge.intake import start_case
from edge.settings import Settings

LISTED_TIMEOUT = 900.0
PACE = 0.05  # seconds between listing requests when listings are shared

# Sealed, as a borough runs it: the caller's key (an existing worker's), or one for this run.
CODEC_KEYS = os.environ.get("CSE_CODEC_KEYS") or new_key_item("bench")


@contextlib.contextmanager
def temporal(folder: Path, task_queue: str) -> Iterator[str]:
    """TEMPORAL_ADDRESS if given, else a dev server of our own (in memory) with the project's
    worker."""
    if os.environ.get("TEMPORAL_ADDRESS"):
        yield os.environ["TEMPORAL_ADDRESS"]
        return
    with (
        dev_server(folder, persisted=False) as address,
        worker_process(folder, address, task_queue, CODEC_KEYS),
    ):
        yield address


def is_late(n: int, overdue_share: float) -> bool:
    """Every (1 / share)th case is received ten days ago, so it is overdue at once."""
    return overdue_share > 0 and n % max(1, round(1 / overdue_share)) == 0


def referrals(count: int, overdue_share: float) -> Iterator[Referral]:
    now = datetime.now(UTC).replace(microsecond=0)
    for n in range(count):
        late = is_late(n, overdue_share)
        yield Referral(
            referral_id=f"BENCH-{uuid.uuid4().hex[:12]}",
            received_at=now - (timedelta(days=10) if late else timedelta(minutes=1)),
            child_ref=f"PERSON-{n}",
            team=f"BENCH-{n % 20:02d}",
            referrer_agency="bench",
        )


async def create_cases(settings: Settings, count: int, overdue_share: float, width: int) -> None:
    client = await connect(settings)
    limit = asyncio.Semaphore(width)

    async def one(referral: Referral) -> None:
        async with limit:
            await start_case(client, referral, settings.task_queue)

    started = time.monotonic()
    await asyncio.gather(*(one(r) for r in referrals(count, overdue_share)))
    print(f"started {count} cases in {time.monotonic() - started:.1f} s", flush=True)


async def count(settings: Settings, query: str) -> int:
    client = await connect(settings)
    return (await client.count_workflows(query)).count


def wait_listed(settings: Settings, expected_total: int, expected_overdue: int) -> None:
    base = f"WorkflowType = 'ReferralWorkflow' AND TaskQueue = '{settings.task_queue}'"
    started = time.monotonic()

    def listed() -> bool:
        total = asyncio.run(count(settings, f"{base} AND CseStage IS NOT NULL"))
        overdue = asyncio.run(count(settings, f"{base} AND CseOverdue = true"))
        print(f"  visibility: {total}/{expected_total} published, {overdue} overdue", flush=True)
        return total >= expected_total and overdue >= expected_overdue

    wait_for("visibility to list every case", listed, LISTED_TIMEOUT, every=0.5)
    print(f"all cases published in visibility after {time.monotonic() - started:.1f} s")


def timed(
    client: httpx.Client, path: str, requests: int, headers: dict[str, str], pace: float = 0.0
) -> list[float]:
    """Latencies in ms; `pace` seconds between requests, like supervisors refreshing."""
    client.get(path, headers=headers).raise_for_status()  # warm up
    samples = []
    for _ in range(requests):
        time.sleep(pace)
        started = time.perf_counter()
        answer = client.get(path, headers=headers)
        samples.append((time.perf_counter() - started) * 1000)
        answer.raise_for_status()
    return samples


def report(name: str, samples: list[float]) -> float:
    p50, p95, p99 = (percentile(samples, p) for p in (50, 95, 99))
    print(
        f"{name:<32} n={len(samples)} p50={p50:.1f} ms p95={p95:.1f} ms p99={p99:.1f} ms "
        f"mean={statistics.fmean(samples):.1f} ms"
    )
    return p95


def measure(
    settings: Settings, folder: Path, requests: int, max_age: float
) -> tuple[list[float], list[float]]:
    """Time the API as `python -m api` serves it, with listings shared for `max_age` s;
    returns the latencies (ms) of `GET /cases?overdue=true` and of `GET /health`."""
    how = f"listings shared {max_age:g} s" if max_age else "every listing read afresh"
    print(f"-- python -m api, CSE_API_LISTING_MAX_AGE={max_age:g} ({how})")
    token = secrets.token_urlsafe(24)
    users = folder / "users.toml"
    digest = token_digest(token)
    users.write_text(
        f'[users."hos@example.org"]\nrole = "head_of_service"\ntoken_sha256 = "{digest}"\n'
    )
    port = free_port()
    keys = settings.codec_keys.get_secret_value() if settings.codec_keys else CODEC_KEYS
    env = clean_env(
        keys,
        TEMPORAL_ADDRESS=settings.temporal_address,
        CSE_TASK_QUEUE=settings.task_queue,
        CSE_USERS_FILE=str(users),
        CSE_API_PORT=str(port),
        CSE_LOG_LEVEL="WARNING",
        CSE_API_LISTING_MAX_AGE=str(max_age),
    )
    url = f"http://127.0.0.1:{port}"
    with (
        process([str(BIN / "python"), "-m", "api"], folder / "api.log", env),
        httpx.Client(base_url=url, timeout=30) as client,
    ):

        def up() -> bool:
            with contextlib.suppress(httpx.TransportError):
                return client.get("/health").status_code == 200
            return False

        wait_for("python -m api", up)
        headers = {"Authorization": f"Bearer {token}"}
        first = client.get("/cases", params={"overdue": "true"}, headers=headers).json()
        print(f"GET /cases?overdue=true answers {len(first['cases'])} cases a page")
        # Shared listings are timed at a pace that spans several windows, so the reads that
        # refresh a window are part of the sample, not just the requests answered from it.
        pace = PACE if max_age else 0.0
        overdue = timed(client, "/cases?overdue=true", requests, headers, pace)
        listing = report("GET /cases?overdue=true", overdue)
        health_samples = timed(client, "/health", requests, {})
        health = report("GET /health (baseline)", health_samples)
        verdict = "met" if listing < 300 else "NOT met"
        print(f"p95 ratio listing / health: {listing / health:.1f}x; goal p95 < 300 ms: {verdict}")
        return overdue, health_samples


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cases", type=int, default=10_000)
    parser.add_argument("--overdue-share", type=float, default=0.1)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--start-concurrency", type=int, default=50)
    parser.add_argument("--task-queue", default=f"bench-{uuid.uuid4().hex[:8]}")
    parser.add_argument(
        "--existing", action="store_true", help="measure cases already on --task-queue"
    )
    args = parser.parse_args()
    overdue = sum(1 for n in range(args.cases) if is_late(n, args.overdue_share))
    with (
        tempfile.TemporaryDirectory(prefix="bench-caseload-") as tmp,
        temporal(Path(tmp), args.task_queue) as address,
    ):
        settings = Settings(
            temporal_address=address, task_queue=args.task_queue, codec_keys=CODEC_KEYS
        )
        if not args.existing:
            asyncio.run(
                create_cases(settings, args.cases, args.overdue_share, args.start_concurrency)
            )
            wait_listed(settings, args.cases, overdue)
        for max_age in (Settings().api_listing_max_age, 0.0):
            measure(settings, Path(tmp), args.requests, max_age)
    return 0


if __name__ == "__main__":
    sys.exit(main())
