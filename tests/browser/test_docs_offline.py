"""The API docs (/docs) in a real browser with the network off (issue 17, item 8): Swagger UI's
script, stylesheet and icon come from the API itself (api/docs.py), so the page renders every
operation on a machine without the internet, no request leaves for another host, and nothing
breaks the page's content security policy. Debian's chromium through Playwright; every request
to a host other than the API's is aborted as a disconnected network would."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

pytestmark = pytest.mark.e2e

LOCAL = {"127.0.0.1", "localhost"}


def network_off(page: Any) -> list[str]:
    """Abort every request to another host; the list collects what was tried."""
    elsewhere: list[str] = []

    def only_local(route: Any) -> None:
        if urlsplit(route.request.url).hostname in LOCAL:
            route.continue_()
        else:
            elsewhere.append(route.request.url)
            route.abort("internetdisconnected")

    page.context.route("**/*", only_local)
    return elsewhere


def test_the_api_docs_render_from_the_api_alone_with_the_network_off(
    page: Any, dashboard_url: str, artifacts: Path
) -> None:
    elsewhere = network_off(page)
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda err: problems.append(str(err)))

    page.goto(f"{dashboard_url}/docs", wait_until="load")
    assert elsewhere == [], f"the docs asked other hosts: {elsewhere}"
    page.wait_for_selector(".opblock-summary-path", timeout=20_000)
    paths = page.locator(".opblock-summary-path").all_inner_texts()
    page.locator(".opblock-summary").first.click()  # an operation opens: its schema drawn
    page.wait_for_selector(".opblock-body .model-example")
    page.screenshot(path=str(artifacts / "docs-offline.png"), full_page=False)

    assert "/referrals" in paths
    assert "/cases/{referral_id}/events/decide" in paths
    assert page.locator(".info .title").inner_text().startswith("CSE referral pathway")
    assert elsewhere == []
    assert problems == [], f"errors on the page (a refused script or style?): {problems}"


def test_the_docs_page_names_only_its_own_files_under_the_dashboards_policy(
    dashboard_url: str,
) -> None:
    page = httpx.get(f"{dashboard_url}/docs", timeout=30)
    policy = page.headers["content-security-policy"]

    assert page.status_code == 200
    assert "http" not in page.text.replace(dashboard_url, "")
    assert "default-src 'none'" in policy
    assert "frame-ancestors 'none'" in policy
    assert "unsafe-inline" not in policy
    assert "unsafe-eval" not in policy
    assert httpx.get(f"{dashboard_url}/redoc", timeout=30).status_code == 404
    assert httpx.get(f"{dashboard_url}/docs/assets/index.html", timeout=30).status_code == 404
