"""The compose file's proxy, run: Debian's nginx with deploy/nginx/nginx.conf (the copy
tests/deploy/nginx_conf.py makes: upstream at the replicas' loopback ports, files in the test's
folder) in front of the scale-out test's two `python -m api` replicas and two workers.

Through nginx alone: a head of service signs in on the dashboard (the form from one replica,
the sign-in posted to the other: the Host nginx passes on is what the form's Origin is checked
against, and the session is sealed with the replicas' shared keys), a referral is taken in and
read back, /health asked. Each replica's own /metrics then says it answered its half.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.deploy.nginx_conf import command, local_conf
from tests.e2e.conftest import answers_health, free_ports, process_group, wait_until
from tests.e2e.test_scale_out import (  # noqa: F401  # the fixture, registered by being imported
    HEAD_OF_SERVICE,
    INTAKE,
    METRICS_TOKEN,
    Cluster,
    cluster,
)
from tests.faults.ledger import late_referral
from tests.prometheus_text import parse

pytestmark = pytest.mark.e2e

START_TIMEOUT = 15.0
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture
def proxy(cluster: Cluster, tmp_path: Path) -> Iterator[str]:  # noqa: F811  # imported fixture
    """nginx in front of the cluster's API replicas; its URL."""
    replicas = [str(api.base_url).removeprefix("http://").rstrip("/") for api in cluster.apis]
    folder = tmp_path / "nginx"
    folder.mkdir()
    port = free_ports(1)[0]
    conf = local_conf(folder, replicas, port)
    url = f"http://127.0.0.1:{port}"
    with process_group(command(conf), None, folder / "nginx.out") as proc:
        errors = folder / "error.log"
        wait_until(
            "nginx to answer /health",
            lambda: answers_health(url, proc, errors, "nginx"),
            START_TIMEOUT,
        )
        yield url


async def answered(api: httpx.AsyncClient) -> int:
    """How many requests this replica has answered, by its own /metrics (not counting those)."""
    scraped = await api.get("/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"})
    assert scraped.status_code == 200, scraped.text
    return int(
        sum(
            s.value
            for s in parse(scraped.text)
            if s.name == "cse_api_requests_total" and s.labels["route"] != "/metrics"
        )
    )


async def sign_in(through: httpx.AsyncClient, origin: str) -> None:
    form = await through.get("/dashboard/login")
    assert form.status_code == 200, form.text
    csrf = CSRF.search(form.text)
    assert csrf, "no CSRF token in the login form"
    fields = {"token": HEAD_OF_SERVICE.token, "csrf_token": csrf[1]}
    signed_in = await through.post("/dashboard/login", data=fields, headers={"Origin": origin})
    assert signed_in.status_code == 303, signed_in.text
    home = await through.get(signed_in.headers["location"])
    assert home.status_code == 200, home.text


async def test_nginx_spreads_the_requests_over_both_api_replicas(
    cluster: Cluster,  # noqa: F811  # the imported fixture
    proxy: str,
) -> None:
    before = [await answered(api) for api in cluster.apis]
    sent = 0
    async with httpx.AsyncClient(base_url=proxy, timeout=60) as through:
        await sign_in(through, origin=proxy)
        sent += 3
        referral = late_referral("NGINX", 0)
        body = referral.model_dump(mode="json")
        taken_in = await through.post("/referrals", json=body, headers=INTAKE.headers)
        assert taken_in.status_code == 201, taken_in.text
        sent += 1
        for _ in range(2):
            case = await through.get(
                f"/cases/{referral.referral_id}", headers=HEAD_OF_SERVICE.headers
            )
            assert case.status_code == 200, case.text
            assert case.json()["referral_id"] == referral.referral_id
        sent += 2
        for _ in range(4):
            assert (await through.get("/health")).status_code == 200
        sent += 4
    after = [await answered(api) for api in cluster.apis]
    shares = [a - b for a, b in zip(after, before, strict=True)]
    assert sum(shares) == sent, f"answers by replica {shares}, {sent} sent through nginx"
    assert min(shares) >= sent // 2 - 1, f"not round robin: {shares}"
