"""Access follows the users file on every replica at once (issue 17, item 1): two `python -m api`
processes (real uvicorn) share one users file; bearer tokens and dashboard sessions are used on
both; then the file is edited as an operator would (a user's block deleted, a team and a role
changed) and, within a few seconds and without a restart, both replicas refuse the removed
user (401, and the dashboard back to sign-in), hold the moved user to the new team and give
the promoted user the new role's access. How long the change took to reach each replica is
printed and kept in test-artifacts/users-file-propagation.json."""

from __future__ import annotations

import asyncio
import json
import os
import time
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import httpx
import pytest

from tests.api.conftest import TEAM_B, User, Users, referral, users_toml
from tests.browser.conftest import ARTIFACTS
from tests.browser.test_dashboard_replicas import replica, sign_in
from tests.e2e.conftest import RunningWorker

pytestmark = pytest.mark.e2e

WITHIN = 5.0  # seconds: "within a few seconds" of the edit, on every replica


def save(path: Path, users: list[User]) -> None:
    """As an editor saves: a new file renamed over the old one."""
    draft = path.with_suffix(".draft")
    draft.write_text(users_toml(users), encoding="utf-8")
    os.replace(draft, path)


async def status_of(url: str, path: str, user: User) -> int:
    async with httpx.AsyncClient(timeout=30) as client:
        return (await client.get(f"{url}{path}", headers=user.headers)).status_code


async def until_answered(url: str, path: str, user: User, wanted: int, since: float) -> float:
    """Seconds from `since` until `url` answers `user` `wanted` at `path`."""
    while (answer := await status_of(url, path, user)) != wanted:
        assert time.monotonic() - since < WITHIN, f"{url}{path} still answers {answer}"
        await asyncio.sleep(0.05)
    return time.monotonic() - since


async def page_status(browser: httpx.AsyncClient, url: str, path: str) -> tuple[int, str]:
    answer = await browser.get(f"{url}{path}")
    return answer.status_code, answer.headers.get("location", "")


@pytest.fixture
async def browsers() -> AsyncIterator[dict[str, httpx.AsyncClient]]:
    """One cookie jar per user and replica: a replica that ends a session clears its cookie,
    and the other replica must be seen to end it on its own."""
    clients = {name: httpx.AsyncClient(timeout=60) for name in ("hos", "sw", "analyst")}
    try:
        yield clients
    finally:
        for client in clients.values():
            await client.aclose()


async def signed_in_on_both(browser: httpx.AsyncClient, a: str, user: User) -> httpx.Cookies:
    """Signed in on `a`; the same cookie, copied, for the other replica."""
    await sign_in(browser, a, user.token)
    return httpx.Cookies(browser.cookies)


async def test_a_users_file_edit_reaches_both_replicas_within_seconds(
    sealed_worker: RunningWorker,
    users: Users,
    tmp_path: Path,
    browsers: dict[str, httpx.AsyncClient],
) -> None:
    path = tmp_path / "users.toml"
    everyone = users.all()
    save(path, everyone)
    hos, sw, analyst = users.head_of_service, users.social_worker_a, users.analyst
    with (
        replica(sealed_worker, path, tmp_path / "a.log") as a,
        replica(sealed_worker, path, tmp_path / "b.log") as b,
    ):
        body = referral()
        started = await browsers["hos"].post(
            f"{a}/referrals", json=body, headers=users.intake.headers
        )
        assert started.status_code == 201, started.text
        case = f"/cases/{body['referral_id']}"
        jars = {
            name: await signed_in_on_both(browsers[name], a, u)
            for name, u in (("hos", hos), ("sw", sw), ("analyst", analyst))
        }
        for url in (a, b):
            assert await status_of(url, "/cases", hos) == 200
            assert await status_of(url, case, sw) == 200
            assert await status_of(url, case, analyst) == 403
            for name, wanted in (("hos", 200), ("sw", 200), ("analyst", 403)):
                async with httpx.AsyncClient(cookies=jars[name], timeout=60) as browser:
                    assert (await page_status(browser, url, f"/dashboard{case}"))[0] == wanted

        moved = replace(sw, team=TEAM_B)
        promoted = replace(analyst, role="head_of_service")
        kept = [u for u in everyone if u not in (hos, sw, analyst)]
        edited = time.monotonic()
        save(path, [*kept, moved, promoted])
        took = await asyncio.gather(
            *(until_answered(url, "/cases", hos, 401, edited) for url in (a, b))
        )

        for url in (a, b):
            assert await status_of(url, case, hos) == 401
            assert await status_of(url, case, sw) == 403  # another team's case now
            assert await status_of(url, case, analyst) == 200  # a head of service now
            for name in ("hos", "sw", "analyst"):
                async with httpx.AsyncClient(cookies=jars[name], timeout=60) as browser:
                    status, location = await page_status(browser, url, f"/dashboard{case}")
                    assert status == 303, (url, name, status)
                    assert location.startswith("/dashboard/login"), location
        async with httpx.AsyncClient(timeout=60) as again:  # signed in again: the new role
            await sign_in(again, b, analyst.token)
            assert (await page_status(again, a, f"/dashboard{case}"))[0] == 200

    figures = {"replica_a_seconds": round(took[0], 3), "replica_b_seconds": round(took[1], 3)}
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "users-file-propagation.json").write_text(json.dumps(figures) + "\n")
    print(f"users-file change reached the replicas in: {figures}")
    assert max(took) < WITHIN
