"""Intake: start a case from a referral JSON file.

    python starter.py referral.json

Prints the workflow id. Bad input (a bad field, a referral received in the future, a team
that is not one of CSE_TEAMS, a placing or host authority that is not in the directory of
CSE_DIRECTORY_FILE) exits 2 listing each bad field; a referral id that already has a case
exits 3 and leaves that case untouched. It reads the service's settings (TEMPORAL_*,
CSE_TASK_QUEUE, CSE_CODEC_KEYS, CSE_TEAMS, CSE_DIRECTORY_FILE and CSE_POLICY_DIR, whose
clock-skew tolerance says what "in the future" is); a bad setting, or a Temporal that does
not answer, exits 2 with one line naming it.
"""

import argparse
import asyncio
import os
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import NoReturn

from domain.directory import DirectoryError
from domain.policy import PolicyError
from domain.referral import Referral
from edge.client import connect, is_unreachable, unreachable_reason
from edge.codec import CodecKeyError
from edge.config_files import known_authorities, load_policy_book
from edge.intake import (
    CaseExists,
    IntakeRefused,
    referral_from_json,
    refuse_an_unknown_authority,
    refuse_an_unknown_team,
    take_referral,
)
from edge.settings import Settings, SettingsRefused, read_settings

EXIT_BAD_INPUT, EXIT_CASE_EXISTS, EXIT_USAGE, EXIT_NO_INPUT = 2, 3, 64, 66


class NotStarted(Exception):
    """Intake could not run at all (settings, key, policy folder, Temporal); exits 2."""


class Usage(argparse.ArgumentParser):
    """Usage errors exit 64 (EX_USAGE), apart from a refused referral's 2."""

    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(EXIT_USAGE, f"{self.prog}: {message}\n")


def usage() -> argparse.ArgumentParser:
    parser = Usage(
        prog="starter.py",
        description="Intake: start a case from a referral JSON file; prints its workflow id.",
        epilog="Settings come from the environment: TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE and "
        'CSE_ variables (README "Settings"). Exit codes: 0 started, 2 a bad referral (each bad '
        "field named) or not started (one line naming the setting or problem), 3 the referral "
        "id already has a case, 64 bad usage, 66 the file cannot be read.",
    )
    parser.add_argument("referral", help='the referral, a JSON file (README "Running it")')
    return parser


async def intake(settings: Settings, referral: Referral) -> str:
    refuse_an_unknown_team(referral, settings.teams)  # named before Temporal is asked
    try:
        authorities = list(known_authorities(settings.directory_file))
        refuse_an_unknown_authority(referral, authorities)
        book = load_policy_book(settings.policy_dir)
        client = await connect(settings)
    except (CodecKeyError, PolicyError, DirectoryError) as err:
        raise NotStarted(f"not started: {err}") from None
    except RuntimeError as err:
        if not is_unreachable(err):
            raise
        where = f"Temporal at {settings.temporal_address}"
        raise NotStarted(
            f"not started: {where} did not answer: {unreachable_reason(err)}"
        ) from None
    now = datetime.now(UTC)
    return await take_referral(
        client,
        referral,
        settings.task_queue,
        book,
        now,
        teams=settings.teams,
        authorities=authorities,
    )


def exit_code(err: IntakeRefused) -> int:
    return EXIT_CASE_EXISTS if isinstance(err, CaseExists) else EXIT_BAD_INPUT


def main(argv: list[str]) -> int:
    path = usage().parse_args(argv[1:]).referral
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as err:
        print(f"cannot read {path}: {err.strerror}", file=sys.stderr)
        return EXIT_NO_INPUT
    try:
        settings = read_settings()
    except SettingsRefused as err:
        print(f"not started: {err}", file=sys.stderr)
        return EXIT_BAD_INPUT
    try:
        print(asyncio.run(intake(settings, referral_from_json(text))))
    except IntakeRefused as err:
        print(err, file=sys.stderr)
        return exit_code(err)
    except NotStarted as err:
        print(err, file=sys.stderr)
        return EXIT_BAD_INPUT
    return 0


if __name__ == "__main__":
    code = main(sys.argv)
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)  # the SDK's native threads can abort a normal interpreter shutdown
