"""The MASE panel's agenda and oversight report as people read them: in Debian's chromium, inside
the dashboard's frame (header, navigation, the run's other documents), checked by axe-core at
WCAG 2.2 AA with no violation allowed; printed on A4 without the navigation; each chart with
a text alternative and a table of its figures; each referral id a link to its case for a
reader who may open it, plain text for anyone else (docs/rules.md, The MASE panel).

Leaves test-artifacts/a11y-panel-*.png, axe/panel-*.json and panel-agenda.pdf.
"""

from __future__ import annotations

import asyncio
import re
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import pytest

from domain.oversight import PanelRun
from edge.client import connect
from edge.panel_runs import panel_runs_query
from edge.settings import Settings
from tests.api.conftest import TEAM_A, TEAM_B, User, Users, just_now
from tests.browser.accessibility import audit
from tests.browser.test_dashboard_accessibility import Api
from tests.browser.test_dashboard_browser import sign_in
from tests.e2e.conftest import RunningWorker, wait_until
from workflows.mase_panel import MasePanelWorkflow

pytestmark = pytest.mark.e2e

A4_POINTS = re.compile(rb"/MediaBox \[0 0 59[45](\.\d+)? 84[12](\.\d+)?\]")  # 210 x 297 mm


@dataclass(frozen=True)
class Panel:
    run_date: str
    ours: str  # team A's case, scored 2: on the agenda
    theirs: str  # team B's case, scored 2: on the agenda
    off: str  # not on the agenda
    child_refs: list[str]

    def path(self, name: str) -> str:
        return f"/dashboard/reports/{self.run_date}/{name}"


def scored(api: Api, users: Users, worker: User, team: str) -> tuple[str, str]:
    child_ref = f"PERSON-{uuid.uuid4().hex[:8]}"
    rid = api.start(users.intake, team=team, child_ref=child_ref)
    api.record(worker, rid, "decide", decision="assess", decided_at=just_now())
    api.record(
        worker,
        rid,
        "record_screening",
        score=2,
        professional_concern="high",
        screened_at=just_now(),
    )
    return rid, child_ref


async def run_the_panel(worker: RunningWorker) -> str:
    settings = Settings(
        temporal_address=worker.address,
        task_queue=worker.task_queue,
        codec_keys=worker.codec_keys,
    )
    client = await connect(settings)
    outcome = await client.execute_workflow(
        MasePanelWorkflow.run,
        PanelRun(panel_name="MASE"),
        id=f"mase-panel-browser-{uuid.uuid4().hex[:8]}",
        task_queue=worker.task_queue,
    )
    query = panel_runs_query(worker.task_queue, outcome.run_date)
    for _ in range(100):  # visibility lists the finished run a moment late
        if [run async for run in client.list_workflows(query)]:
            break
        await asyncio.sleep(0.2)
    return outcome.run_date.isoformat()


@pytest.fixture(scope="module")
def panel(dashboard_url: str, users: Users, sealed_worker: RunningWorker) -> Panel:
    """Two scored cases of two teams and one unscored, then a panel run: the latest agenda."""
    api = Api(dashboard_url)
    ours, our_child = scored(api, users, users.social_worker_a, TEAM_A)
    theirs, their_child = scored(api, users, users.social_worker_b, TEAM_B)
    off = api.start(users.intake, team=TEAM_A)
    for rid in (ours, theirs):
        wait_until(f"{rid} listed", partial(api.listed, users.head_of_service, rid), 20)
    with ThreadPoolExecutor(1) as aside:  # Playwright's sync API holds this thread's loop
        run_date = aside.submit(asyncio.run, run_the_panel(sealed_worker)).result()
    return Panel(run_date, ours, theirs, off, [our_child, their_child])


def case_links(page: Any) -> dict[str, str]:
    links = page.locator("main a.case-link")
    return {
        links.nth(i).inner_text(): links.nth(i).get_attribute("href") for i in range(links.count())
    }


def main_nav(page: Any) -> list[str]:
    nav = page.locator("nav[aria-label='Main'] a")
    return [nav.nth(i).inner_text() for i in range(nav.count())]


def test_the_agenda_sits_in_the_dashboards_frame_links_its_cases_and_passes_axe(
    panel: Panel, page: Any, dashboard_url: str, users: Users, artifacts: Path
) -> None:
    sign_in(page, dashboard_url, users.head_of_service)
    page.goto(dashboard_url + panel.path("agenda.html"))

    assert page.title().startswith("MASE panel agenda")
    assert page.locator("h1").inner_text().startswith("MASE panel agenda")
    assert main_nav(page) == ["Caseload", "Forecast", "MASE panel"]
    assert page.locator(".who").is_visible()
    audit(page, "panel-agenda", artifacts)
    links = case_links(page)
    assert links[panel.ours] == f"/dashboard/cases/{panel.ours}"
    assert links[panel.theirs] == f"/dashboard/cases/{panel.theirs}"
    assert panel.off not in page.locator("main").inner_text()
    text = page.content()
    assert not [ref for ref in panel.child_refs if ref in text]  # no child's details

    page.click(f"main a.case-link:text-is('{panel.ours}')")
    page.wait_for_url(f"**/dashboard/cases/{panel.ours}")
    assert panel.ours in page.locator("h1").inner_text()


def test_the_report_has_charts_with_words_and_tables_and_passes_axe(
    panel: Panel, page: Any, dashboard_url: str, users: Users, artifacts: Path
) -> None:
    sign_in(page, dashboard_url, users.head_of_service)
    page.goto(dashboard_url + panel.path("agenda.html"))
    page.click("nav.documents a:text-is('Oversight report')")
    page.wait_for_url(f"**{panel.path('oversight.html')}")

    assert page.locator("h1").inner_text().startswith("MASE oversight report")
    audit(page, "panel-report", artifacts)
    charts = page.locator("figure.chart")
    assert charts.count() == 3  # new referrals, re-referrals, breaches
    for i in range(3):
        chart = charts.nth(i)
        svg = chart.locator("svg[role='img']")
        assert svg.get_attribute("aria-label") == chart.locator("figcaption").inner_text()
        said = page.locator(f"#{svg.get_attribute('aria-describedby')}")
        assert re.search(r"12 months, .+ to .+: ", said.inner_text()), said.inner_text()
        assert chart.locator("table tbody tr").count() == 12  # the figures, beside the chart
    back = page.locator("nav.documents a:text-is('Agenda')")
    assert back.get_attribute("href") == panel.path("agenda.html")


def test_the_agenda_prints_on_a4_without_the_navigation(
    panel: Panel, page: Any, dashboard_url: str, users: Users, artifacts: Path
) -> None:
    sign_in(page, dashboard_url, users.manager_a)
    page.goto(dashboard_url + panel.path("agenda.html"))
    page.emulate_media(media="print")

    assert not page.locator("header.topbar").is_visible()
    assert not page.locator("nav.documents").is_visible()
    assert page.locator("h1").is_visible()
    assert page.locator("main table").first.is_visible()
    pdf = page.pdf(format="Letter", prefer_css_page_size=True)  # the stylesheet's size wins
    (artifacts / "panel-agenda.pdf").write_bytes(pdf)
    assert A4_POINTS.search(pdf), "the agenda does not print on A4"


def test_a_manager_follows_their_own_teams_cases_only(
    panel: Panel, page: Any, dashboard_url: str, users: Users
) -> None:
    sign_in(page, dashboard_url, users.manager_a)
    page.goto(dashboard_url + panel.path("agenda.html"))

    links = case_links(page)
    assert panel.ours in links
    assert panel.theirs not in links  # another team's case: its id, not a link
    assert panel.theirs in page.locator("main").inner_text()
    assert [a.inner_text() for a in page.locator("nav.documents a").all()] == [
        "Agenda",
        "Agenda (CSV)",
    ]


def test_a_police_contact_reads_the_agenda_and_no_case(
    panel: Panel, page: Any, dashboard_url: str, users: Users, artifacts: Path
) -> None:
    sign_in(page, dashboard_url, users.police_spoc)  # lands on the latest agenda
    assert re.search(r"/dashboard/reports/\d{4}-\d{2}-\d{2}/agenda\.html$", page.url), page.url
    page.goto(dashboard_url + panel.path("agenda.html"))

    assert main_nav(page) == ["MASE panel"]
    assert case_links(page) == {}
    assert panel.ours in page.locator("main").inner_text()
    audit(page, "panel-agenda-police", artifacts)
    page.goto(f"{dashboard_url}/dashboard/")
    assert page.url.endswith("/agenda.html")  # no caseload: back to the agenda
    answer = page.goto(f"{dashboard_url}/dashboard/cases/{panel.ours}")
    assert answer.status == 403
    answer = page.goto(dashboard_url + panel.path("oversight.html"))
    assert answer.status == 403


def test_a_mase_chair_opens_the_cases_on_the_latest_agenda_only(
    panel: Panel, page: Any, dashboard_url: str, users: Users
) -> None:
    sign_in(page, dashboard_url, users.mase_chair)
    page.goto(dashboard_url + panel.path("agenda.html"))

    assert set(case_links(page)) >= {panel.ours, panel.theirs}
    page.click(f"main a.case-link:text-is('{panel.theirs}')")
    page.wait_for_url(f"**/dashboard/cases/{panel.theirs}")
    assert panel.theirs in page.locator("h1").inner_text()
    recordable = page.locator(".event-links a").all_inner_texts()
    assert recordable == ["Record MASE decision", "Complete MASE action"]  # the panel's own
    answer = page.goto(f"{dashboard_url}/dashboard/cases/{panel.off}")
    assert answer.status == 403
    assert "latest panel agenda" in page.locator("#error-detail").inner_text()
