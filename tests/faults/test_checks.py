"""The fault tests' checks can fail: each kind of loss or duplicate they look for is reported
(plain data, no server; milliseconds)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.faults.ledger import Ledger, SentUpdate, notification_problems, update_problems
from tests.faults.rig import Mail, Post, WebhookReceiver

pytestmark = pytest.mark.faults

WID = "referral-R-1"


def case(history: list[tuple[str, str]], sent_steps: int = 1) -> dict[str, Any]:
    steps = [{"step": "strategic_escalation", "status": "sent"}] * sent_steps
    return {
        "referral_id": "R-1",
        "history": [{"event": e, "actor": a} for e, a in history],
        "clocks": [{"name": "referral_decision", "escalations": steps}],
    }


def accepted(actor: str, name: str = "decide") -> SentUpdate:
    return SentUpdate(WID, name, actor, f"update-{actor}", outcome="accepted")


def test_an_accepted_update_lost_or_applied_twice_is_reported() -> None:
    ledger = Ledger(updates=[accepted("a-1"), accepted("a-2"), accepted("a-3")])
    cases = {WID: case([("decide", "a-1"), ("decide", "a-2"), ("decide", "a-2"), ("close", "x")])}

    assert sorted(update_problems(ledger, cases)) == [
        f"{WID} close by x: in history, never sent",
        f"{WID} decide by a-2: accepted, applied 2x",
        f"{WID} decide by a-3: accepted, applied 0x",
    ]


def test_an_update_never_answered_is_reported() -> None:
    ledger = Ledger(updates=[SentUpdate(WID, "decide", "a-1", "u", outcome="unanswered")])
    assert update_problems(ledger, {WID: case([])}) == [f"{WID} decide by a-1: unanswered"]


def outbox(tmp_path: Path, *ids: str) -> Path:
    path = tmp_path / "outbox.jsonl"
    line = {
        "referral_id": "R-1",
        "kind": "clock_step",
        "clock": "referral_decision",
        "step": "strategic_escalation",
        "roles": ["strategic_lead"],
        "social_worker": None,
    }
    path.write_text("".join(json.dumps(line | {"notification_id": i}) + "\n" for i in ids))
    return path


def posted(*ids: str) -> WebhookReceiver:
    hooks = WebhookReceiver(port=0)
    body = {"referral_id": "R-1", "kind": "clock_step", "clock": "referral_decision"}
    hooks.posts += [
        Post("/strategic_lead", i, body | {"step": "strategic_escalation"}) for i in ids
    ]
    return hooks


def test_a_notification_delivered_again_with_its_own_id_is_accepted(tmp_path: Path) -> None:
    mails = [Mail(("strategic-lead@example.org",), "<R-1=3Ac-1@example.org>", "s")] * 2
    problems = notification_problems(
        {WID: case([])}, outbox(tmp_path, "R-1:c-1"), posted("R-1:c-1", "R-1:c-1"), mails
    )
    assert problems == []


@pytest.mark.parametrize(
    ("ids_in_outbox", "ids_posted", "sent_steps", "expected"),
    [
        (["R-1:c-1"], [], 1, "webhook /strategic_lead: R-1:c-1 not delivered"),
        ([], [], 1, "due 1x, in the outbox 0x"),
        (["R-1:c-1", "R-1:c-1"], ["R-1:c-1"], 1, "R-1:c-1: 2 outbox lines"),
        (["R-1:c-1", "R-1:c-2"], ["R-1:c-1", "R-1:c-2"], 1, "due 1x, in the outbox 2x"),
        (["R-1:c-1"], ["R-1:c-1", "R-1:other"], 1, "R-1:other is in no outbox line"),
        (["R-1:c-1"], ["R-1:c-1"], 0, "in the outbox, never due"),
    ],
)
def test_a_lost_or_doubled_notification_is_reported(
    tmp_path: Path, ids_in_outbox: list[str], ids_posted: list[str], sent_steps: int, expected: str
) -> None:
    problems = notification_problems(
        {WID: case([], sent_steps)}, outbox(tmp_path, *ids_in_outbox), posted(*ids_posted)
    )
    assert any(expected in p for p in problems), problems


def test_a_mail_missing_or_to_the_wrong_inbox_is_reported(tmp_path: Path) -> None:
    wrong = [Mail(("head-of-service@example.org",), "<R-1=3Ac-1@example.org>", "s")]
    path = outbox(tmp_path, "R-1:c-1")
    hooks = posted("R-1:c-1")

    assert notification_problems({WID: case([])}, path, hooks, []) == [
        "mail <R-1=3Ac-1@example.org>: not delivered"
    ]
    assert (
        "sent to ('head-of-service@example.org',)"
        in notification_problems({WID: case([])}, path, hooks, wrong)[0]
    )


def test_a_notification_the_case_never_sent_is_reported(tmp_path: Path) -> None:
    required = [("R-1", "clock_step", "strategy_discussion", "strategic_escalation")]
    problems = notification_problems(
        {WID: case([])}, outbox(tmp_path, "R-1:c-1"), posted("R-1:c-1"), required=required
    )
    assert problems == [f"{required[0]}: the case never sent it"]
