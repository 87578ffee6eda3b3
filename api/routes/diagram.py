"""The pathway picture of a case, for people who think in pictures."""

from fastapi import APIRouter, Request

from api.case_access import ReferralId, open_case
from api.deps import CaseReader, TemporalClientDep
from api.diagram import case_diagram, running_clocks
from api.errors import documented
from api.schemas import CaseDiagram, OpenClock

router = APIRouter(tags=["cases"])


@router.get(
    "/cases/{referral_id}/diagram",
    response_model=CaseDiagram,
    responses=documented(401, 403, 404, 422, 503),
    summary="The pathway diagram with the case's stage and running clocks",
)
async def get_diagram(
    referral_id: ReferralId, user: CaseReader, client: TemporalClientDep, request: Request
) -> CaseDiagram:
    case = await open_case(client, referral_id, user, request)
    status = await case.status()
    return CaseDiagram(
        referral_id=status.referral_id,
        stage=status.stage,
        open_clocks=[
            OpenClock(name=c.name, due_at=c.due_at, state=c.state) for c in running_clocks(status)
        ],
        diagram=case_diagram(status),
    )
