"""Intake: start a case from a referral JSON file.

    python starter.py referral.json

Prints the workflow id. Bad input exits 2 listing each bad field; a referral id that already
has a case exits 3 and leaves that case untouched.
"""

import asyncio
import os
import sys
from datetime import UTC, datetime
from pathlib import Path

from pydantic import ValidationError
from temporalio.client import Client
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError

from domain.models import Referral
from edge.client import connect
from edge.codec import CodecKeyError
from edge.settings import Settings
from workflows.referral import ReferralWorkflow


class IntakeError(Exception):
    """A referral that cannot be started; `exit_code` says why."""

    def __init__(self, message: str, exit_code: int) -> None:
        super().__init__(message)
        self.exit_code = exit_code


def parse_referral(text: str, now: datetime) -> Referral:
    try:
        referral = Referral.model_validate_json(text)
    except ValidationError as err:
        lines = [
            f"  {'.'.join(str(p) for p in e['loc']) or '(referral)'}: {e['msg']}"
            for e in err.errors()
        ]
        raise IntakeError("the referral was refused:\n" + "\n".join(lines), 2) from None
    if referral.received_at > now:
        raise IntakeError("the referral was refused:\n  received_at: is in the future", 2)
    return referral


async def start_case(client: Client, referral: Referral, task_queue: str) -> str:
    """Start one case; a referral id that already has a case (open or closed) is refused."""
    try:
        handle = await client.start_workflow(
            ReferralWorkflow.run,
            referral,
            id=referral.workflow_id,
            task_queue=task_queue,
            id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
            id_conflict_policy=WorkflowIDConflictPolicy.FAIL,
        )
    except WorkflowAlreadyStartedError:
        raise IntakeError(
            f"a case for referral {referral.referral_id} already exists; it was left untouched", 3
        ) from None
    return handle.id


async def intake(settings: Settings, referral: Referral) -> str:
    try:
        client = await connect(settings)
    except CodecKeyError as err:
        raise IntakeError(f"not started: {err}", 2) from None
    return await start_case(client, referral, settings.task_queue)


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return 64
    try:
        text = Path(argv[1]).read_text(encoding="utf-8")
    except OSError as err:
        print(f"cannot read {argv[1]}: {err.strerror}", file=sys.stderr)
        return 66
    try:
        referral = parse_referral(text, datetime.now(UTC))
        print(asyncio.run(intake(Settings(), referral)))
    except IntakeError as err:
        print(err, file=sys.stderr)
        return err.exit_code
    return 0


if __name__ == "__main__":
    code = main(sys.argv)
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)  # the SDK's native threads can abort a normal interpreter shutdown
