"""Notifications reach people: the real dev server, the project's worker.py in a subprocess
with a directory file, a real SMTP server (aiosmtpd) and a real webhook receiver, both in this
process. Cases are started with the official `temporal` CLI.

A referral received 10 working days ago is recorded late: its clocks open with every ladder
step in the past, so catch-up sends only the most severe one, the strategic escalation to the
strategic lead. Then the outage: the SMTP server is stopped while such a case opens, started
again on the same port, and every message must arrive once (NOTIFY_RETRY: 5 s, 10 s, 20 s...).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import holidays
import pytest
from aiosmtpd.controller import Controller

from tests.e2e.conftest import (
    LONDON,
    REPO,
    TemporalCli,
    clean_env,
    free_ports,
    iso,
    roles_table,
    run_python,
    seconds,
    tail,
    wait_until,
    worker_process,
)
from tests.e2e.webhooks import Hooks, serve_hooks

pytestmark = pytest.mark.e2e

SENDER = "cse-pathway@example.org"
SECRET = "e2e-webhook-secret-not-a-placeholder"
RECOVERY_TIMEOUT = 60.0  # retries at 5, 15, 35 s after the first attempt
NORTH = "E2E-NORTH"  # a team with its own strategic lead
GLOBAL_LEADS = {"strategic-lead@example.org", "ad-office@example.org"}
NORTH_LEADS = {"north-strategic-lead@example.org"}

DIRECTORY = (
    roles_table(
        strategic_lead=["strategic-lead@example.org", "ad-office@example.org", "{hook}/strategic"]
    )
    + """
[teams."E2E-NORTH"]
strategic_lead = ["north-strategic-lead@example.org", "{hook}/north"]

[people]
"sw-e2e-7" = "sw7@example.org"
"""
)


# ---- the receivers ---------------------------------------------------------------------


@dataclass
class Mail:
    rcpt_tos: list[str]
    raw: bytes

    @property
    def message(self) -> EmailMessage:
        parsed = message_from_bytes(self.raw, policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        return parsed

    @property
    def message_id(self) -> str:
        return str(self.message["Message-ID"]).strip()  # a long one is folded onto a new line

    def readable(self) -> str:
        """Every header and every decoded body part: what a reader could see."""
        message = self.message
        parts = [f"{k}: {v}" for k, v in message.items()]
        for part in message.walk():
            if part.get_content_maintype() == "text":
                assert isinstance(part, EmailMessage)
                parts.append(part.get_content())
        return "\n".join(parts)


@dataclass
class Mailbox:
    """aiosmtpd handler: records every message it accepts."""

    mails: list[Mail] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.mails.append(Mail(list(envelope.rcpt_tos), envelope.original_content))
        return "250 Message accepted"

    def for_referral(self, referral_id: str) -> list[Mail]:
        return [m for m in self.mails if referral_id in m.message["Subject"]]


@dataclass
class SmtpServer:
    port: int
    mailbox: Mailbox
    controller: Controller | None = None

    def start(self) -> None:
        self.controller = Controller(self.mailbox, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None


# ---- the worker with a directory ---------------------------------------------------------


def mailing_worker_env(
    temporal_server: str,
    task_queue: str,
    outbox: Path,
    directory: Path,
    smtp: SmtpServer,
    **extra: str,
) -> dict[str, str]:
    """The worker's environment with a directory, telling people by mail through the local
    SMTP server (no STARTTLS) from SENDER, and the extra settings."""
    return clean_env(
        TEMPORAL_ADDRESS=temporal_server,
        CSE_TASK_QUEUE=task_queue,
        CSE_OUTBOX_FILE=str(outbox),
        CSE_POLICY_DIR=str(REPO / "policies"),
        CSE_PUBLIC_URL="https://cse.example.org",
        CSE_DIRECTORY_FILE=str(directory),
        CSE_SMTP_HOST="127.0.0.1",
        CSE_SMTP_PORT=str(smtp.port),
        CSE_SMTP_STARTTLS="false",
        CSE_NOTIFY_FROM=SENDER,
        **extra,
    )


@dataclass(frozen=True)
class NotifyingWorker:
    task_queue: str
    outbox: Path
    smtp: SmtpServer
    hooks: Hooks
    log: Path

    def outbox_lines(self, referral_id: str) -> list[dict[str, Any]]:
        if not self.outbox.exists():
            return []
        lines = [json.loads(x) for x in self.outbox.read_text().splitlines() if x.strip()]
        return [x for x in lines if x["referral_id"] == referral_id]


@pytest.fixture(scope="module")
def notifying_worker(
    temporal_server: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[NotifyingWorker]:
    folder = tmp_path_factory.mktemp("notifying-worker")
    hooks = Hooks()
    http = serve_hooks(hooks)
    smtp = SmtpServer(port=free_ports(1)[0], mailbox=Mailbox())
    smtp.start()
    directory = folder / "directory.toml"
    directory.write_text(DIRECTORY.replace("{hook}", hooks.url), encoding="utf-8")
    queue = f"e2e-notify-{uuid.uuid4().hex[:10]}"
    running = NotifyingWorker(queue, folder / "outbox.jsonl", smtp, hooks, folder / "worker.log")
    env = mailing_worker_env(
        temporal_server,
        running.task_queue,
        running.outbox,
        directory,
        smtp,
        CSE_WEBHOOK_SECRET=SECRET,
    )
    try:
        with worker_process(env, running.log):
            yield running
    finally:
        smtp.stop()
        http.shutdown()
        http.server_close()


# ---- referrals received long ago ---------------------------------------------------------


def working_days_ago(count: int) -> date:
    """The London date `count` England working days before today."""
    day = datetime.now(LONDON).date()
    bank = holidays.country_holidays("GB", subdiv="ENG", years=range(day.year - 1, day.year + 1))
    while count:
        day -= timedelta(days=1)
        if day.weekday() < 5 and day not in bank:
            count -= 1
    return day


def late_referral(team: str) -> dict[str, Any]:
    received = datetime.combine(working_days_ago(10), datetime.min.time(), tzinfo=LONDON)
    return {
        "referral_id": f"E2E-N-{uuid.uuid4().hex[:10]}",
        "received_at": iso(seconds(received.replace(hour=10))),
        "child_ref": f"PERSON-{uuid.uuid4().hex[:8]}",
        "team": team,
        "referrer_agency": "health",
        "concerns": ["sexual_health", "unexplained_gifts_or_money"],
        "significant_harm_suspected": True,
        "summary": f"SUMMARY-{uuid.uuid4().hex[:8]} met an older male online",
    }


def child_details(referral: dict[str, Any]) -> list[str]:
    words: list[str] = [referral["child_ref"], referral["summary"], "older male"]
    concerns: list[str] = referral["concerns"]
    return words + concerns + [c.replace("_", " ") for c in concerns]


def message_id(notification_id: str) -> str:
    """Independently of the code: ':' written =3A and '~' (before the case key) =7E, at the
    sender's domain."""
    local = notification_id.replace(":", "=3A").replace("~", "=7E")
    return f"<{local}@example.org>"


def strategic_notifications(running: NotifyingWorker, referral_id: str) -> list[str]:
    """The notification ids the worker sent for a case, checked to be strategic escalations."""

    def ladder() -> list[dict[str, Any]]:  # harm suspected: the partners' notice is apart
        return [x for x in running.outbox_lines(referral_id) if x["kind"] == "clock_step"]

    lines = wait_until(
        f"the outbox lines of {referral_id}",
        lambda: found if len(found := ladder()) == 2 else None,
        15.0,
    )
    assert {(x["clock"], x["step"], tuple(x["roles"])) for x in lines} == {
        ("referral_decision", "strategic_escalation", ("strategic_lead",)),
        ("strategy_discussion", "strategic_escalation", ("strategic_lead",)),
    }
    return sorted(x["notification_id"] for x in lines)


def assert_delivered_once(
    running: NotifyingWorker, referral: dict[str, Any], leads: set[str], hook: str
) -> None:
    referral_id = referral["referral_id"]
    expected = strategic_notifications(running, referral_id)
    every_mail = running.smtp.mailbox.for_referral(referral_id)
    mails = [m for m in every_mail if m.message_id in {message_id(n) for n in expected}]
    assert sorted(m.message_id for m in mails) == sorted(message_id(n) for n in expected)
    assert all(sorted(m.rcpt_tos) == sorted(leads) for m in mails)
    partners = [m for m in every_mail if m not in mails]  # strategy meeting needed
    assert {to for m in partners for to in m.rcpt_tos} <= {
        "police-cse-spoc@example.org",
        "mash@example.org",
    }
    posts = [
        p for p in running.hooks.for_referral(referral_id) if p[1]["Idempotency-Key"] in expected
    ]
    assert sorted(p[1]["Idempotency-Key"] for p in posts) == expected
    for path, headers, body in posts:
        assert path == hook
        digest = hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
        assert headers["X-CSE-Signature"] == f"sha256={digest}"
    seen = [m.readable() for m in every_mail] + [p[2].decode() for p in posts]
    seen += [json.dumps(p[1]) for p in posts] + [tail(running.log, 1_000_000)]
    for text in seen:
        for detail in child_details(referral):
            assert detail not in text, f"{detail!r} leaked into a notification"


# ---- the tests ---------------------------------------------------------------------------


def retrying(temporal: TemporalCli, wid: str) -> list[dict[str, Any]] | None:
    """The case's notify activities once each has failed at least twice (SMTP down)."""
    pending: list[dict[str, Any]] = temporal.describe(wid).get("pendingActivities", [])
    return pending if pending and all(int(a.get("attempt", 1)) > 2 for a in pending) else None


def test_a_late_referral_mails_exactly_the_teams_strategic_lead(
    temporal: TemporalCli, notifying_worker: NotifyingWorker
) -> None:
    referral = late_referral(NORTH)
    wid = f"referral-{referral['referral_id']}"

    temporal.start(notifying_worker.task_queue, referral)

    mailbox = notifying_worker.smtp.mailbox
    wait_until(  # and the police and MASH's "strategy discussion needed", one message
        "two strategic escalation mails",
        lambda: len(mailbox.for_referral(referral["referral_id"])) >= 3,
        30.0,
    )
    temporal.settled(wid)
    assert_delivered_once(notifying_worker, referral, NORTH_LEADS, "/north")
    status = temporal.status(wid)
    for clock in status["clocks"]:
        assert clock["state"] == "breached"


def test_mail_sent_while_the_smtp_server_is_down_arrives_once_it_is_back(
    temporal: TemporalCli, notifying_worker: NotifyingWorker
) -> None:
    referral = late_referral("E2E-SOUTH")
    wid = f"referral-{referral['referral_id']}"
    smtp = notifying_worker.smtp
    smtp.stop()
    try:
        temporal.start(notifying_worker.task_queue, referral)
        strategic_notifications(notifying_worker, referral["referral_id"])  # first attempt made
        failing = wait_until("a second failed attempt", lambda: retrying(temporal, wid), 30.0)
        assert all("email: relay" in a["lastFailure"]["message"] for a in failing)
        assert smtp.mailbox.for_referral(referral["referral_id"]) == []
    finally:
        smtp.start()

    wait_until(
        "the held-back mails to arrive",
        lambda: len(smtp.mailbox.for_referral(referral["referral_id"])) >= 2,
        RECOVERY_TIMEOUT,
        interval=0.5,
    )
    temporal.settled(wid)
    assert_delivered_once(notifying_worker, referral, GLOBAL_LEADS, "/strategic")


@pytest.mark.parametrize(
    ("directory", "extra", "named"),
    [
        (DIRECTORY.replace('mase_chair = ["mase-chair@example.org"]\n', ""), {}, "mase_chair"),
        (DIRECTORY.replace('"sw7@example.org"', '"sw7-at-example.org"'), {}, "people.sw-e2e-7.0"),
        (DIRECTORY, {"CSE_WEBHOOK_SECRET": "changethis"}, "CSE_WEBHOOK_SECRET is a placeholder"),
        (DIRECTORY, {"CSE_WEBHOOK_SECRET": ""}, "CSE_WEBHOOK_SECRET"),
    ],
)
def test_the_worker_refuses_to_start_on_a_bad_directory_naming_it(
    tmp_path: Path, directory: str, extra: dict[str, str], named: str
) -> None:
    path = tmp_path / "directory.toml"
    path.write_text(directory.replace("{hook}", "https://hooks.example.org"), encoding="utf-8")
    settings = {
        "TEMPORAL_ADDRESS": "127.0.0.1:1",  # never reached: start-up stops before connecting
        "CSE_POLICY_DIR": str(REPO / "policies"),
        "CSE_DIRECTORY_FILE": str(path),
        "CSE_WEBHOOK_SECRET": SECRET,
    } | extra
    done = run_python("worker.py", env=clean_env(**settings))
    assert done.returncode == 2, done.stderr
    assert "worker not started" in done.stderr
    assert named in done.stderr
