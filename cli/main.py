"""The supervisors' command line: where cases stand and what falls due, from Temporal itself.

    cases [--overdue] [--team T] [--stage S] [--score N] [--json]  the caseload, soonest due first
    case REFERRAL_ID [--json]                                    one case: clocks, timeline
    forecast [--working-days N] [--team T] [--json]              clocks due within N working days
    reindex [--dry-run] [--actor ID] [--json]                    index cases started before it

(or `cse cases|case|forecast ...`). It reads the same settings as the service (TEMPORAL_ADDRESS,
TEMPORAL_NAMESPACE, CSE_TASK_QUEUE, CSE_POLICY_DIR), connects with the project's client
factory and asks edge/caseload.py, the logic the HTTP API uses. Times are UK time.

Exit codes: 0 done, 1 no case has that referral id, 2 bad usage or settings, 3 Temporal did
not answer.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import sys
from collections.abc import Sequence
from typing import NoReturn

from pydantic import ValidationError

from cli.commands import CommandError, run
from domain.errors import field_errors
from domain.vocabulary import Stage
from edge.caseload import CaseFilter, ForecastAsk
from edge.settings import SettingsRefused, read_settings

REFERRAL_ID = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"
SETTINGS_EPILOG = (
    "Settings come from the environment, as the service's: TEMPORAL_ADDRESS, "
    'TEMPORAL_NAMESPACE and CSE_ variables (README "Settings"; the commands: README '
    '"Dashboard and command line"). Exit codes: 0 done, 1 no case has that referral id, '
    "2 bad usage or settings (one line naming the setting), 3 Temporal did not answer."
)


def add_json(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print JSON for scripts")


def add_cases(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--stage", choices=[s.value for s in Stage], help="only this stage")
    parser.add_argument("--team", help="only this team")
    parser.add_argument(
        "--overdue",
        action=argparse.BooleanOptionalAction,
        help="only overdue cases (--no-overdue: only those on time)",
    )
    parser.add_argument("--score", type=int, help="only this latest risk score (0-3)")
    parser.add_argument("--limit", type=int, default=1000, help="show at most this many cases")
    add_json(parser)


def add_case(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("referral_id", help="the referral id the case was started with")
    add_json(parser)


def add_forecast(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--working-days", type=int, default=5, help="how far ahead (default 5)")
    parser.add_argument("--team", help="only this team")
    add_json(parser)


def add_reindex(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--dry-run", action="store_true", help="only count the cases")
    parser.add_argument("--actor", default="cse-reindex", help="who asks, kept in each case")
    add_json(parser)


COMMANDS = {
    "cases": (add_cases, "the caseload, soonest due first (search attributes only)"),
    "case": (add_case, "one case: stage, clocks with their ladder steps, timeline"),
    "forecast": (add_forecast, "running clocks falling due within N working days"),
    "reindex": (add_reindex, "give open cases started before the child index their index"),
}


def parser_for(command: str | None) -> argparse.ArgumentParser:
    """`cse` with a subcommand each, or one command's own parser (`cases`, `case`...)."""
    if command is not None:
        add, summary = COMMANDS[command]
        parser = argparse.ArgumentParser(prog=command, description=summary, epilog=SETTINGS_EPILOG)
        add(parser)
        parser.set_defaults(command=command)
        return parser
    parser = argparse.ArgumentParser(
        prog="cse", description=__doc__.split("\n\n")[0], epilog=SETTINGS_EPILOG
    )
    subparsers = parser.add_subparsers(dest="command", required=True)
    for name, (add, summary) in COMMANDS.items():
        add(subparsers.add_parser(name, help=summary, description=summary, epilog=SETTINGS_EPILOG))
    return parser


def check(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """What argparse cannot say by itself; exits 2 naming the argument."""
    if args.command == "case" and not re.fullmatch(REFERRAL_ID, args.referral_id):
        parser.error(f"referral id {args.referral_id!r}: letters, digits, '_', '.', '-' only")
    if args.command == "cases" and not 1 <= args.limit <= 100_000:
        parser.error("--limit: give a number from 1 to 100000")
    try:
        if args.command == "cases":
            args.wanted = CaseFilter(
                stage=args.stage, team=args.team, overdue=args.overdue, score=args.score
            )
        if args.command == "forecast":
            args.forecast = ForecastAsk(working_days=args.working_days, team=args.team)
    except ValidationError as err:  # the limits the API's query parameters have too
        parser.error("; ".join(f"--{p.replace('_', '-')}" for p in field_errors(err)))


def main(argv: Sequence[str] | None = None, command: str | None = None) -> int:
    parser = parser_for(command)
    args = parser.parse_args(argv)
    check(parser, args)
    try:
        settings = read_settings()
    except SettingsRefused as err:
        print(f"settings refused: {err}", file=sys.stderr)
        return 2
    try:
        return asyncio.run(run(settings, args))
    except CommandError as err:
        print(err, file=sys.stderr)
        return err.exit_code


def finish(code: int) -> NoReturn:
    """Exit now: the SDK's native threads can abort a normal interpreter shutdown."""
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def cse() -> NoReturn:
    finish(main())


def cases() -> NoReturn:
    finish(main(command="cases"))


def case() -> NoReturn:
    finish(main(command="case"))


def forecast() -> NoReturn:
    finish(main(command="forecast"))


if __name__ == "__main__":
    cse()
