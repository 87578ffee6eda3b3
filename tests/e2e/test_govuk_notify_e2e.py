"""GOV.UK Notify end to end: the real dev server, the project's worker.py in a subprocess with
email and text messages going through Notify (no SMTP), and the Notify stand-in
(tests/govuk_notify_standin.py) checking every request's JWT. Cases are started with the
official `temporal` CLI, with child details in them that must never reach Notify.

A referral received 10 working days ago is recorded late: its two clocks open with every
ladder step in the past, so each sends its strategic escalation to the strategic lead at
once, by email and by text message.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from domain.notifications import NotificationKind
from tests.e2e.conftest import (
    LONDON,
    REPO,
    TemporalCli,
    clean_env,
    roles_table,
    run_python,
    tail,
    wait_until,
    worker_process,
)
from tests.e2e.test_notifications_e2e import child_details, late_referral
from tests.govuk_notify_standin import NotifyStandIn, Received, Template, serving

pytestmark = pytest.mark.e2e

LEAD_PHONE = "07700 900101"  # Ofcom's range for drama
REFUSED_PHONE = "07700 900199"
REFUSED_TEAM = "E2E-NOTIFY-REFUSED"
PUBLIC_URL = "https://cse.example.org"
RECOVERY_TIMEOUT = 45.0  # the notify activity retries 5 s after a failed attempt, then 10 s

DIRECTORY = f"""
{roles_table(strategic_lead=["strategic-lead@example.org", LEAD_PHONE])}
[teams."{REFUSED_TEAM}"]
strategic_lead = ["refused-team-lead@example.org", "{REFUSED_PHONE}"]
"""
EMAIL_IDS = {k: str(uuid.uuid4()) for k in NotificationKind}
SMS_IDS = {k: str(uuid.uuid4()) for k in NotificationKind}


def templates_file() -> str:
    tables = []
    for table, ids in (("email", EMAIL_IDS), ("sms", SMS_IDS)):
        tables.append(f"[{table}]\n" + "\n".join(f'{k.value} = "{i}"' for k, i in ids.items()))
    return "\n\n".join(tables) + "\n"


def standin_templates() -> dict[str, Template]:
    email = Template("email", "((what))\nDue: ((when))\n((link))", "Case ((case_reference))")
    sms = Template("sms", "Case ((case_reference)): ((what)). ((when)) ((link))")
    return {i: email for i in EMAIL_IDS.values()} | {i: sms for i in SMS_IDS.values()}


@dataclass(frozen=True)
class NotifyWorker:
    task_queue: str
    outbox: Path
    log: Path
    notify: NotifyStandIn

    def outbox_lines(self, referral_id: str) -> list[dict[str, Any]]:
        if not self.outbox.exists():
            return []
        lines = [json.loads(x) for x in self.outbox.read_text().splitlines() if x.strip()]
        return [x for x in lines if x["referral_id"] == referral_id]

    def accepted(self, referral_id: str) -> list[Received]:
        return [
            r
            for r in self.notify.accepted()
            if r.body["personalisation"]["case_reference"] == referral_id
        ]


@pytest.fixture(scope="module")
def notify_worker(
    temporal_server: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[NotifyWorker]:
    folder = tmp_path_factory.mktemp("govuk-notify-worker")
    (folder / "directory.toml").write_text(DIRECTORY, encoding="utf-8")
    (folder / "templates.toml").write_text(templates_file(), encoding="utf-8")
    with serving(NotifyStandIn(templates=standin_templates())) as standin:
        queue = f"e2e-govuk-notify-{uuid.uuid4().hex[:10]}"
        running = NotifyWorker(queue, folder / "outbox.jsonl", folder / "worker.log", standin)
        env = clean_env(
            TEMPORAL_ADDRESS=temporal_server,
            CSE_TASK_QUEUE=queue,
            CSE_OUTBOX_FILE=str(running.outbox),
            CSE_POLICY_DIR=str(REPO / "policies"),
            CSE_PUBLIC_URL=PUBLIC_URL,
            CSE_DIRECTORY_FILE=str(folder / "directory.toml"),
            CSE_GOVUK_NOTIFY_API_KEY=standin.api_key(),
            CSE_GOVUK_NOTIFY_BASE_URL=standin.url,
            CSE_GOVUK_NOTIFY_TEMPLATES=str(folder / "templates.toml"),
            CSE_PANEL_SCHEDULE_ID=f"panel-{queue}",
        )
        with worker_process(env, running.log):
            yield running


def escalations(running: NotifyWorker, referral_id: str) -> dict[str, dict[str, Any]]:
    """The case's two strategic escalations in the outbox, by notification id."""
    lines = wait_until(
        f"the outbox lines of {referral_id}",
        lambda: found if len(found := running.outbox_lines(referral_id)) >= 2 else None,
        15.0,
    )
    steps = {x["notification_id"]: x for x in lines if x["kind"] == "clock_step"}
    assert {x["step"] for x in steps.values()} == {"strategic_escalation"}
    assert len(steps) == 2
    return steps


def expected_fields(line: dict[str, Any]) -> dict[str, str]:
    """Independently of the code: the outbox line's case, deadline, due time and link."""
    due = datetime.fromisoformat(line["due_at"]).astimezone(LONDON)
    return {
        "case_reference": line["referral_id"],
        "what": f"{line['clock'].replace('_', ' ')} overdue: strategic escalation",
        "when": due.strftime("%A %d %B %Y, %H:%M") + " (Europe/London)",
        "link": f"{PUBLIC_URL}/dashboard/cases/{line['referral_id']}",
    }


def assert_no_child_details(running: NotifyWorker, referral: dict[str, Any]) -> None:
    seen = [json.dumps(r.body) for r in running.notify.received]
    seen += [tail(running.log, 1_000_000)]
    for text in seen:
        for detail in child_details(referral):
            assert detail not in text, f"{detail!r} reached Notify or the log"


def test_a_late_referral_emails_and_texts_the_strategic_lead_through_notify(
    temporal: TemporalCli, notify_worker: NotifyWorker
) -> None:
    referral = late_referral("E2E-NOTIFY")
    referral_id = referral["referral_id"]
    notify_worker.notify.answers[LEAD_PHONE] = [500]  # Notify fails once: retried

    temporal.start(notify_worker.task_queue, referral)

    sent = escalations(notify_worker, referral_id)

    def ladder_sent() -> list[Any]:  # harm suspected: police and MASH are told too (below)
        return [r for r in notify_worker.accepted(referral_id) if r.body["reference"] in sent]

    wait_until(
        "two emails and two text messages",
        lambda: found if len(found := ladder_sent()) >= 4 else None,
        RECOVERY_TIMEOUT,
        interval=0.5,
    )
    temporal.settled(f"referral-{referral_id}")
    accepted = ladder_sent()
    partners = [r for r in notify_worker.accepted(referral_id) if r not in accepted]
    assert {r.body["template_id"] for r in partners} <= {
        EMAIL_IDS[NotificationKind.strategy_meeting_needed],
        SMS_IDS[NotificationKind.strategy_meeting_needed],
    }
    assert sorted((r.body["reference"], r.recipient) for r in accepted) == sorted(
        (nid, to) for nid in sent for to in ("strategic-lead@example.org", LEAD_PHONE)
    )
    for request in accepted:
        line = sent[request.body["reference"]]
        ids = SMS_IDS if request.path.endswith("/sms") else EMAIL_IDS
        assert request.body["template_id"] == ids[NotificationKind.clock_step]
        assert request.body["personalisation"] == expected_fields(line)
        assert request.claims["iss"] == notify_worker.notify.service_id
    failed = [r for r in notify_worker.notify.received if r.status == 500]
    assert [r.recipient for r in failed] == [LEAD_PHONE]
    assert failed[0].body["reference"] in sent  # the retry carried the same reference
    assert_no_child_details(notify_worker, referral)
    assert notify_worker.notify.secret not in tail(notify_worker.log, 1_000_000)


def test_a_number_notify_refuses_is_recorded_on_the_case_and_raised_to_the_manager(
    temporal: TemporalCli, notify_worker: NotifyWorker
) -> None:
    referral = late_referral(REFUSED_TEAM)
    referral_id = referral["referral_id"]
    notify_worker.notify.answers[REFUSED_PHONE] = [400] * 10
    wid = f"referral-{referral_id}"

    temporal.start(notify_worker.task_queue, referral)

    sent = escalations(notify_worker, referral_id)
    status = wait_until(
        "two delivery failures on the case",
        lambda: s if len((s := temporal.status(wid))["delivery_failures"]) == 2 else None,
        30.0,
    )
    assert {f["notification_id"] for f in status["delivery_failures"]} == set(sent)
    for failure in status["delivery_failures"]:
        assert "govuk_notify" in failure["problem"]
        assert REFUSED_PHONE in failure["problem"]
    raised = wait_until(
        "the team manager told by email through Notify",
        lambda: (
            [
                r
                for r in notify_worker.accepted(referral_id)
                if r.body["template_id"] == EMAIL_IDS[NotificationKind.delivery_failed]
            ]
            or None
        ),
        30.0,
    )
    assert {r.recipient for r in raised} == {"team-managers@example.org"}
    whats = sorted(r.body["personalisation"]["what"] for r in raised)
    assert whats == sorted(f"a notification could not be delivered ({n})" for n in sent)
    assert {r.recipient for r in notify_worker.accepted(referral_id)} >= {
        "refused-team-lead@example.org"
    }
    assert_no_child_details(notify_worker, referral)


@pytest.mark.parametrize(
    ("extra", "named", "hidden"),
    [
        (
            {"CSE_GOVUK_NOTIFY_API_KEY": "cse-3d844edf-8d35"},
            "not a GOV.UK Notify API key",
            "3d844edf",
        ),
        (
            {"CSE_GOVUK_NOTIFY_API_KEY": "changeme"},
            "CSE_GOVUK_NOTIFY_API_KEY is a placeholder",
            None,
        ),
        ({"CSE_GOVUK_NOTIFY_TEMPLATES": "email-only"}, "no [sms] table", None),
    ],
)
def test_the_worker_refuses_a_bad_notify_set_up_naming_it_never_the_key(
    tmp_path: Path, extra: dict[str, str], named: str, hidden: str | None
) -> None:
    (tmp_path / "directory.toml").write_text(DIRECTORY, encoding="utf-8")
    (tmp_path / "templates.toml").write_text(templates_file(), encoding="utf-8")
    (tmp_path / "email-only").write_text(templates_file().split("[sms]")[0], encoding="utf-8")
    standin = NotifyStandIn()
    settings = {
        "TEMPORAL_ADDRESS": "127.0.0.1:1",  # never reached: start-up stops before connecting
        "CSE_POLICY_DIR": str(REPO / "policies"),
        "CSE_DIRECTORY_FILE": str(tmp_path / "directory.toml"),
        "CSE_GOVUK_NOTIFY_API_KEY": standin.api_key(),
        "CSE_GOVUK_NOTIFY_TEMPLATES": str(tmp_path / "templates.toml"),
    } | {k: str(tmp_path / v) if k.endswith("TEMPLATES") else v for k, v in extra.items()}
    done = run_python("worker.py", env=clean_env(**settings))
    assert done.returncode == 2, done.stderr
    assert "worker not started" in done.stderr
    assert named in done.stderr
    if hidden:
        assert hidden not in done.stderr + done.stdout
