"""The FastAPI application: built once from the settings, one Temporal client for its life.

The client is lazy: the API starts whether or not Temporal answers, a background task asks
until it does (logging once that it does not, and when it does), and until then every call
answers 503 naming Temporal's address (`GET /health` too), with no restart needed.
"""

import asyncio
import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta

import structlog
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from temporalio.client import Client
from temporalio.service import RPCError

from api import docs, links, metrics
from api.auth import Authenticator, ReloadingUsersFile, StartupError
from api.dashboard import install as install_dashboard
from api.errors import Unavailable, install_error_handlers
from api.middleware import ReferrerPolicy
from api.oidc import load_oidc
from api.routes import cases, codec, diagram, events, forecast, health, referrals, reports
from domain.directory import DirectoryError
from domain.policy import PolicyError
from edge.caseload import RecentListings
from edge.client import connect, is_unreachable, unreachable_reason
from edge.codec import CodecKeyError
from edge.config_files import known_authorities, load_policy_book
from edge.settings import Settings

log = structlog.get_logger("cse.api")

ASK_EVERY = 2.0  # seconds between asks while Temporal does not answer
ASK_TIMEOUT = 5.0


def authenticator_for(settings: Settings) -> Authenticator:
    """OIDC when an issuer is configured, else the users file, followed as it changes."""
    if settings.oidc_issuer:
        return load_oidc(settings)
    return ReloadingUsersFile(settings.users_file)


def create_app(settings: Settings, authenticator: Authenticator | None = None) -> FastAPI:
    """The app; raises StartupError naming the file or setting that stops it starting."""
    try:
        policy_book = load_policy_book(settings.policy_dir)
        authorities = known_authorities(settings.directory_file)
        keys = settings.sealing_keys()
    except (PolicyError, DirectoryError, CodecKeyError) as err:
        raise StartupError(str(err)) from None

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.client = await connect(settings, lazy=True)
        asking = asyncio.create_task(reach_temporal(app.state.client, settings))
        yield
        asking.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await asking

    app = FastAPI(
        title="CSE referral pathway",
        version="1",
        description="Intake, practitioners' events and supervisors' views of CSE cases. "
        "Send `Authorization: Bearer <token>`.",
        lifespan=lifespan,
        docs_url=None,  # served by api/docs.py from the project's own files, not a CDN
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.authenticator = authenticator or authenticator_for(settings)
    app.state.policy_book = policy_book
    app.state.authorities = authorities  # the codes intake accepts (domain/authorities.py)
    app.state.recent_listings = RecentListings(settings.api_listing_max_age)
    install_error_handlers(app)
    app.add_exception_handler(RuntimeError, temporal_unreachable)
    for module in (referrals, events, cases, forecast, diagram, reports, health):
        app.include_router(module.router)
    install_dashboard(app)
    docs.install(app)
    links.install(app)
    codec.install(app, settings, keys)
    app.add_middleware(ReferrerPolicy)
    metrics.install(app)
    return app


def unreachable(settings: Settings, err: BaseException) -> Unavailable:
    reason = unreachable_reason(err)
    return Unavailable(f"Temporal at {settings.temporal_address} is unreachable: {reason}")


async def temporal_unreachable(request: Request, err: Exception) -> JSONResponse:
    """A call made while the lazy client cannot reach Temporal: 503, not a server error."""
    if not is_unreachable(err):
        raise err
    error = unreachable(request.app.state.settings, err)
    return JSONResponse(error.body.model_dump(mode="json"), status_code=error.status_code)


async def reach_temporal(client: Client, settings: Settings) -> None:
    """Ask Temporal's health until it first answers; the client stays connected after."""
    said = False
    while True:
        try:
            ask = client.service_client.check_health(timeout=timedelta(seconds=ASK_TIMEOUT))
            await asyncio.wait_for(ask, ASK_TIMEOUT)
        except (RuntimeError, RPCError, TimeoutError) as err:
            if not said:
                log.warning("temporal unreachable", detail=str(unreachable(settings, err)))
                said = True
            await asyncio.sleep(ASK_EVERY)
            continue
        log.info("temporal reached", address=settings.temporal_address)
        return
