"""A closed case stays a record: the worker makes the namespace keep closed workflows for the
records period (the dev server's default is one day, after which a closed case would vanish)."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import RunningWorker, TemporalCli

pytestmark = pytest.mark.e2e

SECONDS_A_DAY = 86_400


def test_the_worker_keeps_closed_cases_for_the_records_period(
    temporal: TemporalCli, service_worker: RunningWorker
) -> None:
    described = temporal("operator", "namespace", "describe", "--namespace", "default")
    ttl = described["config"]["workflowExecutionRetentionTtl"]
    assert ttl.endswith("s")
    assert int(ttl.removesuffix("s")) >= 27_394 * SECONDS_A_DAY  # 75 years, the default
    assert "closed_case_retention" in service_worker.log.read_text()
