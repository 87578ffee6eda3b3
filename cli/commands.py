"""What each command asks Temporal, through the project's client factory and edge/caseload.py.

CommandError carries the exit code: 1 no such case, 2 unusable settings (a policy folder),
3 Temporal or the case did not answer (not reachable, timed out, or the case is stuck: what
is wrong and what the operator should do, from edge/diagnosis.py). Whatever Temporal answers
becomes one or two lines, never a traceback.
"""

from __future__ import annotations

import argparse
from datetime import UTC, datetime, timedelta

from temporalio.client import Client
from temporalio.exceptions import TemporalError
from temporalio.service import RPCError, RPCStatusCode

from cli import tables
from cli.reindex import reindex
from contract.visibility import latest_case_run
from domain.policy import PolicyError
from domain.referral import workflow_id_for
from domain.status import CaseStatus
from edge.caseload import (
    MAX_PAGE_SIZE,
    CaseFilter,
    CaseloadError,
    CaseSummary,
    ForecastAsk,
    forecast_cutoff,
    list_cases,
)
from edge.caseload import forecast as clocks_due
from edge.client import connect
from edge.codec import CodecKeyError, PayloadSealError
from edge.config_files import load_policy_book
from edge.diagnosis import Diagnosis, why_ended, why_failed, why_stuck
from edge.settings import Settings

EXIT_NOT_FOUND, EXIT_USAGE, EXIT_UNAVAILABLE = 1, 2, 3
QUERY_TIMEOUT = timedelta(seconds=10)


class CommandError(Exception):
    def __init__(self, message: str, exit_code: int) -> None:
        super().__init__(message)
        self.exit_code = exit_code


async def run(settings: Settings, args: argparse.Namespace) -> int:
    client = await _connect(settings)
    try:
        if args.command == "cases":
            await show_cases(client, settings, args)
        elif args.command == "case":
            await show_case(client, args.referral_id, args.json)
        elif args.command == "reindex":
            return await index_cases(client, settings, args)
        else:
            await show_forecast(client, settings, args)
    except (TemporalError, PayloadSealError) as err:
        raise _unavailable(settings, err) from None
    except CaseloadError as err:
        raise CommandError(str(err), EXIT_USAGE) from None
    return 0


async def _connect(settings: Settings) -> Client:
    try:
        return await connect(settings)
    except RuntimeError as err:  # the SDK's "Failed client connect"
        raise _unavailable(settings, err) from None
    except CodecKeyError as err:
        raise CommandError(str(err), EXIT_USAGE) from None


def _unavailable(settings: Settings, err: Exception) -> CommandError:
    detail = err.message if isinstance(err, RPCError) else str(err) or type(err).__name__
    return CommandError(
        f"Temporal at {settings.temporal_address} did not answer: {detail}", EXIT_UNAVAILABLE
    )


def _stuck(referral_id: str, trouble: Diagnosis) -> CommandError:
    return CommandError(tables.trouble_lines(referral_id, trouble), EXIT_UNAVAILABLE)


async def show_cases(client: Client, settings: Settings, args: argparse.Namespace) -> None:
    wanted: CaseFilter = args.wanted
    found: list[CaseSummary] = []
    token: str | None = None
    while True:  # every page, up to the limit: a keyset cursor, so nothing shown twice
        size = min(MAX_PAGE_SIZE, args.limit - len(found))
        page = await list_cases(client, settings.task_queue, wanted, size, token)
        found += page.cases
        token = page.next_page_token
        if token is None or len(found) >= args.limit:
            break
    tables.print_cases(found, more=token is not None, as_json=args.json)


async def show_case(client: Client, referral_id: str, as_json: bool) -> None:
    """The case's status; a stuck case says why (at once when describe() shows it), and a
    case whose run ended without the pathway closing it says so and how to bring it back."""
    workflow_id = workflow_id_for(referral_id)
    case_run = await latest_case_run(client, workflow_id)
    ended = None if case_run is None else await why_ended(client, case_run)
    if ended is not None:
        raise _stuck(referral_id, ended)
    run_id = None if case_run is None else case_run.run_id
    handle = client.get_workflow_handle(workflow_id, run_id=run_id)
    try:
        described = await handle.describe(rpc_timeout=QUERY_TIMEOUT)
    except RPCError as err:
        if err.status == RPCStatusCode.NOT_FOUND:
            raise CommandError(f"no case has referral id {referral_id}", EXIT_NOT_FOUND) from None
        raise
    trouble = await why_stuck(client, described)
    if trouble is not None:
        raise _stuck(referral_id, trouble)
    try:
        status = await handle.query("status", result_type=CaseStatus, rpc_timeout=QUERY_TIMEOUT)
    except Exception as err:
        trouble = await why_failed(client, handle.id, None, err, "this command's")
        if trouble is None:
            raise
        raise _stuck(referral_id, trouble) from None
    tables.print_case(status, as_json=as_json)


async def show_forecast(client: Client, settings: Settings, args: argparse.Namespace) -> None:
    try:
        book = load_policy_book(settings.policy_dir)
    except PolicyError as err:
        problem = f"CSE_POLICY_DIR: {err} (set it to the service's policy folder)"
        raise CommandError(problem, EXIT_USAGE) from None
    ask: ForecastAsk = args.forecast
    cutoff = forecast_cutoff(book, datetime.now(UTC), ask.working_days)
    due = await clocks_due(client, settings.task_queue, cutoff, ask.team)
    tables.print_forecast(due, ask.working_days, cutoff, as_json=args.json)


async def index_cases(client: Client, settings: Settings, args: argparse.Namespace) -> int:
    """`reindex`: counts only; exit 3 when a case did not answer (run it again)."""
    tally = await reindex(client, settings.task_queue, args.actor, args.dry_run)
    print(tally.as_json() if args.json else "\n".join(tally.lines()))
    return EXIT_UNAVAILABLE if tally.not_answered else 0
