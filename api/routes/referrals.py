"""Intake: one referral starts one case (docs/rules.md, Stages), through edge/intake.py as
starter.py does."""

from datetime import UTC, datetime

from fastapi import APIRouter, Request, status

from api.case_access import query_status
from api.deps import Intake, SettingsDep, TemporalClientDep
from api.errors import FieldProblem, InvalidInput, Refused, documented
from domain.policy import PolicyBook
from domain.referral import Referral
from domain.status import CaseStatus
from edge.intake import CaseExists, ReferralInvalid, take_referral

router = APIRouter(tags=["intake"])


@router.post(
    "/referrals",
    status_code=status.HTTP_201_CREATED,
    response_model=CaseStatus,
    responses=documented(400, 401, 403, 409, 422, 503),
    summary="Start the case for a referral",
)
async def create_referral(
    referral: Referral,
    user: Intake,
    client: TemporalClientDep,
    settings: SettingsDep,
    request: Request,
) -> CaseStatus:
    """Starts the referral's case; a referral id that already has a case (open or closed)
    is refused with 409 and that case is left untouched; a referral received in the future
    (beyond the policy's clock-skew tolerance), or whose `team` is not one of the service's
    teams (CSE_TEAMS, matched exactly, listed in the refusal), or whose `placing_authority`
    or `host_authority` is not a local authority of the service's directory (listed in the
    refusal), with 422. (The Referral model
    itself refuses a received_at outside the working-day calendar's years.)"""
    book: PolicyBook = request.app.state.policy_book
    try:
        workflow_id = await take_referral(
            client,
            referral,
            settings.task_queue,
            book,
            datetime.now(UTC),
            teams=settings.teams,
            authorities=list(request.app.state.authorities),
        )
    except ReferralInvalid as err:
        problems = [FieldProblem(field=f"body.{f}", message=m) for f, m in err.problems]
        raise InvalidInput(problems) from None
    except CaseExists as err:
        raise Refused(str(err), rule="duplicate_referral") from None
    return await query_status(client.get_workflow_handle(workflow_id))
