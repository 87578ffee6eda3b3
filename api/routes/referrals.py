"""Intake: one referral starts one case (pathway.md section 7), exactly as starter.py does."""

from datetime import UTC, datetime

from fastapi import APIRouter, status

from api.case_access import query_status
from api.deps import Intake, SettingsDep, TemporalClientDep
from api.errors import FieldProblem, InvalidInput, Refused, documented
from domain.models import CaseStatus, Referral
from starter import IntakeError, start_case

router = APIRouter(tags=["intake"])


@router.post(
    "/referrals",
    status_code=status.HTTP_201_CREATED,
    response_model=CaseStatus,
    responses=documented(400, 401, 403, 409, 422, 503),
    summary="Start the case for a referral",
)
async def create_referral(
    referral: Referral, user: Intake, client: TemporalClientDep, settings: SettingsDep
) -> CaseStatus:
    """Starts the referral's case; a referral id that already has a case (open or closed)
    is refused with 409 and that case is left untouched. (The Referral model itself refuses
    a received_at outside the working-day calendar's years.)"""
    if referral.received_at > datetime.now(UTC):
        raise InvalidInput([FieldProblem(field="body.received_at", message="is in the future")])
    try:
        workflow_id = await start_case(client, referral, settings.task_queue)
    except IntakeError as err:
        raise Refused(str(err), rule="duplicate_referral") from None
    return await query_status(client.get_workflow_handle(workflow_id))
