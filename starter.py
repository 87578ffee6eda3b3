"""Intake: start a case from a referral JSON file.

    python starter.py referral.json

Prints the workflow id. Bad input (a bad field, a referral received in the future) exits 2
listing each bad field; a referral id that already has a case exits 3 and leaves that case
untouched. It reads the service's settings (TEMPORAL_*, CSE_TASK_QUEUE, CSE_CODEC_KEYS, and
CSE_POLICY_DIR, whose clock-skew tolerance says what "in the future" is).
"""

import asyncio
import os
import sys
from datetime import UTC, datetime
from pathlib import Path

from pydantic import ValidationError

from domain.errors import field_errors
from domain.policy import PolicyError
from domain.referral import Referral
from edge.client import connect
from edge.codec import CodecKeyError
from edge.config_files import load_policy_book
from edge.intake import CaseExists, IntakeRefused, referral_from_json, take_referral
from edge.settings import Settings

EXIT_BAD_INPUT, EXIT_CASE_EXISTS, EXIT_USAGE, EXIT_NO_INPUT = 2, 3, 64, 66


class NotStarted(Exception):
    """Intake could not run at all (settings, key, policy folder); exits 2."""


async def intake(settings: Settings, referral: Referral) -> str:
    try:
        book = load_policy_book(settings.policy_dir)
        client = await connect(settings)
    except (CodecKeyError, PolicyError) as err:
        raise NotStarted(f"not started: {err}") from None
    return await take_referral(client, referral, settings.task_queue, book, datetime.now(UTC))


def exit_code(err: IntakeRefused) -> int:
    return EXIT_CASE_EXISTS if isinstance(err, CaseExists) else EXIT_BAD_INPUT


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return EXIT_USAGE
    try:
        text = Path(argv[1]).read_text(encoding="utf-8")
    except OSError as err:
        print(f"cannot read {argv[1]}: {err.strerror}", file=sys.stderr)
        return EXIT_NO_INPUT
    try:
        settings = Settings()
    except ValidationError as err:
        print("not started: settings refused:", *field_errors(err), sep="\n  ", file=sys.stderr)
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
