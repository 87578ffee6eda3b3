"""Driving cases under faults, and what every case must show once the faults are over.

`Ledger.send` sends one update with an update id of its own and, after any RPC failure or
timeout (worker killed, server down), sends it again with the same id until it is answered:
the server recognises the id, so a repeat can never be applied twice. Each update carries an
actor no other update has, so the case's `status` history shows whether it was applied and
how often.

The checks, all against the real cases:
- `update_problems`: every update that returned successfully is in its case's history once;
  nothing else is there.
- `notification_problems`: every notification the case's status says was sent (each ladder
  step marked sent, each allocation and missing episode) is in the outbox once, and was
  delivered to each of its addresses; any second delivery carries the same notification id.
- `workflow_task_failures`: no WorkflowTaskFailed event in any case's history.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import random
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from temporalio.api.enums.v1 import EventType
from temporalio.client import (
    Client,
    WorkflowHandle,
    WorkflowUpdateFailedError,
    WorkflowUpdateRPCTimeoutOrCancelledError,
)
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.service import RPCError

from domain.events import (
    Allocate,
    CompleteAssessment,
    ConcludeS47,
    Decide,
    Event,
    RaiseProfessionalConcern,
    RecordMissingEpisode,
    RecordSafetyPlan,
    RecordScreening,
    RecordStrategyDiscussion,
)
from domain.referral import Referral
from tests.faults.rig import Mail, WebhookReceiver, role_email, role_path
from tests.polling import settled

TEAM = "FAULTS-1"
UPDATE_DEADLINE = 60.0  # seconds one update may take through the faults before it counts lost
RETRY_PAUSE = 0.5


def now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def late_referral(prefix: str, index: int) -> Referral:
    """Received 20 calendar days ago (at least 10 working days, whatever the date): both
    opening clocks are long overdue, so catch-up sends each one's strategic escalation at once."""
    return Referral(
        referral_id=f"{prefix}-{index:02d}-{uuid.uuid4().hex[:6]}",
        received_at=now() - timedelta(days=20),
        child_ref=f"PERSON-{uuid.uuid4().hex[:8]}",
        team=TEAM,
        referrer_agency="school",
        concerns=["sexual_health", "use_of_technology"],
        significant_harm_suspected=True,
        summary="referral made for a fault test",
    )


async def open_case(
    client: Client, task_queue: str, referral: Referral
) -> WorkflowHandle[Any, Any]:
    return await client.start_workflow(
        "ReferralWorkflow",
        referral,
        id=referral.workflow_id,
        task_queue=task_queue,
        id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
        id_conflict_policy=WorkflowIDConflictPolicy.FAIL,
    )


# ---- what practitioners do ------------------------------------------------------------------

MakeEvent = Callable[[str, datetime], Event]

PATHWAY: list[MakeEvent] = [
    lambda a, t: Allocate(social_worker=f"sw-{a}", team=TEAM, allocated_at=t, actor=a),
    lambda a, t: Decide(decision="assess", decided_at=t, reason="harm suspected", actor=a),
    lambda a, t: RecordScreening(
        score=2,
        indicators=["sexual_health"],
        cse_models=["online"],
        professional_concern="medium",
        screened_at=t,
        actor=a,
    ),
    lambda a, t: CompleteAssessment(
        outcome="strategy_discussion", rationale="scored 2", completed_at=t, actor=a
    ),
    lambda a, t: RecordMissingEpisode(
        went_missing_at=t - timedelta(hours=2), returned_at=t - timedelta(hours=1), actor=a
    ),
    lambda a, t: RecordStrategyDiscussion(
        held_at=t,
        chair_role="team_manager",
        agencies=["police", "health"],
        outcome="s47",
        cris_number="CRIS-0001",
        actor=a,
    ),
    lambda a, t: ConcludeS47(outcome="risk_of_harm", concluded_at=t, actor=a),
    lambda a, t: RecordSafetyPlan(agreed_at=t, actor=a),
]
"""From referral to review: eight updates, three of them sending a notification."""

REPEATABLE: list[MakeEvent] = [
    lambda a, t: RaiseProfessionalConcern(level="medium", note="", raised_at=t, actor=a),
    lambda a, t: Allocate(social_worker=f"sw-{a}", team=TEAM, allocated_at=t, actor=a),
]
"""Accepted in every open stage, as often as sent: the second sends a notification."""


@dataclass
class SentUpdate:
    workflow_id: str
    name: str
    actor: str
    update_id: str
    outcome: str = "in flight"  # then accepted, refused or unanswered
    detail: str = ""
    attempts: int = 0


@dataclass
class Ledger:
    updates: list[SentUpdate] = field(default_factory=list)
    in_flight: int = 0
    last_accepted: float = 0.0  # time.monotonic() of the latest accepted update
    _serial: itertools.count[int] = field(default_factory=itertools.count)

    def accepted(self) -> list[SentUpdate]:
        return [u for u in self.updates if u.outcome == "accepted"]

    async def send(self, handle: WorkflowHandle[Any, Any], make: MakeEvent) -> bool:
        """One update, sent until answered (same update id each time); True if accepted."""
        actor = f"actor-{next(self._serial):04d}"
        event = make(actor, now())
        sent = SentUpdate(handle.id, event.name, actor, f"update-{actor}-{uuid.uuid4().hex[:8]}")
        self.updates.append(sent)
        self.in_flight += 1
        deadline = time.monotonic() + UPDATE_DEADLINE
        try:
            while True:
                sent.attempts += 1
                try:
                    await handle.execute_update(event.name, event, id=sent.update_id)
                except WorkflowUpdateFailedError as refused:
                    sent.outcome, sent.detail = "refused", str(refused.cause)
                    return False
                except (RPCError, WorkflowUpdateRPCTimeoutOrCancelledError) as err:
                    if time.monotonic() > deadline:
                        sent.outcome, sent.detail = "unanswered", repr(err)
                        return False
                    await asyncio.sleep(RETRY_PAUSE)
                    continue
                sent.outcome = "accepted"
                self.last_accepted = time.monotonic()
                return True
        finally:
            self.in_flight -= 1

    async def drive(
        self,
        handle: WorkflowHandle[Any, Any],
        steps: Sequence[MakeEvent],
        then_until: asyncio.Event | None = None,
        pause: tuple[float, float] = (0.1, 0.5),
        rng: random.Random | None = None,
    ) -> None:
        """Send `steps` in order (each after the last was answered), then the repeatable
        updates in turn until `then_until` is set; a practitioner's pause between each."""
        rng = rng or random.Random()
        for make in steps:
            await self.send(handle, make)
            await asyncio.sleep(rng.uniform(*pause))
        for make in itertools.cycle(REPEATABLE):
            if then_until is None or then_until.is_set():
                return
            await self.send(handle, make)
            await asyncio.sleep(rng.uniform(*pause))


# ---- waiting ---------------------------------------------------------------------------------


async def eventually(
    what: str, probe: Callable[[], Awaitable[list[str]]], within: float, interval: float = 0.5
) -> None:
    """Await `probe` until it reports no problems; fail naming them after `within` seconds."""
    problems = await settled(probe, lambda found: not found, within, interval)
    if problems:
        listed = "\n".join(problems[:40])
        raise AssertionError(f"timed out after {within:.0f} s waiting for {what}:\n{listed}")


async def until(what: str, predicate: Callable[[], bool], within: float) -> None:
    """Wait (polling every 50 ms) until `predicate()` holds; fail after `within` seconds."""

    async def probe() -> list[str]:
        return [] if predicate() else [what]

    await eventually(what, probe, within, interval=0.05)


async def statuses(client: Client, workflow_ids: Sequence[str]) -> dict[str, dict[str, Any]]:
    """Each case's `status` query answer (plain JSON)."""
    answers = await asyncio.gather(
        *(client.get_workflow_handle(wid).query("status") for wid in workflow_ids)
    )
    return dict(zip(workflow_ids, answers, strict=True))


async def pending_activities(client: Client, workflow_ids: Sequence[str]) -> list[str]:
    """A line per notify activity still pending (for waiting until every case is quiet)."""
    described = await asyncio.gather(
        *(client.get_workflow_handle(wid).describe() for wid in workflow_ids)
    )
    return [
        f"{d.id}: activity {a.activity_type.name} attempt {a.attempt}"
        for d in described
        for a in d.raw_description.pending_activities
    ]


# ---- the checks ------------------------------------------------------------------------------


def update_problems(ledger: Ledger, cases: dict[str, dict[str, Any]]) -> list[str]:
    """Every update sent here was valid, so each must have been accepted and be in its case's
    history exactly once; no other entry may be there."""
    problems = []
    applied = Counter(
        (wid, entry["actor"], entry["event"])
        for wid, status in cases.items()
        for entry in status["history"]
    )
    for u in ledger.updates:
        times = applied.pop((u.workflow_id, u.actor, u.name), 0)
        if u.outcome != "accepted":
            detail = f" ({u.detail})" if u.detail else ""
            problems.append(f"{u.workflow_id} {u.name} by {u.actor}: {u.outcome}{detail}")
        elif times != 1:
            problems.append(f"{u.workflow_id} {u.name} by {u.actor}: accepted, applied {times}x")
    problems += [
        f"{wid} {event} by {actor}: in history, never sent" for wid, actor, event in applied
    ]
    return problems


NotificationKey = tuple[str, str, str | None, str | None]  # referral, kind, clock, step


def due_notifications(status: dict[str, Any]) -> Counter[NotificationKey]:
    """What the case says it has sent: each ladder step marked sent, and the notification of
    each allocation and each missing episode it recorded."""
    rid = status["referral_id"]
    due: Counter[NotificationKey] = Counter()
    for clock in status["clocks"]:
        for step in clock["escalations"]:
            if step["status"] == "sent":
                due[(rid, "clock_step", clock["name"], step["step"])] += 1
    notices = {"allocate": "allocation", "record_missing_episode": "missing_episode"}
    for entry in status["history"]:
        if entry["event"] in notices:
            due[(rid, notices[entry["event"]], None, None)] += 1
    return due + partners_told(status)


def partners_told(status: dict[str, Any]) -> Counter[NotificationKey]:
    """What the case told partners (docs/rules.md, "Who is told"): each strategy discussion
    or further strategy meeting clock opened, each referral to MASE, each escalation and
    step-down by the panel, and a referred case's closing."""
    rid = status["referral_id"]
    told: Counter[NotificationKey] = Counter()
    for clock in status.get("clocks", []):
        if clock["name"] in ("strategy_discussion", "further_strategy_meeting"):
            told[(rid, "strategy_meeting_needed", clock["name"], None)] += 1
    panel = {"escalate": "mase_escalation", "step_down": "mase_case_ended"}
    for entry in status.get("history", []):
        if entry["event"] == "refer_to_mase":
            told[(rid, "mase_referral", None, None)] += 1
        decision = entry.get("details", {}).get("decision")
        if entry["event"] == "record_mase_decision" and decision in panel:
            told[(rid, panel[decision], None, None)] += 1
    if status.get("stage") == "closed" and status.get("mase", {}).get("referred"):
        told[(rid, "mase_case_ended", None, None)] += 1
    return told


def outbox_lines(outbox: Path) -> list[dict[str, Any]]:
    if not outbox.exists():
        return []
    text = outbox.read_text(encoding="utf-8")
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def line_key(line: dict[str, Any]) -> NotificationKey:
    return (line["referral_id"], line["kind"], line.get("clock"), line.get("step"))


def message_id(notification_id: str, domain: str = "example.org") -> str:
    """README: the id with every character but letters, digits, - and _ written =XX."""
    safe = "".join(
        c if c.isascii() and (c.isalnum() or c in "-_") else f"={ord(c):02X}"
        for c in notification_id
    )
    return f"<{safe}@{domain}>"


def notification_problems(
    cases: dict[str, dict[str, Any]],
    outbox: Path,
    hooks: WebhookReceiver,
    mails: list[Mail] | None = None,
    required: Sequence[NotificationKey] = (),
) -> list[str]:
    """Every due notification in the outbox once, at every address; repeats share its id."""
    due: Counter[NotificationKey] = Counter()
    for status in cases.values():
        due += due_notifications(status)
    problems = [f"{key}: the case never sent it" for key in required if key not in due]
    lines = outbox_lines(outbox)
    ids = Counter(line["notification_id"] for line in lines)
    problems += [f"{nid}: {n} outbox lines" for nid, n in ids.items() if n > 1]
    recorded = Counter(line_key(line) for line in lines)
    problems += [
        f"{key}: due {n}x, in the outbox {recorded[key]}x"
        for key, n in due.items()
        if recorded[key] != n
    ]
    problems += [f"{key}: in the outbox, never due" for key in recorded if key not in due]
    problems += _webhook_problems(lines, hooks)
    if mails is not None:
        problems += _mail_problems(lines, mails)
    return problems


def _webhook_problems(lines: list[dict[str, Any]], hooks: WebhookReceiver) -> list[str]:
    by_id = {line["notification_id"]: line for line in lines}
    problems = []
    posted: dict[str, set[str]] = {}
    for post in list(hooks.posts):
        line = by_id.get(post.key)
        if line is None:
            problems.append(f"webhook {post.path}: {post.key} is in no outbox line")
            continue
        body = post.body
        if (body["referral_id"], body["kind"], body["clock"], body["step"]) != line_key(line):
            problems.append(f"webhook {post.path}: {post.key} carried another notification")
        posted.setdefault(post.key, set()).add(post.path)
    for nid, line in by_id.items():
        wanted = {role_path(role, line.get("social_worker")) for role in line["roles"]}
        missing = wanted - posted.get(nid, set())
        problems += [f"webhook {path}: {nid} not delivered" for path in sorted(missing)]
    return problems


def _mail_problems(lines: list[dict[str, Any]], mails: list[Mail]) -> list[str]:
    by_message_id = {message_id(line["notification_id"]): line for line in lines}
    problems = []
    delivered: set[str] = set()
    for mail in list(mails):
        line = by_message_id.get(mail.message_id)
        if line is None:
            problems.append(f"mail {mail.message_id}: in no outbox line")
            continue
        worker = line.get("social_worker")
        wanted = tuple(
            sorted(role_email(r) for r in line["roles"] if role_path(r, worker) != "/slow")
        )
        if mail.rcpt_tos != wanted:
            problems.append(f"mail {mail.message_id}: sent to {mail.rcpt_tos}, not {wanted}")
        delivered.add(mail.message_id)
    problems += [f"mail {mid}: not delivered" for mid in by_message_id if mid not in delivered]
    return problems


async def workflow_task_failures(
    client: Client, workflow_ids: Sequence[str]
) -> dict[str, Counter[str]]:
    """Per case, over every run it has had (continue-as-new), how many runs and how many
    WorkflowTaskFailed and WorkflowTaskTimedOut events (failures must be 0; timeouts are
    what a killed worker leaves)."""
    watched = {
        EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED: "workflow task failed",
        EventType.EVENT_TYPE_WORKFLOW_TASK_TIMED_OUT: "workflow task timed out",
    }
    counted = {}
    for wid in workflow_ids:
        tally: Counter[str] = Counter()
        run_id: str | None = None
        while True:  # from the latest run back to the first
            history = await client.get_workflow_handle(wid, run_id=run_id).fetch_history()
            tally["runs"] += 1
            tally.update(watched[e.event_type] for e in history.events if e.event_type in watched)
            started = history.events[0].workflow_execution_started_event_attributes
            run_id = started.continued_execution_run_id
            if not run_id:
                break
        counted[wid] = tally
    return counted


def strategic_escalations(referral_ids: Sequence[str]) -> list[NotificationKey]:
    """What each late case owes at least: its referral decision and strategy discussion
    clocks' strategic escalations."""
    return [
        (rid, "clock_step", clock, "strategic_escalation")
        for rid in referral_ids
        for clock in ("referral_decision", "strategy_discussion")
    ]


async def settled_after_faults(
    client: Client,
    ledger: Ledger,
    workflow_ids: Sequence[str],
    delivery_problems: Callable[[dict[str, dict[str, Any]]], list[str]],
    within: float,
    interval: float,
) -> tuple[dict[str, dict[str, Any]], dict[str, Counter[str]]]:
    """Once the faults are over: wait until `delivery_problems` finds none in the cases, then
    check that every accepted update is in its case once, every notification was delivered
    and no workflow task failed. The cases' statuses and their `workflow_task_failures`."""

    async def undelivered() -> list[str]:
        return delivery_problems(await statuses(client, workflow_ids))

    await eventually("every notification delivered", undelivered, within, interval)

    cases = await statuses(client, workflow_ids)
    assert update_problems(ledger, cases) == []
    assert delivery_problems(cases) == []
    counted = await workflow_task_failures(client, workflow_ids)
    assert failed_tasks(counted) == {}
    return cases, counted


def failed_tasks(counted: dict[str, Counter[str]]) -> dict[str, int]:
    return {
        wid: c["workflow task failed"] for wid, c in counted.items() if c["workflow task failed"]
    }


def totals(counted: dict[str, Counter[str]]) -> Counter[str]:
    total: Counter[str] = Counter()
    for c in counted.values():
        total += c
    return total
