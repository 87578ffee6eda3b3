"""deploy/prometheus, checked by Prometheus' own `promtool` (Debian's `prometheus` package, as
scripts/setup.sh installs it): the scrape configuration and the alert rules it loads are valid,
and the rules fire when they should and only then (tests/deploy/alerts_test.yml).

`promtool check config` also opens the files the configuration names. The API's bearer token
is a Compose secret, in the container only, so the check runs on a copy that differs from the
deployed file in that one path (asserted); the rules file sits beside it as in the container.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml  # type: ignore[import-untyped]  # PyYAML ships no types; no types-PyYAML here

REPO = Path(__file__).resolve().parents[2]
DEPLOY = REPO / "deploy" / "prometheus"
RULE_TESTS = Path(__file__).with_name("alerts_test.yml")
PROMTOOL = Path(shutil.which("promtool") or "/usr/bin/promtool")


def promtool(*args: str | Path) -> subprocess.CompletedProcess[str]:
    if not PROMTOOL.exists():
        pytest.fail(
            f"no promtool at {PROMTOOL}: run `bash scripts/setup.sh` (it installs Debian's "
            "`prometheus` as root), or `apt-get install -y --no-install-recommends prometheus`",
            pytrace=False,
        )
    cmd = [str(PROMTOOL), *map(str, args)]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=60, check=False)


def passes(*args: str | Path) -> str:
    done = promtool(*args)
    assert done.returncode == 0, f"promtool {' '.join(map(str, args))}:\n{done.stdout}{done.stderr}"
    return done.stdout


def deployed_config() -> dict[str, Any]:
    config: dict[str, Any] = yaml.safe_load((DEPLOY / "prometheus.yml").read_text("utf-8"))
    return config


def checkable_copy(folder: Path) -> Path:
    """deploy/prometheus in `folder`, the token file the API job names made there."""
    config = deployed_config()
    token = folder / "cse-metrics-token"
    token.write_text("a-metrics-token-for-tests", encoding="utf-8")
    for job in config["scrape_configs"]:
        if "authorization" in job:
            job["authorization"]["credentials_file"] = str(token)
    for rules in config["rule_files"]:
        shutil.copy(DEPLOY / rules, folder / rules)
    copy = folder / "prometheus.yml"
    copy.write_text(yaml.safe_dump(config), encoding="utf-8")
    return copy


def test_promtool_passes_the_scrape_configuration(tmp_path: Path) -> None:
    copy = checkable_copy(tmp_path)
    differences = [
        (a, b)
        for a, b in zip(
            deployed_config()["scrape_configs"],
            yaml.safe_load(copy.read_text("utf-8"))["scrape_configs"],
            strict=True,
        )
        if a != b
    ]
    assert [a["authorization"]["credentials_file"] for a, _ in differences] == [
        "/etc/prometheus/secrets/cse-metrics-token"
    ]
    out = passes("check", "config", copy)
    assert "SUCCESS: 5 rules found" in out  # and the rules file it loads


def test_promtool_refuses_a_configuration_it_cannot_run(tmp_path: Path) -> None:
    """The check is live: the deployed file as it is, outside the container, names a token
    file that is not there."""
    shutil.copy(DEPLOY / "prometheus.yml", tmp_path / "prometheus.yml")
    shutil.copy(DEPLOY / "alerts.yml", tmp_path / "alerts.yml")
    done = promtool("check", "config", tmp_path / "prometheus.yml")
    assert done.returncode != 0
    assert "cse-metrics-token" in done.stdout + done.stderr


def test_promtool_passes_the_alert_rules() -> None:
    out = passes("check", "rules", DEPLOY / "alerts.yml")
    assert "SUCCESS: 5 rules found" in out


def test_promtool_refuses_a_broken_rule(tmp_path: Path) -> None:
    rules = yaml.safe_load((DEPLOY / "alerts.yml").read_text("utf-8"))
    rules["groups"][0]["rules"][0]["expr"] = (
        "sum by (channel) (increase(cse_notifications_total[15m]"
    )
    broken = tmp_path / "alerts.yml"
    broken.write_text(yaml.safe_dump(rules), encoding="utf-8")
    assert promtool("check", "rules", broken).returncode != 0


def test_the_alerts_fire_when_they_should_and_only_then() -> None:
    """tests/deploy/alerts_test.yml: series as the worker serves them, in minutes."""
    out = passes("test", "rules", RULE_TESTS)
    assert "SUCCESS" in out


def test_every_alert_has_a_rule_test() -> None:
    rules = yaml.safe_load((DEPLOY / "alerts.yml").read_text("utf-8"))
    alerts = {r["alert"] for group in rules["groups"] for r in group["rules"]}
    cases = yaml.safe_load(RULE_TESTS.read_text("utf-8"))["tests"]
    fired = {
        t["alertname"] for case in cases for t in case["alert_rule_test"] if t.get("exp_alerts")
    }
    assert alerts - fired == set(), "an alert no test sees fire"
