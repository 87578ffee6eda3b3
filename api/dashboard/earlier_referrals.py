"""The child's earlier referrals on a case page (docs/rules.md, One child across referrals): each
one the reader may open (api/auth.py: its team, read from the earlier case's CseTeam) is listed with
a link to it; of the others the reader learns only how many there are, never their referral ids.

A MASE chair opens only the cases on the latest agenda, so is shown only the count; so is
anyone when visibility cannot say whose an earlier case is.
"""

from __future__ import annotations

from dataclasses import dataclass

from temporalio.client import Client, WorkflowExecution
from temporalio.service import RPCError

from api.auth import Identity
from contract import search_attributes as sa
from contract.visibility import RPC_TIMEOUT, latest_case_run, quoted
from domain.referral import workflow_id_for
from domain.status import EarlierReferral


@dataclass(frozen=True)
class EarlierShown:
    """What the reader sees: the earlier referrals they may open, and how many others."""

    listed: list[EarlierReferral]
    others: int


def shown_to(
    user: Identity, earlier: list[EarlierReferral], teams: dict[str, str | None]
) -> EarlierShown:
    """The earlier referrals `user` may open, by each case's team (`teams`, by referral id;
    an unknown team is one the reader may not see)."""
    if user.reads_agenda_cases_only:
        return EarlierShown([], len(earlier))
    listed = [e for e in earlier if user.may_open_cases_of(teams.get(e.referral_id))]
    return EarlierShown(listed, len(earlier) - len(listed))


async def teams_of(client: Client, earlier: list[EarlierReferral]) -> dict[str, str | None]:
    """Each earlier case's team, as its case run published it (one visibility listing)."""
    ids = {workflow_id_for(e.referral_id): e.referral_id for e in earlier}
    query = f"WorkflowId IN ({', '.join(quoted(i) for i in sorted(ids))})"
    runs: dict[str, list[WorkflowExecution]] = {}
    async for run in client.list_workflows(query, rpc_timeout=RPC_TIMEOUT):
        runs.setdefault(run.id, []).append(run)
    teams: dict[str, str | None] = {}
    for workflow_id, referral_id in ids.items():
        case = await latest_case_run(client, workflow_id, runs.get(workflow_id, []))
        teams[referral_id] = None if case is None else case.typed_search_attributes.get(sa.CSE_TEAM)
    return teams


async def earlier_for(
    client: Client, user: Identity, earlier: list[EarlierReferral]
) -> EarlierShown:
    """The case page's earlier referrals for `user`; only the count if visibility fails."""
    if not earlier or user.reads_agenda_cases_only:
        return EarlierShown([], len(earlier))
    try:
        teams = await teams_of(client, earlier)
    except RPCError:
        teams = {}
    return shown_to(user, earlier, teams)
