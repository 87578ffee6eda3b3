"""`python -m api`: serve the API on CSE_API_HOST:CSE_API_PORT.

Exits 2 with one line naming the problem when a setting, the users file, the OIDC settings or
the policy are unusable, or when it is beyond loopback without CSE_TEAMS or CSE_INDEX_KEYS
(edge/loopback.py). Temporal need not be up: the API starts anyway, reaches Temporal when
it answers, and `GET /health` says 503 until then.
"""

import argparse
import socket
import sys

import structlog
import uvicorn
from fastapi import FastAPI

from api.app import create_app
from api.auth import StartupError
from edge.client import warn_if_plaintext
from edge.logs import configure_logging
from edge.loopback import deployment_problem, warn_if_unlinked
from edge.settings import Settings, SettingsRefused, read_settings

log = structlog.get_logger("cse.api")


def usage() -> argparse.ArgumentParser:
    """`python -m api --help`: what it serves and where its settings come from."""
    return argparse.ArgumentParser(
        prog="python -m api",
        description="The HTTP API and dashboard of the CSE referral pathway, served on "
        "CSE_API_HOST:CSE_API_PORT (docs at /docs, health at /health). It takes no arguments.",
        epilog="Settings come from the environment: CSE_ variables, TEMPORAL_ADDRESS and "
        'TEMPORAL_NAMESPACE (README "Settings"; who may call it: README "HTTP API"). Exit 2: '
        "not started, with one line on stderr naming the setting or file.",
    )


def listen_problem(host: str, port: int) -> str | None:
    """Why CSE_API_HOST:CSE_API_PORT cannot be listened on (a name that does not resolve, a
    port in use), found before uvicorn would log it and exit."""
    try:
        family, kind, _, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
        with socket.socket(family, kind) as sock:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn binds
            sock.bind(address)
    except OSError as err:
        return f"CSE_API_HOST/CSE_API_PORT {host}:{port}: {err.strerror or err}"
    return None


def built(settings: Settings) -> FastAPI | str:
    """The app, or the one line saying why it cannot start."""
    problem = listen_problem(settings.api_host, settings.api_port)
    if problem is not None:
        return problem
    try:
        app = create_app(settings)
    except StartupError as err:
        return str(err)
    return deployment_problem(settings) or app


def main(argv: list[str] | None = None) -> int:
    usage().parse_args(argv)
    try:
        settings = read_settings()
    except SettingsRefused as err:
        print(f"api not started: {err}", file=sys.stderr)
        return 2
    configure_logging(settings.log_level)
    app = built(settings)
    if isinstance(app, str):
        log.error("api not started", error=app)
        print(f"api not started: {app}", file=sys.stderr)
        return 2
    warn_if_plaintext(settings)
    warn_if_unlinked(settings)
    log.info("api starting", host=settings.api_host, port=settings.api_port)
    uvicorn.run(app, host=settings.api_host, port=settings.api_port, log_config=None)
    return 0


if __name__ == "__main__":
    sys.exit(main())
