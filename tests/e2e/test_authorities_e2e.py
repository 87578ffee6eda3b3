"""Across borough lines (docs/rules.md, Who is told) on the real dev server: the project's worker.py
with a directory listing another local authority, the outbox and a real SMTP server. A case
of a child living in that authority's borough, referred to MASE, tells the authority's contact:
the case reference, what happened and the link, never the child. A code the directory does not
list fails the case at its start, naming the field.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import (
    TemporalCli,
    free_ports,
    iso,
    roles_table,
    seconds,
    tail,
    wait_until,
    worker_process,
)
from tests.e2e.test_notifications_e2e import Mail, Mailbox, SmtpServer, mailing_worker_env

pytestmark = pytest.mark.e2e

OURS, THEIRS = "E99000099", "E99000001"  # invented codes: no area has an E99 code
CONTACT = "cse-contact@la-one.example.org"
SW, TM = "sw-e2e-1", "tm-e2e-1"
DIRECTORY = f"""
authority = "{OURS}"

{roles_table()}
[authorities."{THEIRS}"]
name = "Example Borough One"
contact = ["{CONTACT}"]
"""


@dataclass(frozen=True)
class Service:
    task_queue: str
    outbox: Path
    mailbox: Mailbox
    log: Path

    def told(self, referral_id: str) -> list[dict[str, Any]]:
        if not self.outbox.exists():
            return []
        lines = [json.loads(x) for x in self.outbox.read_text().splitlines() if x.strip()]
        return [
            x
            for x in lines
            if x["referral_id"] == referral_id and x["kind"] == "authority_informed"
        ]


@pytest.fixture(scope="module")
def service(temporal_server: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    folder = tmp_path_factory.mktemp("authorities-worker")
    directory = folder / "directory.toml"
    directory.write_text(DIRECTORY, encoding="utf-8")
    smtp = SmtpServer(port=free_ports(1)[0], mailbox=Mailbox())
    smtp.start()
    running = Service(
        f"e2e-authorities-{uuid.uuid4().hex[:10]}",
        folder / "outbox.jsonl",
        smtp.mailbox,
        folder / "worker.log",
    )
    env = mailing_worker_env(temporal_server, running.task_queue, running.outbox, directory, smtp)
    try:
        with worker_process(env, running.log):
            yield running
    finally:
        smtp.stop()


def placed_referral(**fields: Any) -> dict[str, Any]:
    received = seconds(datetime.now(UTC) - timedelta(hours=1))
    return {
        "referral_id": f"E2E-LA-{uuid.uuid4().hex[:10]}",
        "received_at": iso(received),
        "child_ref": f"PERSON-{uuid.uuid4().hex[:8]}",
        "team": "E2E-NORTH",
        "referrer_agency": "school",
        "concerns": ["sexual_health"],
        "significant_harm_suspected": False,
        "summary": f"SUMMARY-{uuid.uuid4().hex[:8]} seen with older men",
        "looked_after": True,
        **fields,
    }


def referred_to_mase(temporal: TemporalCli, referral: dict[str, Any]) -> None:
    """Assessed, screened, discussed (section 47) and referred to MASE, a second apart."""
    wid = f"referral-{referral['referral_id']}"
    received = datetime.fromisoformat(referral["received_at"])
    steps: list[tuple[str, str, dict[str, Any]]] = [
        ("decide", "decided_at", {"decision": "assess", "reason": "", "actor": SW}),
        (
            "record_screening",
            "screened_at",
            {"score": 2, "professional_concern": "medium", "actor": SW},
        ),
        (
            "complete_assessment",
            "completed_at",
            {"outcome": "strategy_discussion", "actor": SW},
        ),
        (
            "record_strategy_discussion",
            "held_at",
            {
                "chair_role": "team_manager",
                "agencies": ["police", "health"],
                "outcome": "s47",
                "actor": TM,
            },
        ),
        ("refer_to_mase", "referred_at", {"cris_number": "CRIS-E2E-9", "actor": TM}),
    ]
    for number, (update, time_field, payload) in enumerate(steps, 1):
        at = iso(received + timedelta(seconds=number))
        temporal.update(wid, update, {**payload, time_field: at})


def test_a_host_authority_case_referred_to_mase_tells_that_authority_without_child_data(
    temporal: TemporalCli, service: Service
) -> None:
    referral = placed_referral(placing_authority=OURS, host_authority=THEIRS)
    temporal.start(service.task_queue, referral)

    referred_to_mase(temporal, referral)

    rid = referral["referral_id"]
    lines = wait_until(
        "the authority's two notices in the outbox",
        lambda: found if len(found := service.told(rid)) == 2 else None,
        30.0,
    )
    assert [x["subject"] for x in lines] == [
        f"Case {rid}: strategy discussion held",
        f"Case {rid}: referred to MASE",
    ]
    assert all(x["authorities"] == [THEIRS] and x["roles"] == [] for x in lines)
    assert all(x["link"] == f"https://cse.example.org/dashboard/cases/{rid}" for x in lines)

    def to_contact() -> list[Mail] | None:
        mails = [m for m in service.mailbox.for_referral(rid) if CONTACT in m.rcpt_tos]
        return mails if len(mails) == 2 else None

    to_authority = wait_until("two mails to the authority's contact", to_contact, 30.0)
    assert all(m.rcpt_tos == [CONTACT] for m in to_authority)  # never with a role's address
    assert sorted(str(m.message["Subject"]) for m in to_authority) == sorted(
        x["subject"] for x in lines
    )
    seen = [json.dumps(x) for x in lines] + [m.readable() for m in to_authority]
    seen.append(tail(service.log, 1_000_000))
    for text in seen:
        for detail in (referral["child_ref"], referral["summary"], "older men", "sexual"):
            assert detail not in text, f"{detail!r} leaked"
    status = temporal.status(f"referral-{rid}")
    assert (status["placing_authority"], status["host_authority"]) == (OURS, THEIRS)
    assert status["other_authorities"] == [THEIRS]


def test_a_code_the_directory_does_not_list_fails_the_case_naming_the_field(
    temporal: TemporalCli, service: Service
) -> None:
    referral = placed_referral(host_authority="E99000777")
    temporal.start(service.task_queue, referral)
    wid = f"referral-{referral['referral_id']}"

    def failed() -> dict[str, Any] | None:
        described: dict[str, Any] = temporal("workflow", "describe", "--workflow-id", wid)
        info = described.get("workflowExecutionInfo", {})
        return described if "FAILED" in str(info.get("status", "")) else None

    wait_until("the case to fail at its start", failed, 30.0)
    history = json.dumps(temporal("workflow", "show", "--workflow-id", wid))
    assert "host_authority: 'E99000777' is not a local authority" in history
    assert f"give one of {THEIRS}, {OURS}" in history
    assert service.told(referral["referral_id"]) == []
