"""The MASE panel at work, end to end (issue 18, docs/rules.md, The MASE panel): the real dev
server, the project's worker.py with a directory file, an outbox and a real SMTP server (the fixture
of test_notifications_e2e), and the official `temporal` CLI as the only client.

One case with significant harm suspected at intake: the police SPOC and the MASH hear that a
strategy discussion is needed; it is referred to MASE and the chairs and the police hear of
it; the panel, held two hours ago, agrees two actions, one done and one due an hour ago (so
recorded already breached: catch-up sends its breach at once, to the action's owner and the
team manager). A panel run started by hand then puts the case on its agenda with its last
decision, one open and one overdue action and their owner, and never the actions' words.
"""

from __future__ import annotations

import csv
import io
import json
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from activities.mase import visibility_queries
from domain.oversight import window_start
from tests.e2e.conftest import (
    LONDON,
    TemporalCli,
    decode_payload,
    independent_working_day_due,
    instant,
    iso,
    seconds,
    wait_until,
)
from tests.e2e.test_notifications_e2e import (  # noqa: F401  # the fixture, registered by being imported here
    Mail,
    NotifyingWorker,
    child_details,
    notifying_worker,
)

pytestmark = pytest.mark.e2e

SW, TM, CHAIR = "sw-e2e-panel", "tm-e2e-panel", "chair-e2e-panel"
DONE_WORDS = "SSPL to ask the school for attendance since September"
LATE_WORDS = "police to visit the flat above the takeaway"
# The directory of test_notifications_e2e: one address per role.
POLICE, MASH, CHAIRS = "police-cse-spoc@example.org", "mash@example.org", "mase-chair@example.org"
MANAGERS = "team-managers@example.org"
NOTICE_TIMEOUT = 30.0
PANEL_TIMEOUT = 90.0


def partner_notice(
    running: NotifyingWorker, referral_id: str, kind: str, clock: str | None = None
) -> dict[str, Any]:
    """The case's one outbox line of `kind` (of `clock`), once it is there."""

    def found() -> dict[str, Any] | None:
        lines = [
            x
            for x in running.outbox_lines(referral_id)
            if x["kind"] == kind and (clock is None or x["clock"] == clock)
        ]
        assert len(lines) <= 1, lines
        return lines[0] if lines else None

    line: dict[str, Any] = wait_until(f"the {kind} notice", found, NOTICE_TIMEOUT)
    return line


def mailed(running: NotifyingWorker, notification_id: str) -> Mail:
    """The one mail sent for a notification, by its Message-ID (independently derived)."""
    local = notification_id.replace(":", "=3A").replace("~", "=7E")

    def found() -> list[Mail] | None:
        mails = [m for m in running.smtp.mailbox.mails if m.message_id == f"<{local}@example.org>"]
        return mails or None

    mails: list[Mail] = wait_until(f"the mail of {notification_id}", found, NOTICE_TIMEOUT)
    assert len(mails) == 1, [m.rcpt_tos for m in mails]
    return mails[0]


def case_to_mase(temporal: TemporalCli, wid: str, received: datetime) -> None:
    """Decided, screened (score 2), discussed with police and health (s47), referred."""

    def at(minutes: int) -> str:
        return iso(received + timedelta(minutes=minutes))

    temporal.update(wid, "decide", {"decision": "assess", "decided_at": at(5), "actor": SW})
    screening = {"score": 2, "professional_concern": "medium", "screened_at": at(10)}
    temporal.update(wid, "record_screening", screening | {"actor": SW})
    discussion = {
        "held_at": at(20),
        "chair_role": "team_manager",
        "agencies": ["police", "health"],
        "outcome": "s47",
        "cris_number": "CRIS-E2E-PANEL",
        "actor": TM,
    }
    temporal.update(wid, "record_strategy_discussion", discussion)
    temporal.update(wid, "refer_to_mase", {"referred_at": at(30), "actor": TM})


def panel_documents(temporal: TemporalCli, task_queue: str) -> dict[str, str]:
    """Run the panel now (MasePanelWorkflow started by hand, as the schedule would) and read
    its agenda through the run's `document` query."""
    run_id = f"panel-at-work-{uuid.uuid4().hex[:8]}"
    temporal(
        "workflow",
        "execute",
        "--type",
        "MasePanelWorkflow",
        "--task-queue",
        task_queue,
        "--workflow-id",
        run_id,
        "--input",
        json.dumps({"panel_name": "MASE"}),
        "--execution-timeout",
        f"{PANEL_TIMEOUT:.0f}s",
    )
    documents = {}
    for name in ("agenda.html", "agenda.csv"):
        answer = temporal(
            "workflow",
            "query",
            "--workflow-id",
            run_id,
            "--type",
            "document",
            "--input",
            json.dumps({"name": name}),
            "--no-json-shorthand-payloads",
        )
        [payload] = answer["queryResult"]["payloads"]
        documents[name] = decode_payload(payload)["content"]
    return documents


def test_the_panel_at_work_tells_partners_escalates_and_carries_the_actions_on_its_agenda(
    temporal: TemporalCli,
    notifying_worker: NotifyingWorker,  # noqa: F811  # the imported fixture
    make_referral: Callable[..., dict[str, Any]],
) -> None:
    now = seconds(datetime.now(UTC))
    received = now - timedelta(hours=3)
    referral = make_referral(
        received_at=iso(received),
        team="E2E-PANEL",
        summary=f"SUMMARY-{uuid.uuid4().hex[:8]} met an older male online",
    )
    rid, wid = referral["referral_id"], f"referral-{referral['referral_id']}"
    queue = notifying_worker.task_queue

    # -- significant harm suspected: the police and the MASH are told a meeting is needed ------
    temporal.start(queue, referral)
    needed = partner_notice(
        notifying_worker, rid, "strategy_meeting_needed", clock="strategy_discussion"
    )
    assert needed["roles"] == ["police_spoc", "mash"]
    assert instant(needed["due_at"]) == independent_working_day_due(received, 3)
    mail = mailed(notifying_worker, needed["notification_id"])
    assert sorted(mail.rcpt_tos) == sorted([POLICE, MASH])

    # -- referred to MASE: the chairs and the police ---------------------------------------------
    case_to_mase(temporal, wid, received)
    referred = partner_notice(notifying_worker, rid, "mase_referral")
    assert referred["roles"] == ["mase_chair", "police_spoc"]
    assert sorted(mailed(notifying_worker, referred["notification_id"]).rcpt_tos) == sorted(
        [CHAIRS, POLICE]
    )

    # -- the panel's decision: two actions, one done, one already past its due time ------------
    held = received + timedelta(hours=1)
    late_due = held + timedelta(hours=1)
    decision = {
        "held_at": iso(held),
        "decision": "keep_open",
        "actions": [
            {
                "action": DONE_WORDS,
                "owner_role": "specialist_safeguarding_lead",
                "due_at": iso(now + timedelta(days=14)),
            },
            {"action": LATE_WORDS, "owner_role": "police_spoc", "due_at": iso(late_due)},
        ],
        "actor": CHAIR,
    }
    temporal.update(wid, "record_mase_decision", decision)
    done = {"action_id": "action-1", "completed_at": iso(now - timedelta(minutes=5))}
    status = temporal.update(wid, "complete_mase_action", done | {"actor": SW})
    actions = {a["action_id"]: a for a in status["mase"]["actions"]}
    assert (actions["action-1"]["state"], actions["action-2"]["state"]) == ("met", "breached")
    assert instant(actions["action-2"]["due_at"]) == late_due

    # -- the breached action's ladder: its owner and the team manager, at once -----------------
    breach = partner_notice(notifying_worker, rid, "clock_step", clock="mase_action")
    assert (breach["step"], breach["roles"]) == ("breach", ["police_spoc", "team_manager"])
    assert instant(breach["due_at"]) == late_due
    assert sorted(mailed(notifying_worker, breach["notification_id"]).rcpt_tos) == sorted(
        [POLICE, MANAGERS]
    )
    temporal.settled(wid)
    action_clocks = [c for c in temporal.status(wid)["clocks"] if c["name"] == "mase_action"]
    assert sorted(c["state"] for c in action_clocks) == ["breached", "met"]

    # -- the next agenda: the last decision, one open and one overdue action, their owner -------
    referred_query = visibility_queries(queue, window_start(now))["referred"]
    temporal.wait_listed(referred_query, wid)
    documents = panel_documents(temporal, queue)
    (row,) = list(csv.DictReader(io.StringIO(documents["agenda.csv"])))
    assert (row["section"], row["referral_id"], row["last_decision"]) == (
        "referred",
        rid,
        "keep_open",
    )
    assert instant(row["last_decision_at"]) == held
    assert (row["open_actions"], row["overdue_actions"], row["action_owners"]) == (
        "1",
        "1",
        "police_spoc",
    )
    html = documents["agenda.html"]
    held_words = held.astimezone(LONDON).strftime("%Y-%m-%d %H:%M")
    assert f'<td>keep open ({held_words})</td><td class="n">1</td><td class="n">1</td>' in html
    assert "<td>police spoc</td>" in html
    for words in (DONE_WORDS, LATE_WORDS, "takeaway", "school"):
        assert words not in html + documents["agenda.csv"]

    # -- nothing about the child, nor the actions' words, in any line of the outbox -------------
    outbox = notifying_worker.outbox.read_text(encoding="utf-8")
    sent = [json.loads(line) for line in outbox.splitlines()]
    (agenda_notice,) = [x for x in sent if x["kind"] == "mase_agenda"]
    assert agenda_notice["roles"] == ["mase_chair", "mash"]
    assert agenda_notice["link_path"].endswith("/agenda.html")
    for line in outbox.splitlines():
        for detail in [*child_details(referral), DONE_WORDS, LATE_WORDS]:
            assert detail not in line, f"{detail!r} leaked into the outbox"
    for mail in notifying_worker.smtp.mailbox.for_referral(rid):
        for detail in [*child_details(referral), DONE_WORDS, LATE_WORDS]:
            assert detail not in mail.readable(), f"{detail!r} leaked into a mail"
