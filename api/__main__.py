"""`python -m api`: serve the API on CSE_API_HOST:CSE_API_PORT.

Exits 2 naming the problem when the users file, the OIDC settings or the policy are unusable.
"""

import sys

import structlog
import uvicorn

from api.app import create_app
from api.auth import StartupError
from edge.client import warn_if_plaintext
from edge.logs import configure_logging
from edge.settings import Settings

log = structlog.get_logger("cse.api")


def main() -> int:
    settings = Settings()
    configure_logging(settings.log_level)
    try:
        app = create_app(settings)
    except StartupError as err:
        log.error("api not started", error=str(err))
        print(f"api not started: {err}", file=sys.stderr)
        return 2
    warn_if_plaintext(settings)
    log.info("api starting", host=settings.api_host, port=settings.api_port)
    uvicorn.run(app, host=settings.api_host, port=settings.api_port, log_config=None)
    return 0


if __name__ == "__main__":
    sys.exit(main())
