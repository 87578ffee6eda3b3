"""A real Prometheus (Debian's `prometheus`, as scripts/setup.sh installs it) scrapes the real
worker.py and `python -m api` with a configuration made from deploy/prometheus: the same scrape
jobs, token and alert rules, pointed at this machine's processes and run fast.

A late referral's strategic escalation goes to a webhook that refuses it for good (the
metrics test's worker and cases, reused): CseBreachNotificationUndelivered must fire, then
resolve. And every series the Grafana dashboard reads must be in that Prometheus.
"""

from __future__ import annotations

import contextlib
import json
import re
import shutil
import subprocess
import threading
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml  # type: ignore[import-untyped]  # PyYAML ships no types; no types-PyYAML here

from tests.browser.conftest import api_process
from tests.e2e.conftest import REPO, clean_env, free_ports, process_group, tail, wait_until
from tests.e2e.test_metrics_e2e import (  # noqa: F401  # fixtures, registered by being imported
    METRICS_TOKEN,
    MeteredWorker,
    cases,
    dashboard_expressions,
    failing_task,
    metered_worker,
    names_in,
)
from tests.prometheus_text import total

pytestmark = pytest.mark.e2e

DEPLOY = REPO / "deploy" / "prometheus"
PROMETHEUS = Path(shutil.which("prometheus") or "/usr/bin/prometheus")
BREACH_ALERT = "CseBreachNotificationUndelivered"
REFUSED = {"channel": "webhook", "step": "strategic_escalation"}
# The rules' durations (ranges and offsets of 15m, `for: 30m`...) are shortened in the copy
# Prometheus runs here, so an alert fires and resolves in seconds, not a quarter of an hour: ten
# one-second scrapes still see a counter rise, or not. Expressions, labels and names are kept.
# (The breach alert has no `for:`; the others' are shortened alike, never reached here.)
WINDOW = "10s"
FOR = "2s"
DURATION = re.compile(r"(?<![\w.])\d+(?:ms|[smhdwy])\b")
START_TIMEOUT = 30.0
ALERT_TIMEOUT = 60.0
UNDELIVERED_PANEL = "Breach notifications undelivered (24 h)"


# ---- the configuration, made from deploy/prometheus -------------------------------------


def local_rules() -> dict[str, Any]:
    """deploy/prometheus/alerts.yml with every duration of a rule (range, offset, `for:`)
    shortened; the expressions, labels and names are the deployed ones."""
    rules: dict[str, Any] = yaml.safe_load((DEPLOY / "alerts.yml").read_text(encoding="utf-8"))
    for group in rules["groups"]:
        for rule in group["rules"]:
            rule["expr"] = DURATION.sub(WINDOW, rule["expr"])
            if "for" in rule:
                rule["for"] = FOR
    return rules


def local_config(targets: dict[str, str], token_file: Path, rules_file: Path) -> dict[str, Any]:
    """deploy/prometheus/prometheus.yml scraping `targets` (job -> host:port) instead of the
    compose network's DNS names, the token read from `token_file`, every second."""
    config: dict[str, Any] = yaml.safe_load((DEPLOY / "prometheus.yml").read_text("utf-8"))
    config["global"] |= {"scrape_interval": "1s", "evaluation_interval": "1s"}
    config["rule_files"] = [str(rules_file)]
    jobs = {job["job_name"]: job for job in config["scrape_configs"]}
    # The Temporal server's job is compose's alone: the dev server here serves no metrics.
    assert set(jobs) == {*targets, "temporal-server"}
    for name, target in targets.items():
        del jobs[name]["dns_sd_configs"]
        jobs[name]["static_configs"] = [{"targets": [target]}]
        if "authorization" in jobs[name]:
            jobs[name]["authorization"]["credentials_file"] = str(token_file)
    config["scrape_configs"] = [jobs[name] for name in targets]
    return config


def write_config(folder: Path, targets: dict[str, str]) -> Path:
    """The local configuration, rules and token file in `folder`; the configuration's path."""
    token_file, rules_file, config_file = (folder / n for n in ("token", "alerts.yml", "p.yml"))
    token_file.write_text(METRICS_TOKEN, encoding="utf-8")
    rules_file.write_text(yaml.safe_dump(local_rules()), encoding="utf-8")
    config_file.write_text(yaml.safe_dump(local_config(targets, token_file, rules_file)), "utf-8")
    return config_file


# ---- Prometheus, and what it says about the alerts ---------------------------------------


@dataclass
class AlertLog:
    """Every state of every alert /api/v1/alerts has shown, polled twice a second from before
    any case started, so an alert that fires and resolves between two looks is still seen."""

    url: str
    seen: list[list[dict[str, Any]]] = field(default_factory=list)  # the alerts of each look
    stop: threading.Event = field(default_factory=threading.Event)

    def watch(self) -> None:
        while not self.stop.wait(0.5):
            with contextlib.suppress(OSError, ValueError):
                self.seen.append(api_get(self.url, "/api/v1/alerts")["alerts"])

    def states(self, name: str, **labels: str) -> list[str]:
        """The state of the alert `name` with `labels` at each look ("absent": not listed)."""
        out = []
        for look in self.seen:
            found = [
                a["state"]
                for a in look
                if a["labels"]["alertname"] == name
                and all(a["labels"].get(k) == v for k, v in labels.items())
            ]
            out.append(found[0] if found else "absent")
        return out


@dataclass(frozen=True)
class Prometheus:
    url: str
    alerts: AlertLog
    log: Path

    def query(self, expression: str) -> list[dict[str, Any]]:
        answer = api_get(self.url, "/api/v1/query?" + urllib.parse.urlencode({"query": expression}))
        result: list[dict[str, Any]] = answer["result"]
        return result

    def targets(self) -> dict[str, str]:
        """Each scrape job's health (up, down or unknown)."""
        active = api_get(self.url, "/api/v1/targets")["activeTargets"]
        return {t["labels"]["job"]: t["health"] for t in active}


def api_get(url: str, path: str) -> Any:
    with urllib.request.urlopen(url + path, timeout=5) as answer:  # loopback, ours
        body = json.loads(answer.read())
    assert body["status"] == "success", body
    return body["data"]


@pytest.fixture(scope="module")
def metered_api(temporal_server: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`python -m api` with its /metrics on (CSE_METRICS_TOKEN); its host:port."""
    folder = tmp_path_factory.mktemp("metered-api")
    env = clean_env(
        TEMPORAL_ADDRESS=temporal_server,
        CSE_POLICY_DIR=str(REPO / "policies"),
        CSE_METRICS_TOKEN=METRICS_TOKEN,
    )
    with api_process(env, folder / "api.log") as url:
        for path in ("/health", "/no-such-route"):  # answers for the request series to count
            with contextlib.suppress(OSError):
                urllib.request.urlopen(url + path, timeout=5).close()
        yield url.removeprefix("http://")


@pytest.fixture(scope="module")
def prometheus(
    metered_worker: MeteredWorker,  # noqa: F811  # the imported fixture
    metered_api: str,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Prometheus]:
    if not PROMETHEUS.exists():
        pytest.fail(
            f"no prometheus at {PROMETHEUS}: run `bash scripts/setup.sh` (it installs Debian's "
            "`prometheus` as root), or `apt-get install -y --no-install-recommends prometheus`",
            pytrace=False,
        )
    folder = tmp_path_factory.mktemp("prometheus")
    worker = metered_worker.metrics_url.removeprefix("http://").removesuffix("/metrics")
    config_file = write_config(folder, {"cse-worker": worker, "cse-api": metered_api})
    port = free_ports(1)[0]
    log = folder / "prometheus.log"
    cmd = [
        str(PROMETHEUS),
        f"--config.file={config_file}",
        f"--storage.tsdb.path={folder / 'data'}",
        f"--web.listen-address=127.0.0.1:{port}",
    ]
    url = f"http://127.0.0.1:{port}"
    alerts = AlertLog(url)
    watcher = threading.Thread(target=alerts.watch, daemon=True)
    with process_group(cmd, clean_env(), log) as proc:
        try:
            running = Prometheus(url, alerts, log)
            wait_until(
                "Prometheus to scrape the worker and the API",
                lambda: up(running, proc),
                START_TIMEOUT,
            )
            watcher.start()
            yield running
        finally:
            alerts.stop.set()


def up(prometheus: Prometheus, proc: subprocess.Popen[bytes]) -> bool:
    if proc.poll() is not None:
        raise AssertionError(f"prometheus exited {proc.returncode}:\n{tail(prometheus.log)}")
    with contextlib.suppress(OSError):
        return set(prometheus.targets().values()) == {"up"}
    return False


@pytest.fixture(scope="module")
def breached(
    prometheus: Prometheus,
    cases: list[dict[str, Any]],  # noqa: F811  # the imported fixture, started after Prometheus
    failing_task: None,  # noqa: F811  # the imported fixture
) -> Prometheus:
    """Prometheus, once the late referral's strategic escalation was refused for good."""
    return prometheus


# ---- the tests ---------------------------------------------------------------------------


def test_the_breach_alert_fires_when_a_channel_refuses_for_good_then_resolves(
    breached: Prometheus,
) -> None:
    alerts = breached.alerts

    def fired_then_resolved() -> bool:
        states = alerts.states(BREACH_ALERT, **REFUSED)
        return "firing" in states and states[-1] == "absent"

    wait_until(f"{BREACH_ALERT} to fire, then resolve", fired_then_resolved, ALERT_TIMEOUT)
    states = alerts.states(BREACH_ALERT, **REFUSED)
    assert states[0] == "absent", "it fired before the channel refused anything"
    # Prometheus' own record of it, as a query reads it: it fired, and fires no more.
    firing = f'ALERTS{{alertname="{BREACH_ALERT}", alertstate="firing", channel="webhook"}}'
    assert breached.query(f"max_over_time({firing}[5m])"), "no ALERTS series of the firing"
    assert breached.query(firing) == []
    print(f"\n{BREACH_ALERT} seen: {' -> '.join(changes(states))}")


def changes(states: list[str]) -> list[str]:
    return [s for i, s in enumerate(states) if i == 0 or states[i - 1] != s]


def test_every_series_the_dashboard_reads_is_in_prometheus(
    breached: Prometheus,
    metered_worker: MeteredWorker,  # noqa: F811  # the imported fixture
) -> None:
    expressions = dashboard_expressions()
    names = set().union(*(names_in(e) for e in expressions))
    missing = sorted(n for n in names if not breached.query(f'count({{__name__="{n}"}})'))
    assert missing == [], f"the dashboard reads series Prometheus does not have: {missing}"

    # Every panel's query runs in this Prometheus and answers (a rate needs two scrapes): none
    # shows "No data" for lack of a 5xx or a breach.
    def unanswered() -> list[str]:
        return [e for e in expressions if not breached.query(e)]

    with contextlib.suppress(AssertionError):
        wait_until("every dashboard query to answer", lambda: not unanswered(), 10)
    assert unanswered() == []
    # The undelivered stat counts what the worker counted, the first refusal included.
    (stat,) = panel_expressions(UNDELIVERED_PANEL)
    refused = total(metered_worker.scrape(), "cse_notifications_total", outcome="failed")
    assert refused >= 1
    assert float(breached.query(stat)[0]["value"][1]) == refused


def panel_expressions(title: str) -> list[str]:
    dashboard = json.loads((REPO / "deploy/grafana/cse-dashboard.json").read_text("utf-8"))
    return [t["expr"] for p in dashboard["panels"] if p["title"] == title for t in p["targets"]]
