"""The dashboard as a borough runs it: several `python -m api` processes (real uvicorn) behind
one address, and restarts. A session made on one replica is honoured by another and survives
a restart, because it is the browser's sealed cookie (CSE_SESSION_KEYS), not a process's
memory; a panel document's link opens on any replica, because the document is read from the
panel run through Temporal, not from a disk.

The replicas listen on two ports of 127.0.0.1: a cookie is not kept per port, so one browser
(an httpx client keeping cookies) sends the same cookie to both, as it would to one address
behind a load balancer.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from domain.oversight import PanelRun
from edge.client import connect
from edge.codec import new_key_item
from edge.settings import Settings
from tests.api.conftest import Users, just_now, referral
from tests.browser.conftest import api_process
from tests.e2e.conftest import REPO, RunningWorker, clean_env, free_ports
from workflows.mase_panel import MasePanelWorkflow

pytestmark = pytest.mark.e2e

SESSION_KEYS = new_key_item("replicas-1")
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_of(html: str) -> str:
    found = CSRF.search(html)
    assert found, "the page has no form with a CSRF token"
    return found.group(1)


@contextlib.contextmanager
def replica(
    worker: RunningWorker, users_file: Path, log: Path, port: int | None = None
) -> Iterator[str]:
    env = clean_env(
        TEMPORAL_ADDRESS=worker.address,
        CSE_TASK_QUEUE=worker.task_queue,
        **worker.payloads,
        CSE_USERS_FILE=str(users_file),
        CSE_POLICY_DIR=str(REPO / "policies"),
        CSE_SESSION_KEYS=SESSION_KEYS,
    )
    with api_process(env, log, port) as url:
        yield url


async def sign_in(browser: httpx.AsyncClient, url: str, token: str) -> None:
    login = await browser.get(f"{url}/dashboard/login")
    form = {"token": token, "csrf_token": csrf_of(login.text)}
    answer = await browser.post(f"{url}/dashboard/login", data=form, headers={"Origin": url})
    assert answer.status_code == 303, answer.text
    assert token not in str(browser.cookies.get("cse_session"))


async def test_signed_in_on_one_replica_a_form_sent_to_another_and_its_notice_read_on_the_first(
    sealed_worker: RunningWorker,
    users_file: Path,
    users: Users,
    tmp_path: Path,
) -> None:
    async with httpx.AsyncClient(timeout=60) as browser:
        with (
            replica(sealed_worker, users_file, tmp_path / "a.log") as a,
            replica(sealed_worker, users_file, tmp_path / "b.log") as b,
        ):
            await signed_in_on_a_recorded_on_b(browser, a, b, users)


async def signed_in_on_a_recorded_on_b(
    browser: httpx.AsyncClient, a: str, b: str, users: Users
) -> None:
    body = referral()
    started = await browser.post(f"{a}/referrals", json=body, headers=users.intake.headers)
    assert started.status_code == 201, started.text
    rid = body["referral_id"]

    await sign_in(browser, a, users.social_worker_a.token)
    path = f"/dashboard/cases/{rid}/events/decide"
    form = await browser.get(f"{b}{path}")
    assert form.status_code == 200, form.text
    fields = {"decision": "assess", "decided_at": just_now()[:16], "reason": "harm"}
    sent = await browser.post(
        f"{b}{path}", data={"csrf_token": csrf_of(form.text), **fields}, headers={"Origin": b}
    )
    assert sent.status_code == 303, sent.text
    assert sent.headers["location"] == f"/dashboard/cases/{rid}"

    page = await browser.get(f"{a}/dashboard/cases/{rid}")  # the notice flashed by b
    assert page.status_code == 200
    assert "Decide recorded: the case is now in assessment." in page.text
    assert "by sw-a@example.org" in page.text


async def test_a_panel_documents_link_opens_on_every_replica(
    sealed_worker: RunningWorker, users_file: Path, users: Users, tmp_path: Path
) -> None:
    settings = Settings(
        temporal_address=sealed_worker.address,
        task_queue=sealed_worker.task_queue,
        codec_keys=sealed_worker.codec_keys,
    )
    client = await connect(settings)
    outcome = await client.execute_workflow(
        MasePanelWorkflow.run,
        PanelRun(panel_name="MASE"),
        id=f"mase-panel-replicas-{uuid.uuid4().hex[:8]}",
        task_queue=sealed_worker.task_queue,
    )
    link = outcome.links["agenda.html"]
    async with httpx.AsyncClient(timeout=60) as reader:
        with (
            replica(sealed_worker, users_file, tmp_path / "a.log") as a,
            replica(sealed_worker, users_file, tmp_path / "b.log") as b,
        ):
            for url in (a, b):
                for _ in range(60):  # visibility lists the finished run a moment late
                    answer = await reader.get(f"{url}{link}", headers=users.manager_a.headers)
                    if answer.status_code != 404:
                        break
                    await asyncio.sleep(0.3)
                assert answer.status_code == 200, answer.text
                assert "MASE panel agenda" in answer.text


async def test_still_signed_in_after_the_api_restarts(
    sealed_worker: RunningWorker, users_file: Path, users: Users, tmp_path: Path
) -> None:
    [port] = free_ports(1)
    async with httpx.AsyncClient(timeout=60) as browser:
        with replica(sealed_worker, users_file, tmp_path / "first.log", port) as url:
            await sign_in(browser, url, users.manager_a.token)
            assert (await browser.get(f"{url}/dashboard/forecast")).status_code == 200
        with replica(sealed_worker, users_file, tmp_path / "second.log", port) as again:
            assert again == url
            login = await browser.get(f"{url}/dashboard/login")
            assert login.status_code == 303, "signed in already: the login page sends you on"
            page = await browser.get(f"{url}/dashboard/forecast")
            assert page.status_code == 200, page.headers.get("location")
            assert "tm-a@example.org" in page.text
