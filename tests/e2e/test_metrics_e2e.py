"""Metrics as an operator's Prometheus sees them: the real worker.py with CSE_METRICS_PORT set,
scraped over HTTP while a late referral breaches its clocks on the real dev server and a
webhook refuses its breach notifications for good; then the Grafana dashboard and the alert
rules in deploy/ are checked against the names these endpoints actually serve."""

from __future__ import annotations

import json
import re
import socket
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml  # type: ignore[import-untyped]  # PyYAML ships no types; no types-PyYAML here
from pydantic import SecretStr

from api.app import create_app
from edge.settings import Settings
from tests.e2e.conftest import (
    REPO,
    TemporalCli,
    clean_env,
    free_ports,
    iso,
    roles_table,
    run_python,
    seconds,
    wait_until,
    worker_process,
)
from tests.e2e.webhooks import Hooks, serve_hooks
from tests.prometheus_text import Sample, parse, total

pytestmark = pytest.mark.e2e

SECRET = "e2e-metrics-webhook-secret"
METRICS_TOKEN = "e2e-metrics-token-0123456789"
SCRAPE_TIMEOUT = 30.0
# Every role the policy notifies has an address; the strategic lead's is a webhook that
# answers 400, so each strategic escalation fails for good (PermanentDeliveryError).
DIRECTORY = roles_table(strategic_lead=["{hook}/strategic"])

# ---- the worker, its metrics endpoint and a webhook that refuses -------------------------


@dataclass(frozen=True)
class MeteredWorker:
    task_queue: str
    metrics_url: str
    log: Path

    def scrape_text(self) -> str:
        with urllib.request.urlopen(self.metrics_url, timeout=5) as answer:  # loopback, ours
            assert answer.status == 200
            return str(answer.read().decode())

    def scrape(self) -> list[Sample]:
        return parse(self.scrape_text())


@pytest.fixture(scope="module")
def metered_worker(
    temporal_server: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[MeteredWorker]:
    folder = tmp_path_factory.mktemp("metered-worker")
    refused = Hooks()
    hook = serve_hooks(refused, status=400)  # a receiver that refuses for good
    directory = folder / "directory.toml"
    directory.write_text(DIRECTORY.replace("{hook}", refused.url), encoding="utf-8")
    port = free_ports(1)[0]
    running = MeteredWorker(
        f"e2e-metrics-{uuid.uuid4().hex[:10]}",
        f"http://127.0.0.1:{port}/metrics",
        folder / "worker.log",
    )
    env = clean_env(
        TEMPORAL_ADDRESS=temporal_server,
        CSE_TASK_QUEUE=running.task_queue,
        CSE_OUTBOX_FILE=str(folder / "outbox.jsonl"),
        CSE_POLICY_DIR=str(REPO / "policies"),
        CSE_PANEL_SCHEDULE_ID=f"panel-{running.task_queue}",
        CSE_DIRECTORY_FILE=str(directory),
        CSE_WEBHOOK_SECRET=SECRET,
        CSE_METRICS_PORT=str(port),
    )
    try:
        with worker_process(env, running.log):
            yield running
    finally:
        hook.shutdown()
        hook.server_close()


def a_referral(received_ago: timedelta, significant_harm: bool) -> dict[str, Any]:
    return {
        "referral_id": f"E2E-M-{uuid.uuid4().hex[:10]}",
        "received_at": iso(seconds(datetime.now(UTC) - received_ago)),
        "child_ref": f"PERSON-{uuid.uuid4().hex[:8]}",
        "team": f"E2E-M-{uuid.uuid4().hex[:6]}",
        "referrer_agency": "health",
        "concerns": ["sexual_health"],
        "significant_harm_suspected": significant_harm,
        "summary": f"SUMMARY-{uuid.uuid4().hex[:8]}",
    }


@pytest.fixture(scope="module")
def cases(temporal_server: str, metered_worker: MeteredWorker) -> list[dict[str, Any]]:
    """On the metered worker's own queue: a referral received a month ago (its referral
    decision and strategy discussion clocks breach at once, and the webhook refuses their
    strategic escalation for good), sent two updates the workflow refuses; and a referral
    received two hours ago, decided now (its referral decision clock is met)."""
    temporal = TemporalCli(temporal_server)
    late = a_referral(timedelta(days=30), significant_harm=True)
    late_wid = f"referral-{late['referral_id']}"
    temporal.start(metered_worker.task_queue, late)
    wait_until(
        "a strategic escalation to fail for good",
        lambda: temporal.status(late_wid)["delivery_failures"],
        SCRAPE_TIMEOUT,
    )
    temporal.settled(late_wid)
    assessment = {"outcome": "nfa", "rationale": "", "completed_at": iso(datetime.now(UTC))}
    temporal.refused_update(late_wid, "complete_assessment", assessment | {"actor": "sw-m"})
    temporal.refused_update(late_wid, "decide", {"decision": "maybe", "actor": "sw-m"})

    prompt = a_referral(timedelta(hours=2), significant_harm=False)
    prompt_wid = f"referral-{prompt['referral_id']}"
    temporal.start(metered_worker.task_queue, prompt)
    decision = {"decision": "assess", "decided_at": iso(seconds(datetime.now(UTC)))}
    temporal.update(prompt_wid, "decide", decision | {"reason": "", "actor": "sw-m"})
    temporal.settled(prompt_wid)
    return [late, prompt]


@pytest.fixture(scope="module")
def failing_task(temporal_server: str, metered_worker: MeteredWorker) -> Iterator[None]:
    """A workflow of a type the worker does not have: its workflow task fails, over and over,
    as a stuck case's would."""
    temporal = TemporalCli(temporal_server)
    wid = f"no-such-workflow-{uuid.uuid4().hex[:8]}"
    flags = ["--type", "NoSuchWorkflow", "--task-queue", metered_worker.task_queue]
    temporal("workflow", "start", "--workflow-id", wid, *flags)

    where = {"workflow_type": "NoSuchWorkflow", "task_queue": metered_worker.task_queue}

    def failed() -> float:
        return total(
            metered_worker.scrape(), "temporal_workflow_task_execution_failed_total", **where
        )

    wait_until("the unknown workflow's task to fail", failed, SCRAPE_TIMEOUT)
    yield
    temporal("workflow", "terminate", "--workflow-id", wid, "--reason", "test over")


# ---- the tests ---------------------------------------------------------------------------


def test_the_worker_serves_the_sdks_metrics_and_the_cases_counters(
    metered_worker: MeteredWorker, cases: list[dict[str, Any]], failing_task: None
) -> None:
    samples = metered_worker.scrape()
    queue = {"task_queue": metered_worker.task_queue}
    sdk = "temporal_workflow_task_execution_latency_seconds_count"
    assert total(samples, sdk, workflow_type="ReferralWorkflow", **queue) >= 3
    assert total(samples, "temporal_workflow_task_execution_failed_total", **queue) >= 1
    assert total(samples, "temporal_activity_execution_failed_total", activity_type="notify")
    assert total(samples, "temporal_worker_task_slots_available", worker_type="WorkflowWorker")

    def notifications(**labels: str) -> float:
        return total(samples, "cse_notifications_total", **queue, **labels)

    breach = {"kind": "clock_step", "step": "strategic_escalation"}
    assert notifications(channel="webhook", outcome="failed", **breach) == 2
    assert notifications(channel="outbox", outcome="delivered", **breach) == 2
    assert notifications(channel="outbox", outcome="delivered", kind="delivery_failed") == 2
    assert notifications(channel="webhook", kind="delivery_failed") == 0  # it had no address
    assert total(samples, "cse_refusals_total", rule="event_not_allowed_in_stage", **queue) == 1
    assert total(samples, "cse_refusals_total", rule="invalid_input", **queue) == 1


def test_the_clock_counters_move_as_clocks_open_breach_and_are_met(
    metered_worker: MeteredWorker, cases: list[dict[str, Any]]
) -> None:
    samples = metered_worker.scrape()
    queue = {"task_queue": metered_worker.task_queue, "workflow_type": "ReferralWorkflow"}

    def clocks(moved: str, clock: str) -> float:
        return total(samples, f"cse_clocks_{moved}_total", clock=clock, **queue)

    assert clocks("opened", "referral_decision") == 2
    assert clocks("breached", "referral_decision") == 1
    assert clocks("met", "referral_decision") == 1
    assert clocks("opened", "strategy_discussion") == 1
    assert clocks("breached", "strategy_discussion") == 1
    assert clocks("opened", "assessment") == 1
    assert clocks("met", "assessment") + clocks("breached", "assessment") == 0


def test_no_metric_carries_a_case_or_a_child(
    metered_worker: MeteredWorker, cases: list[dict[str, Any]]
) -> None:
    text = metered_worker.scrape_text()
    for case in cases:
        for field in ("referral_id", "child_ref", "team", "summary"):
            assert case[field] not in text, f"a case's {field} is in a metric"
    ours = {"channel", "outcome", "kind", "step", "rule", "clock"}
    sdks = {"namespace", "task_queue", "workflow_type", "activity_type", "service_name"}
    cse_labels = {k for s in parse(text) if s.name.startswith("cse_") for k in s.labels}
    assert cse_labels <= ours | sdks


def test_the_worker_refuses_to_start_on_a_metrics_port_that_is_taken(tmp_path: Path) -> None:
    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        held.listen()
        port = held.getsockname()[1]
        env = clean_env(
            TEMPORAL_ADDRESS="127.0.0.1:1",  # never reached: the endpoint is set up first
            CSE_POLICY_DIR=str(REPO / "policies"),
            CSE_OUTBOX_FILE=str(tmp_path / "outbox.jsonl"),
            CSE_METRICS_PORT=str(port),
        )
        done = run_python("worker.py", env=env)
    assert done.returncode == 2, done.stderr
    assert f"worker not started: CSE_METRICS_HOST/CSE_METRICS_PORT 127.0.0.1:{port}" in done.stderr
    assert "Address already in use" in done.stderr


# ---- deploy/: the dashboard, the alerts and the scrape config ----------------------------


async def api_metric_names() -> set[str]:
    """What the API's /metrics serves once it has answered a request (no Temporal needed)."""
    settings = Settings(
        plaintext_payloads=True,
        policy_dir=REPO / "policies",
        metrics_token=SecretStr(METRICS_TOKEN),
    )
    transport = httpx.ASGITransport(app=create_app(settings))
    headers = {"Authorization": f"Bearer {METRICS_TOKEN}"}
    async with httpx.AsyncClient(transport=transport, base_url="http://api") as http:
        await http.get("/no-such-route")
        answer = await http.get("/metrics", headers=headers)
    assert answer.status_code == 200
    return {s.name for s in parse(answer.text)}


def names_in(expression: str) -> set[str]:
    """The metric names a PromQL expression reads (those of this service and the SDK)."""
    return set(re.findall(r"\b((?:cse|temporal)_[a-z0-9_]+)\b", expression))


def dashboard_expressions() -> list[str]:
    dashboard = json.loads((REPO / "deploy/grafana/cse-dashboard.json").read_text())
    assert dashboard["title"]
    panels = [p for p in dashboard["panels"] if p["type"] != "row"]
    assert all(p.get("targets") for p in panels), "a panel without a query"
    return [t["expr"] for p in panels for t in p["targets"]]


def alert_rules() -> list[dict[str, Any]]:
    rules = yaml.safe_load((REPO / "deploy/prometheus/alerts.yml").read_text())
    return [r for group in rules["groups"] for r in group["rules"]]


async def test_dashboard_and_alerts_read_only_metrics_the_endpoints_serve(
    metered_worker: MeteredWorker, cases: list[dict[str, Any]], failing_task: None
) -> None:
    served = {s.name for s in metered_worker.scrape()} | await api_metric_names()
    rules = alert_rules()
    alerts = {r["alert"] for r in rules}
    assert {"CseBreachNotificationUndelivered", "CseWorkflowTasksFailing"} <= alerts
    expressions = dashboard_expressions() + [r["expr"] for r in rules]
    read = set().union(*(names_in(e) for e in expressions))
    assert {"cse_notifications_total", "temporal_workflow_task_execution_failed_total"} <= read
    assert read <= served, f"read but never served: {sorted(read - served)}"

    scrape = yaml.safe_load((REPO / "deploy/prometheus/prometheus.yml").read_text())
    assert scrape["rule_files"] == ["alerts.yml"]
    jobs = {job["job_name"]: job for job in scrape["scrape_configs"]}
    assert {"cse-worker", "cse-api"} <= set(jobs)
    assert jobs["cse-api"]["authorization"]["credentials_file"]
