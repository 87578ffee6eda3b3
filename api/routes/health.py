"""Is the API up, and can it reach Temporal?"""

import asyncio
from datetime import timedelta

from fastapi import APIRouter
from temporalio.service import RPCError

from api.deps import SettingsDep, TemporalClientDep
from api.errors import Unavailable, documented
from api.schemas import Health
from edge.client import is_unreachable, unreachable_reason

router = APIRouter(tags=["health"])

HEALTH_TIMEOUT = timedelta(seconds=3)


@router.get(
    "/health", response_model=Health, responses=documented(503), summary="Health of the API"
)
async def health(client: TemporalClientDep, settings: SettingsDep) -> Health:
    """Open to monitoring without a token; says nothing about any case. 503 while Temporal
    cannot be reached (the API started without it and reaches it when it answers)."""
    where = f"Temporal at {settings.temporal_address}"
    try:
        ask = client.service_client.check_health(timeout=HEALTH_TIMEOUT)
        healthy = await asyncio.wait_for(ask, HEALTH_TIMEOUT.total_seconds() + 1)
    except RPCError as err:
        raise Unavailable(f"{where} is unreachable: {err.message}") from None
    except TimeoutError:
        raise Unavailable(f"{where} is unreachable: no answer in time") from None
    except RuntimeError as err:
        if not is_unreachable(err):
            raise
        raise Unavailable(f"{where} is unreachable: {unreachable_reason(err)}") from None
    if not healthy:
        raise Unavailable(f"{where} reports it is not serving")
    return Health()
