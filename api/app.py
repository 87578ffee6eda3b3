"""The FastAPI application: built once from the settings, one Temporal client for its life."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from api import metrics
from api.auth import Authenticator, StartupError, load_users_file
from api.dashboard import install as install_dashboard
from api.errors import install_error_handlers
from api.middleware import ReferrerPolicy
from api.oidc import load_oidc
from api.routes import cases, codec, diagram, events, forecast, health, referrals, reports
from domain.policy import PolicyError
from edge.caseload import RecentListings
from edge.client import connect
from edge.codec import CodecKeyError
from edge.config_files import load_policy_book
from edge.settings import Settings


def authenticator_for(settings: Settings) -> Authenticator:
    """OIDC when an issuer is configured, else the users file."""
    if settings.oidc_issuer:
        return load_oidc(settings)
    return load_users_file(settings.users_file)


def create_app(settings: Settings, authenticator: Authenticator | None = None) -> FastAPI:
    """The app; raises StartupError naming the file or setting that stops it starting."""
    try:
        policy_book = load_policy_book(settings.policy_dir)
        keys = settings.sealing_keys()
    except (PolicyError, CodecKeyError) as err:
        raise StartupError(str(err)) from None

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.client = await connect(settings)
        yield

    app = FastAPI(
        title="CSE referral pathway",
        version="1",
        description="Intake, practitioners' events and supervisors' views of CSE cases. "
        "Send `Authorization: Bearer <token>`.",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.authenticator = authenticator or authenticator_for(settings)
    app.state.policy_book = policy_book
    app.state.recent_listings = RecentListings(settings.api_listing_max_age)
    install_error_handlers(app)
    for module in (referrals, events, cases, forecast, diagram, reports, health):
        app.include_router(module.router)
    install_dashboard(app)
    codec.install(app, settings, keys)
    app.add_middleware(ReferrerPolicy)
    metrics.install(app)
    return app
