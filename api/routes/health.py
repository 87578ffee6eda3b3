"""Is the API up, and can it reach Temporal?"""

from datetime import timedelta

from fastapi import APIRouter
from temporalio.service import RPCError

from api.deps import TemporalClientDep
from api.errors import Unavailable, documented
from api.schemas import Health

router = APIRouter(tags=["health"])

HEALTH_TIMEOUT = timedelta(seconds=3)


@router.get(
    "/health", response_model=Health, responses=documented(503), summary="Health of the API"
)
async def health(client: TemporalClientDep) -> Health:
    """Open to monitoring without a token; says nothing about any case."""
    try:
        healthy = await client.service_client.check_health(timeout=HEALTH_TIMEOUT)
    except RPCError as err:
        raise Unavailable(f"Temporal is not reachable: {err.message}") from None
    if not healthy:
        raise Unavailable("Temporal reports it is not serving")
    return Health()
