"""A case out of sight in Debian's chromium (issue 17, defect 2): the caseload's banner and red
row, and the case page saying what ended the run and how to bring it back, both checked by
axe-core at WCAG 2.2 AA (test-artifacts/a11y-caseload-needs-attention.png,
a11y-case-out-of-sight.png). The case is reset afterwards, as README "Operations" says."""

from __future__ import annotations

import re
import shlex
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.api.conftest import Users
from tests.browser.accessibility import audit
from tests.browser.test_dashboard_accessibility import Api
from tests.browser.test_dashboard_browser import sign_in
from tests.e2e.conftest import RunningWorker, TemporalCli, wait_until

pytestmark = pytest.mark.e2e

VISIBILITY_TIMEOUT = 20.0
BACKTICKED = re.compile(r"`(temporal workflow reset [^`]*)`")


def test_a_case_out_of_sight_is_red_first_and_says_what_to_do(
    page: Any,
    dashboard_url: str,
    sealed_worker: RunningWorker,
    users: Users,
    artifacts: Path,
) -> None:
    api = Api(dashboard_url)
    team = f"OUT-B-{uuid.uuid4().hex[:6]}"
    alive = api.start(users.intake, team=team)
    ended = api.start(users.intake, team=team)
    wait_until(
        "both cases listed",
        lambda: listed(dashboard_url, users, team) == {alive, ended},
        VISIBILITY_TIMEOUT,
    )
    temporal = TemporalCli(sealed_worker.address)
    temporal("workflow", "terminate", "--workflow-id", f"referral-{ended}", "--reason", "by hand")

    sign_in(page, dashboard_url, users.head_of_service)

    def flagged() -> bool:
        page.goto(f"{dashboard_url}/dashboard/?team={team}")
        return bool(page.locator("tr.needs-attention").count() == 1)

    wait_until("the case flagged on the caseload", flagged, VISIBILITY_TIMEOUT, interval=0.5)
    rows = page.locator("table.cases tbody tr")
    assert rows.nth(0).get_attribute("class") == "needs-attention"
    assert ended in rows.nth(0).inner_text()
    assert "Needs attention: terminated" in rows.nth(0).inner_text()
    assert page.locator(".attention-summary h2").inner_text() == "1 case needs attention"
    audit(page, "caseload-needs-attention", artifacts)

    page.click(f"a[href$='/{ended}']")
    assert page.locator("main h1").inner_text() == "This case needs attention"
    assert "temporal workflow reset" in page.locator("main").inner_text()
    assert "terminated" in page.locator("main").inner_text()
    audit(page, "case-out-of-sight", artifacts)

    told = httpx.get(
        f"{dashboard_url}/cases/{ended}", headers=users.head_of_service.headers, timeout=60
    )
    command = BACKTICKED.search(told.json()["operator_action"])
    assert command, told.text
    temporal(*shlex.split(command.group(1))[1:])


def listed(url: str, users: Users, team: str) -> set[str]:
    answer = httpx.get(
        f"{url}/cases", params={"team": team}, headers=users.head_of_service.headers, timeout=60
    )
    return {case["referral_id"] for case in answer.json()["cases"]}
