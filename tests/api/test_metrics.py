"""GET /metrics on the API: Prometheus text of its answers by route template and status, for
a scraper holding CSE_METRICS_TOKEN only, with no referral id in any label."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from pydantic import SecretStr

from api.app import create_app
from edge.settings import Settings
from tests.api.conftest import Users, referral
from tests.prometheus_text import parse, total

TOKEN = "api-metrics-token-0123456789"
SCRAPER = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture(scope="module")
async def metered_api(api_settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(api_settings.model_copy(update={"metrics_token": SecretStr(TOKEN)}))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://api") as client:
            yield client


async def test_answers_are_counted_and_timed_by_route_template_and_status(
    metered_api: httpx.AsyncClient, users: Users
) -> None:
    body = referral()
    started = await metered_api.post("/referrals", json=body, headers=users.intake.headers)
    assert started.status_code == 201, started.text
    case = f"/cases/{body['referral_id']}"
    assert (await metered_api.get(case, headers=users.social_worker_a.headers)).status_code == 200
    assert (await metered_api.get(case, headers=users.social_worker_b.headers)).status_code == 403
    assert (
        await metered_api.get("/cases/NO-SUCH-CASE", headers=users.head_of_service.headers)
    ).status_code == 404
    assert (await metered_api.get(f"/nowhere/{body['referral_id']}")).status_code == 404

    scraped = await metered_api.get("/metrics", headers=SCRAPER)

    assert scraped.status_code == 200
    assert scraped.headers["content-type"].startswith("text/plain; version=0.0.4")
    assert body["referral_id"] not in scraped.text
    assert "NO-SUCH-CASE" not in scraped.text
    samples = parse(scraped.text)
    requests = "cse_api_requests_total"
    one_case = {"method": "GET", "route": "/cases/{referral_id}"}
    assert total(samples, requests, method="POST", route="/referrals", status="201") == 1
    assert total(samples, requests, status="200", **one_case) == 1
    assert total(samples, requests, status="403", **one_case) == 1
    assert total(samples, requests, status="404", **one_case) == 1
    assert total(samples, requests, route="unmatched", status="404") == 1
    timed = "cse_api_request_duration_seconds"
    assert total(samples, f"{timed}_count", **one_case) == 3
    assert total(samples, f"{timed}_bucket", le="+Inf", **one_case) == 3
    assert total(samples, f"{timed}_sum", **one_case) > 0


async def test_only_a_scraper_holding_the_metrics_token_reads_them(
    metered_api: httpx.AsyncClient, users: Users
) -> None:
    nobody = await metered_api.get("/metrics")
    a_user = await metered_api.get("/metrics", headers=users.head_of_service.headers)
    wrong = await metered_api.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}x"})
    assert [nobody.status_code, a_user.status_code, wrong.status_code] == [401, 401, 401]
    assert "cse_api" not in nobody.text + a_user.text + wrong.text


async def test_metrics_are_off_without_a_token(
    api: httpx.AsyncClient, users: Users, api_settings: Settings
) -> None:
    assert api_settings.metrics_token is None
    off = await api.get("/metrics", headers=users.head_of_service.headers)
    assert off.status_code == 404
    assert "CSE_METRICS_TOKEN" in off.json()["detail"]


def test_a_placeholder_or_short_metrics_token_is_refused() -> None:
    for token in ("changeme", "too-short"):
        with pytest.raises(ValueError, match="CSE_METRICS_TOKEN"):
            Settings(plaintext_payloads=True, metrics_token=token)
