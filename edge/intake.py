"""Intake: one referral starts one case, for every client that starts cases (starter.py, the
API's POST /referrals, the demo, the benchmarks, tests).

IntakeRefused            the referral was not started; nothing was sent to Temporal
 ├── ReferralInvalid     its fields are wrong (each `(field, problem)` in `problems`), it
 │                       was received in the future (domain/timing.py's tolerance), its
 │                       team is not one of CSE_TEAMS (domain/teams.py), or an authority
 │                       it names is not in the directory (domain/authorities.py)
 └── CaseExists          its referral id already has a case (open or closed), left untouched

A case starts with REJECT_DUPLICATE and conflict policy FAIL: Temporal's defaults would start
a new run once the first case has closed. Callers map these to their own answers (an exit
code, an HTTP status); nothing here knows of either.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from pydantic import ValidationError
from temporalio.client import Client
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError

from contract.workflows import REFERRAL_WORKFLOW
from domain.authorities import authority_problems, named_authorities
from domain.policy import PolicyBook
from domain.referral import Referral
from domain.teams import TEAM_FIELD, team_problem
from domain.timing import IN_THE_FUTURE, received_in_the_future


class IntakeRefused(Exception):
    """A referral that was not started; the message says why."""


class ReferralInvalid(IntakeRefused):
    def __init__(self, problems: list[tuple[str, str]]) -> None:
        lines = [f"  {field}: {problem}" for field, problem in problems]
        super().__init__("the referral was refused:\n" + "\n".join(lines))
        self.problems = problems


class CaseExists(IntakeRefused):
    def __init__(self, referral_id: str) -> None:
        super().__init__(f"a case for referral {referral_id} already exists; it was left untouched")
        self.referral_id = referral_id


def referral_from_json(text: str) -> Referral:
    """A referral from its JSON text; every bad field named."""
    try:
        return Referral.model_validate_json(text)
    except ValidationError as err:
        problems = [
            (".".join(str(p) for p in e["loc"]) or "(referral)", e["msg"]) for e in err.errors()
        ]
        raise ReferralInvalid(problems) from None


def refuse_a_future_referral(referral: Referral, book: PolicyBook, now: datetime) -> None:
    if received_in_the_future(referral.received_at, book, now):
        raise ReferralInvalid([("received_at", IN_THE_FUTURE)])


def refuse_an_unknown_team(referral: Referral, teams: Sequence[str]) -> None:
    """A team that is not one of `teams` (CSE_TEAMS) exactly; any team when there are none."""
    problem = team_problem(referral.team, teams)
    if problem is not None:
        raise ReferralInvalid([(TEAM_FIELD, problem)])


def refuse_an_unknown_authority(referral: Referral, known: Sequence[str]) -> None:
    """A placing or host authority the directory does not list; any when it lists none."""
    named = named_authorities(referral.placing_authority, referral.host_authority)
    problems = authority_problems(named, known)
    if problems:
        raise ReferralInvalid(problems)


async def start_case(client: Client, referral: Referral, task_queue: str) -> str:
    """Start the referral's case; returns its workflow id. A referral id that already has a
    case (open or closed) is refused with CaseExists."""
    try:
        handle = await client.start_workflow(
            REFERRAL_WORKFLOW,
            referral,
            id=referral.workflow_id,
            task_queue=task_queue,
            id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
            id_conflict_policy=WorkflowIDConflictPolicy.FAIL,
        )
    except WorkflowAlreadyStartedError:
        raise CaseExists(referral.referral_id) from None
    return handle.id


async def take_referral(
    client: Client,
    referral: Referral,
    task_queue: str,
    book: PolicyBook,
    now: datetime,
    *,
    teams: Sequence[str],
    authorities: Sequence[str] = (),
) -> str:
    """Intake as people use it: a referral received in the future, on a team that is not
    one of `teams` (none: any team), or naming an authority not in `authorities` (none: any
    code), is refused before anything reaches Temporal, then its case is started."""
    refuse_a_future_referral(referral, book, now)
    refuse_an_unknown_team(referral, teams)
    refuse_an_unknown_authority(referral, authorities)
    return await start_case(client, referral, task_queue)
