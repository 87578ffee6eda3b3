"""Row 1: a full case's updates per second against the minimal workflow's (bench_case)."""

from __future__ import annotations

from bench import bench_case
from bench.report import Row
from bench.stand import Stand

GOAL = 0.95


async def throughput_row(stand: Stand) -> list[Row]:
    cases = stand.sizes.throughput_cases
    concurrency = 5
    address = stand.shared_server()
    with stand.track.step("row 1: bare, plaintext and sealed cases", total=3 * cases) as tick:
        figures = await bench_case.measure(address, cases, concurrency, tick)
    full, bare, sealed = (figures.rate(s) for s in (figures.full, figures.bare, figures.sealed))
    ratio = full / bare
    return [
        Row(
            number=1,
            what="full-case updates/s vs minimal",
            measured=f"{full:.1f} updates/s",
            baseline=f"{bare:.1f} updates/s",
            ratio=f"{ratio:.2f}",
            goal=f">= {GOAL}",
            met=ratio >= GOAL,
            how=(
                f"`bench.bench_case.measure`: {cases} full cases of each kind (9 updates each, "
                f"from referral to closed), {concurrency} at a time, against as many minimal "
                "workflows whose update does nothing, all served by workers in the benchmark's "
                "own process (bench-local `notify`, real `earlier_cases`), on the dev server on "
                "a SQLite file. Plaintext against plaintext, as `python -m bench.bench_case` "
                "reports it."
            ),
            details=[
                f"sealed payloads (AES-256-GCM, as in service): {sealed:.1f} updates/s, "
                f"{sealed / bare:.2f} of the minimal's, {sealed / full:.2f} of plaintext's",
            ],
        )
    ]
