"""A living demo caseload: about forty synthetic cases, then one MASE panel run.

    cse-demo          (or `python -m cli.demo`; `scripts/run.sh --demo` runs it for you)

Against a running service on this machine only: TEMPORAL_ADDRESS, CSE_API_HOST and
CSE_PUBLIC_URL must all be loopback, and no directory of real addresses (CSE_DIRECTORY_FILE)
or GOV.UK Notify key may be set, or it refuses (exit 2) and touches nothing. It reads the
service's own settings (CSE_TASK_QUEUE, CSE_CODEC_KEYS, CSE_PANEL_SCHEDULE_ID, ...) and drives
cases through the project's client exactly as an intake system and practitioners would: each
case starts with REJECT_DUPLICATE + FAIL and its events are updates dated in the past, so the
service's clocks catch up at once. Some clocks are open, some met, some breached with their
escalation ladder sent (only the most severe step due is sent; notifications go where the
service sends them, by default its outbox file), some cases have missing episodes, some are
referred to MASE, and some reviews have closed their case. Then the panel runs once, so the
agenda and the oversight report exist (`/reports/<run date>/...`).

The cases are the case book, cli/demo_book.toml (cli/demo_book.py reads it). Every case is
synthetic: referral ids `DEMO-nnnn`, children `PERSON-DEMO-nnnn` (one referred twice: a
re-referral, when the worker has CSE_INDEX_KEYS), teams DEMO-NORTH (the first-run social
worker's and manager's, api/first_run.py) and DEMO-SOUTH, actors at example.org. A second
run skips the referral ids that already have a case, so it changes nothing but may run the
panel again for a new day.

Exit codes: 0 done, 1 some case was refused (named with the rule), 2 not on loopback or bad
settings, 3 Temporal did not answer.
"""

from __future__ import annotations

import asyncio
import os
import sys
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urlsplit

from temporalio.client import (
    Client,
    WorkflowExecutionStatus,
    WorkflowUpdateFailedError,
)
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError

from cli.demo_book import PREFIX as PREFIX  # PREFIX and STORIES: tests/api/test_demo_caseload.py
from cli.demo_book import STORIES as STORIES
from cli.demo_book import TEAMS, DemoCase, demo_cases
from contract import search_attributes as sa
from contract.visibility import quoted
from contract.workflows import PanelOutcome
from domain.calendar import LONDON
from domain.oversight import PanelRun
from domain.status import Receipt
from domain.vocabulary import Stage
from edge.client import connect
from edge.codec import CodecKeyError
from edge.intake import CaseExists, start_case
from edge.loopback import address_host, is_loopback
from edge.settings import Settings, SettingsRefused, read_settings

CONNECT_TIMEOUT = 15.0
VISIBILITY_WAIT = 30.0
INDEX_WAIT = 10.0  # for a child's first case to be listed under its index
PANEL_TIMEOUT = 120.0
CONCURRENCY = 6


class DemoRefused(Exception):
    """The demo will not run here; `exit_code` says why."""

    def __init__(self, message: str, exit_code: int) -> None:
        super().__init__(message)
        self.exit_code = exit_code


# ---- against the service ---------------------------------------------------------------------


def refuse_unless_loopback(settings: Settings) -> None:
    """Synthetic cases go only into a service on this machine that notifies nobody (as far as
    this process's settings tell: run it with the service's environment)."""
    places = {
        "TEMPORAL_ADDRESS": address_host(settings.temporal_address),
        "CSE_API_HOST": settings.api_host,
        "CSE_PUBLIC_URL": urlsplit(settings.public_url).hostname or settings.public_url,
    }
    for name, host in places.items():
        if not is_loopback(host):
            raise DemoRefused(
                f"refused: {name} points at {host}, not this machine. The demo caseload is "
                "made only on a service on loopback (127.0.0.0/8, ::1 or localhost)",
                2,
            )
    channels = {
        "CSE_DIRECTORY_FILE": settings.directory_file,
        "CSE_GOVUK_NOTIFY_API_KEY": settings.govuk_notify_api_key,
    }
    for name, value in channels.items():
        if value is not None:
            raise DemoRefused(
                f"refused: {name} is set, so the demo's back-dated cases would send their "
                "reminders and escalations to real people. Run the demo on a service that "
                "writes notifications to its outbox file only",
                2,
            )


@dataclass(frozen=True)
class Seeded:
    new: list[DemoCase]
    existing: int
    refused: list[str]


async def seed_case(client: Client, task_queue: str, case: DemoCase) -> tuple[str, str | None]:
    """Start one case and record its events: ("new" | "existing" | "refused", why)."""
    try:
        handle = client.get_workflow_handle(await start_case(client, case.referral, task_queue))
    except CaseExists:
        return "existing", None
    for event in case.events:
        try:
            await handle.execute_update(event.name, event, result_type=Receipt)
        except WorkflowUpdateFailedError as err:
            cause = err.cause
            why = getattr(cause, "message", None) or str(cause)
            return "refused", f"{case.referral.referral_id}: {event.name} refused: {why}"
    return "new", None


async def seed(client: Client, settings: Settings, cases: Sequence[DemoCase]) -> Seeded:
    """Every case; a child's second referral only once visibility lists the first under the
    child's index (it lags a moment), so the second finds it: a re-referral."""
    first = [case for case in cases if not case.story.same_child_as]
    again = [case for case in cases if case.story.same_child_as]
    seeded = await seed_each(client, settings, first)
    if again:
        children = {case.referral.child_ref for case in again}
        earlier = [case.workflow_id for case in first if case.referral.child_ref in children]
        await indexed(client, settings, earlier, INDEX_WAIT)
        seeded |= await seed_each(client, settings, again)
    outcomes = [seeded[case.workflow_id] for case in cases]
    return Seeded(
        new=[case for case, (kind, _) in zip(cases, outcomes, strict=True) if kind == "new"],
        existing=sum(kind == "existing" for kind, _ in outcomes),
        refused=[why for kind, why in outcomes if kind == "refused" and why],
    )


async def seed_each(
    client: Client, settings: Settings, cases: Sequence[DemoCase]
) -> dict[str, tuple[str, str | None]]:
    gate = asyncio.Semaphore(CONCURRENCY)

    async def one(case: DemoCase) -> tuple[str, str | None]:
        async with gate:
            return await seed_case(client, settings.task_queue, case)

    outcomes = await asyncio.gather(*(one(case) for case in cases))
    return {case.workflow_id: outcome for case, outcome in zip(cases, outcomes, strict=True)}


async def indexed(client: Client, settings: Settings, ids: Sequence[str], within: float) -> None:
    """Wait until visibility lists these cases with a child index; a worker without index
    keys gives none, and then, after `within` seconds, the cases are simply not linked."""
    query = (
        f"TaskQueue = {quoted(settings.task_queue)} AND {sa.CSE_CHILD_INDEX.name} IS NOT NULL "
        f"AND WorkflowId IN ({', '.join(quoted(i) for i in ids)})"
    )
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if len({run.id async for run in client.list_workflows(query)}) >= len(set(ids)):
            return
        await asyncio.sleep(0.5)


@dataclass(frozen=True)
class Listed:
    stage: str | None
    overdue: bool


async def listed(client: Client, settings: Settings, ids: Sequence[str]) -> dict[str, Listed]:
    """What visibility shows of these cases (search attributes only)."""
    query = (
        f"WorkflowType = 'ReferralWorkflow' AND TaskQueue = {quoted(settings.task_queue)} "
        f"AND WorkflowId IN ({', '.join(quoted(i) for i in ids)})"
    )
    found: dict[str, Listed] = {}
    async for run in client.list_workflows(query):
        if run.status == WorkflowExecutionStatus.FAILED:
            continue
        attributes = run.typed_search_attributes
        found[run.id] = Listed(
            stage=attributes.get(sa.CSE_STAGE), overdue=bool(attributes.get(sa.CSE_OVERDUE))
        )
    return found


async def visible(
    client: Client,
    settings: Settings,
    cases: Sequence[DemoCase],
    seeded: Sequence[DemoCase],
    within: float,
) -> dict[str, Listed]:
    """Wait (visibility lags a moment behind the cases) until every case is listed, and
    those just seeded at their story's stage."""
    ids = [c.workflow_id for c in cases]
    wanted = {c.workflow_id: c.story.stage.value for c in seeded}
    deadline = time.monotonic() + within
    while True:
        found = await listed(client, settings, ids)
        if all(i in found for i in ids) and all(
            found[i].stage == stage for i, stage in wanted.items()
        ):
            return found
        if time.monotonic() > deadline:
            return found
        await asyncio.sleep(0.5)


async def run_panel(client: Client, settings: Settings, now: datetime, fresh: bool) -> PanelOutcome:
    """One run of the panel, as the Schedule's action starts it; once a day unless new cases
    were seeded since (then it runs again, so the documents show them)."""
    day = now.astimezone(LONDON).date()
    workflow_id = f"{settings.panel_schedule_id}-demo-{day:%Y%m%d}"
    reuse = (
        WorkflowIDReusePolicy.ALLOW_DUPLICATE
        if fresh
        else WorkflowIDReusePolicy.ALLOW_DUPLICATE_FAILED_ONLY
    )
    try:
        handle = await client.start_workflow(
            "MasePanelWorkflow",
            PanelRun(panel_name=settings.panel_name),
            id=workflow_id,
            task_queue=settings.task_queue,
            id_reuse_policy=reuse,
            id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
            result_type=PanelOutcome,
        )
    except WorkflowAlreadyStartedError:  # today's run is done and nothing new came since
        handle = client.get_workflow_handle(workflow_id, result_type=PanelOutcome)
    return await asyncio.wait_for(handle.result(), timeout=PANEL_TIMEOUT)


async def demo(settings: Settings, out: Callable[[str], None]) -> int:
    refuse_unless_loopback(settings)
    try:
        client = await asyncio.wait_for(connect(settings), timeout=CONNECT_TIMEOUT)
    except CodecKeyError as err:
        raise DemoRefused(f"refused: {err}", 2) from None
    except (RuntimeError, TimeoutError, RPCError) as err:
        raise DemoRefused(
            f"Temporal did not answer at {settings.temporal_address}: {err}", 3
        ) from None
    now = datetime.now(UTC).replace(microsecond=0)
    cases = demo_cases(now)
    started = time.monotonic()
    seeded = await seed(client, settings, cases)
    found = await visible(client, settings, cases, seeded.new, VISIBILITY_WAIT)
    took = time.monotonic() - started
    stages = Counter(entry.stage for entry in found.values())
    overdue = sum(entry.overdue for entry in found.values())
    out(
        f"Demo caseload: {len(seeded.new)} cases seeded, {seeded.existing} already there "
        f"({PREFIX}0001 to {PREFIX}{len(cases):04d}, teams {', '.join(TEAMS)}; {took:.1f} s)."
    )
    by_stage = ", ".join(f"{s.value} {stages[s.value]}" for s in Stage if stages[s.value])
    out(f"  listed: {len(found)} ({by_stage}); {overdue} overdue")
    for why in seeded.refused:
        out(f"  REFUSED {why}")
    outcome = await run_panel(client, settings, now, fresh=bool(seeded.new))
    out(
        f"{settings.panel_name} panel run {outcome.run_date}: {outcome.referred} referred, "
        f"{outcome.not_referred} scoring 1-3 not referred"
    )
    base = settings.public_url.rstrip("/")
    for name, what in (("agenda.html", "agenda"), ("oversight.html", "oversight report")):
        if name in outcome.links:
            out(f"  {what:<17}{base}{outcome.links[name]}")
    return 1 if seeded.refused else 0


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if args:
        print(__doc__, file=sys.stderr)
        return 0 if args in (["-h"], ["--help"]) else 2
    try:
        settings = read_settings()
    except SettingsRefused as err:
        print(f"settings refused: {err}", file=sys.stderr)
        return 2
    try:
        return asyncio.run(demo(settings, print))
    except DemoRefused as err:
        print(err, file=sys.stderr)
        return err.exit_code


def entry_point() -> None:
    """The `cse-demo` console script."""
    code = main()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)  # the SDK's native threads can abort a normal interpreter shutdown


if __name__ == "__main__":
    entry_point()
