"""Dashboard fixtures: `python -m api` served by uvicorn on a free port of 127.0.0.1, against a
REAL Temporal dev server and the project's worker (tests/e2e/conftest.py), with the session's
users file (tests/api/conftest.py); and a real browser: Debian's chromium driven by Playwright.

Playwright never downloads a browser here: chromium comes from Debian (scripts/setup.sh
installs it). Without it the browser tests FAIL, saying so; they are never skipped.
"""

from __future__ import annotations

import contextlib
import json
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.api.conftest import (  # noqa: F401  # fixtures, registered by being imported here
    User,
    api,
    api_settings,
    app,
    start_case,
    users,
    users_file,
)
from tests.e2e.conftest import (  # noqa: F401  # fixtures, registered by being imported here
    PYTHON,
    REPO,
    RunningWorker,
    answers_health,
    clean_env,
    free_ports,
    process_group,
    sealed_worker,
    temporal_server,
    wait_until,
)

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = REPO / "test-artifacts"
API_START_TIMEOUT = 40.0
ACTION_TIMEOUT_MS = 30_000


@contextlib.contextmanager
def api_process(env: dict[str, str], log: Path, port: int | None = None) -> Iterator[str]:
    """`python -m api` (uvicorn) on `port` (default: a free one) of 127.0.0.1 with `env`, from
    when /health answers until the block ends; its URL."""
    port = port or free_ports(1)[0]
    url = f"http://127.0.0.1:{port}"
    env = env | {"CSE_API_HOST": "127.0.0.1", "CSE_API_PORT": str(port), "CSE_PUBLIC_URL": url}
    with process_group([str(PYTHON), "-m", "api"], env, log) as proc:
        wait_until(
            "the API to answer /health", lambda: answers_health(url, proc, log), API_START_TIMEOUT
        )
        yield url


def post_referral(url: str, intake: User, body: dict[str, Any]) -> None:
    """POST `body` to the API's /referrals as `intake`, as an intake system does; 201 expected."""
    request = urllib.request.Request(
        f"{url}/referrals",
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json", **intake.headers},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=30) as answer:
        assert answer.status == 201


@pytest.fixture(scope="session")
def dashboard_url(
    sealed_worker: RunningWorker,  # noqa: F811  # the imported fixture
    users_file: Path,  # noqa: F811  # the imported fixture
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[str]:
    """The API with its dashboard, as `python -m api` serves it (uvicorn), on a free port."""
    env = clean_env(
        TEMPORAL_ADDRESS=sealed_worker.address,
        CSE_TASK_QUEUE=sealed_worker.task_queue,
        **sealed_worker.payloads,
        CSE_USERS_FILE=str(users_file),
        CSE_POLICY_DIR=str(REPO / "policies"),
    )
    with api_process(env, tmp_path_factory.mktemp("dashboard") / "api.log") as url:
        yield url


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Debian's chromium, headless, through Playwright; a clear failure when it is missing.

    Module-scoped: Playwright's sync API keeps an event loop running in this thread while it
    lives, and the async tests of other modules need the thread free of it."""
    if not CHROMIUM.exists():
        pytest.fail(
            f"no chromium at {CHROMIUM}: the dashboard's browser tests need Debian's chromium. "
            "Run `bash scripts/setup.sh` (it installs it as root), or "
            "`apt-get install -y --no-install-recommends chromium`.",
            pytrace=False,
        )
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.fail("the playwright package is missing: `pip install -e '.[dev]'`", pytrace=False)
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    """A fresh browser profile (no cookies) in UK English and UK time."""
    context = browser.new_context(
        locale="en-GB", timezone_id="Europe/London", viewport={"width": 1360, "height": 900}
    )
    context.set_default_timeout(ACTION_TIMEOUT_MS)
    try:
        yield context.new_page()
    finally:
        context.close()


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS
