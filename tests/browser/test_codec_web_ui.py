"""The Temporal Web UI reading a sealed case, in a real browser (Debian's chromium): a dev server
with its UI started as scripts/run.sh starts it (`--ui-codec-endpoint <API>/dashboard/codec`),
the sealed worker, and `python -m api` letting in the UI's origin (CSE_CODEC_CORS_ORIGIN).

The UI shows the referral only to a browser signed in to the dashboard as a role that may open
every team's cases, with the UI's own codec setting "include cross-origin credentials" on (kept
in the UI's local storage; the dev server's flag cannot set it). Without it, signed out, or as
an analyst, the codec server refuses and the UI has only ciphertext to show."""

from __future__ import annotations

import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from edge.search_attributes import cli_flags
from tests.api.conftest import User, Users, referral
from tests.browser.conftest import api_process, post_referral
from tests.e2e.conftest import (
    E2E_CODEC_KEYS,
    REPO,
    TEMPORAL_BIN,
    TemporalCli,
    clean_env,
    free_ports,
    process_group,
    running_service_worker,
    tail,
    wait_until,
)

pytestmark = pytest.mark.e2e

UI_START_TIMEOUT = 40.0
DECODE_TIMEOUT_MS = 20_000


@dataclass(frozen=True)
class DevServer:
    address: str
    ui: str
    api_port: int  # where its Web UI expects the codec server


@dataclass(frozen=True)
class Stack:
    ui: str
    api: str


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=3) as answer:
            return bool(answer.status == 200)
    except (urllib.error.URLError, OSError):
        return False


@pytest.fixture(scope="module")
def dev_server_with_ui(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevServer]:
    """`temporal server start-dev` with its Web UI, pointed at the API's /dashboard/codec."""
    port, ui_port, api_port = free_ports(3)
    log = tmp_path_factory.mktemp("ui-server") / "server.log"
    cmd = [
        *(str(TEMPORAL_BIN), "server", "start-dev", "--ip", "127.0.0.1", "--port", str(port)),
        *("--ui-port", str(ui_port), "--log-level", "error", *cli_flags()),
        *("--ui-codec-endpoint", f"http://127.0.0.1:{api_port}/dashboard/codec"),
    ]
    with process_group(cmd, clean_env(), log) as proc:
        cli, ui = TemporalCli(f"127.0.0.1:{port}"), f"http://127.0.0.1:{ui_port}"

        def up() -> bool:
            if proc.poll() is not None:
                raise AssertionError(f"the dev server exited {proc.returncode}:\n{tail(log)}")
            healthy = cli.run("operator", "cluster", "health", output=None).returncode == 0
            return healthy and _answers(ui)

        wait_until("the dev server and its Web UI", up, UI_START_TIMEOUT)
        yield DevServer(address=cli.address, ui=ui, api_port=api_port)


@pytest.fixture(scope="module")
def stack(
    dev_server_with_ui: DevServer, users_file: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Stack]:
    server = dev_server_with_ui
    folder = tmp_path_factory.mktemp("ui-stack")
    sealed = {"CSE_CODEC_KEYS": E2E_CODEC_KEYS}
    with running_service_worker(server.address, folder, sealed) as worker:
        env = clean_env(
            TEMPORAL_ADDRESS=server.address,
            CSE_TASK_QUEUE=worker.task_queue,
            CSE_USERS_FILE=str(users_file),
            CSE_POLICY_DIR=str(REPO / "policies"),
            CSE_CODEC_CORS_ORIGIN=server.ui,
            **sealed,
        )
        with api_process(env, folder / "api.log", server.api_port) as api:
            yield Stack(ui=server.ui, api=api)


def start_case(api: str, intake: User) -> dict[str, Any]:
    body = referral(child_ref=f"PERSON-UI-{uuid.uuid4().hex[:8]}")
    post_referral(api, intake, body)
    return body


def include_credentials(page: Any, stack: Stack) -> None:
    """What the UI's codec settings dialog stores: this endpoint, credentials included, and the
    browser's setting preferred to the server's (UI 2.x local storage)."""
    page.goto(f"{stack.ui}/namespaces/default/workflows")
    page.evaluate(
        """(endpoint) => {
            localStorage.setItem("endpoint", JSON.stringify(endpoint));
            localStorage.setItem("includeCredentials", "true");
            localStorage.setItem("overrideRemoteCodecConfiguration", "true");
        }""",
        f"{stack.api}/dashboard/codec",
    )


def sign_in(page: Any, stack: Stack, user: User) -> None:
    page.goto(f"{stack.api}/dashboard/login")
    page.fill("#in-token", user.token)
    page.click("button:has-text('Sign in')")
    page.wait_for_selector(".who")


def open_case(page: Any, stack: Stack, case: dict[str, Any]) -> int:
    """Open the case in the Web UI; the status of the codec server's first decode answer."""
    url = f"{stack.ui}/namespaces/default/workflows/referral-{case['referral_id']}"
    with page.expect_response(lambda r: "/codec/decode" in r.url, timeout=DECODE_TIMEOUT_MS) as r:
        page.goto(url)
    status: int = r.value.status
    return status


def test_the_web_ui_shows_a_sealed_case_only_to_a_signed_in_reader(
    browser: Any, stack: Stack, users: Users
) -> None:
    case = start_case(stack.api, users.intake)
    reader = browser.new_context()
    analyst = browser.new_context()
    try:
        page = reader.new_page()
        assert open_case(page, stack, case) == 401, "as run.sh starts it, nobody signed in"
        include_credentials(page, stack)
        assert open_case(page, stack, case) == 401, "credentials included, but no session"

        sign_in(page, stack, users.head_of_service)
        assert open_case(page, stack, case) == 200
        page.get_by_text(case["child_ref"]).first.wait_for(timeout=DECODE_TIMEOUT_MS)

        other = analyst.new_page()
        sign_in(other, stack, users.analyst)
        include_credentials(other, stack)
        assert open_case(other, stack, case) == 403
        other.wait_for_timeout(1000)
        assert case["child_ref"] not in other.content()
    finally:
        reader.close()
        analyst.close()
