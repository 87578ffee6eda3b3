"""Generated updates through the real ReferralWorkflow on the time-skipping server.

Each case is driven along the pathway by valid events while generated payloads (valid,
near-valid, arbitrary JSON, bytes) are sent between them. Every answer is the one the
domain gives for the same payload on a copy of the case kept here: accepted, or refused
with an ApplicationError naming a field or a rule, and then the `status` query is unchanged.
No workflow task may fail, in any case's history.
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta
from typing import Any

import pytest
from hypothesis import strategies as st
from temporalio.client import WorkflowHandle, WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment

from domain.case import Case
from domain.policy import Policy
from domain.referral import Referral
from tests.property.live import drawn, failed_tasks, raw, server_now, start
from tests.property.oracle import UPDATE_TYPES, judge_update, names_a_field_or_rule
from tests.property.payloads import At, Sent, Window, payloads, sent_to
from tests.property.tally import TALLY, count
from tests.workflows.helpers import skip_to_next_monday_morning

CASES = 56
HOSTILE_PER_CASE = 8
AT_ONCE = 6  # cases driven concurrently
ANSWER = timedelta(seconds=15)
NOW = At("within", fraction=1.0)

JOURNEY: list[tuple[str, dict[str, Any]]] = [
    ("decide", {"decision": "assess", "decided_at": NOW, "actor": "tm-1"}),
    (
        "record_screening",
        {"score": 2, "professional_concern": "medium", "screened_at": NOW, "actor": "sw-1"},
    ),
    (
        "complete_assessment",
        {"outcome": "strategy_discussion", "completed_at": NOW, "actor": "sw-1"},
    ),
    (
        "record_strategy_discussion",
        {
            "held_at": NOW,
            "chair_role": "specialist_safeguarding_lead",
            "outcome": "s47",
            "cris_number": "CRIS-9/26",
            "actor": "tm-1",
        },
    ),
    ("conclude_s47", {"outcome": "cp_conference", "concluded_at": NOW, "actor": "sw-1"}),
    ("record_safety_plan", {"agreed_at": NOW, "actor": "sw-1"}),
    (
        "record_review",
        {"score": 2, "professional_concern": "medium", "reviewed_at": NOW, "actor": "sw-1"},
    ),
]
"""Valid events that take a case from intake to review, sent between the hostile ones."""

ANY_UPDATE = st.one_of(
    [payloads(m, live=True).map(sent_to(n)) for n, m in sorted(UPDATE_TYPES.items())]
)
PLAN = st.tuples(
    st.booleans(),  # significant harm suspected at intake
    st.integers(0, 60),  # minutes between the referral and the first update
    st.lists(ANY_UPDATE, min_size=HOSTILE_PER_CASE, max_size=HOSTILE_PER_CASE),
)


class LiveCase:
    """A case on the server and the domain's copy of it, fed the same payloads."""

    def __init__(self, env: WorkflowEnvironment, handle: WorkflowHandle[Any, Any], case: Case):
        self.env, self.handle, self.case = env, handle, case
        self.hostile_sent = 0

    async def send(self, name: str, sent: Sent) -> None:
        now = await server_now(self.env)
        payload = sent.payload(Window(self.case.referral.received_at, now))
        expected = judge_update(self.case, name, [payload], now)
        before = await self.handle.query("status")
        try:
            await asyncio.wait_for(
                self.handle.execute_update(name, raw(payload)), ANSWER.total_seconds()
            )
        except WorkflowUpdateFailedError as failure:
            refusal = failure.cause
            assert isinstance(refusal, ApplicationError), f"{name}: {refusal!r}"
            count("workflow", sent.shape, refusal.type, sent.shape != "journey")
            assert refusal.type == expected.refused_as, (
                f"{name} refused as {refusal.type} ({refusal.message}); the domain says "
                f"{expected.refused_as or 'accepted'} ({expected.message})"
            )
            fields = set(UPDATE_TYPES[name].model_fields)
            details = tuple(map(str, refusal.details))
            fault = names_a_field_or_rule(
                refusal.type, refusal.message, details, fields, sent.keys()
            )
            assert fault is None, f"{name}: {fault}"
            after = await self.handle.query("status")
            TALLY["state_changes_from_refusals"] += after != before
            assert after == before, f"a refused {name} changed the case's status"
            return
        count("workflow", sent.shape, None, sent.shape != "journey")
        assert expected.accepted, f"{name} accepted; the domain refuses it: {expected.message}"
        self.case.apply(expected.event, now)

    async def run(self, hostile: list[tuple[str, Sent]], depth: int) -> None:
        journey = [(n, Sent("journey", body)) for n, body in JOURNEY[:depth]]
        for step, (name, sent) in enumerate(hostile):
            for name_, sent_ in [(name, sent), *journey[step : step + 1]]:
                if self.case.is_closed:
                    return  # a closed case's workflow ends: nothing more reaches it
                self.hostile_sent += sent_.shape != "journey"
                await self.send(name_, sent_)


async def open_case(
    env: WorkflowEnvironment, task_queue: str, harm: bool, minutes: int
) -> LiveCase:
    now = await server_now(env)
    referral = Referral(
        referral_id=f"P-{uuid.uuid4().hex[:12]}",
        received_at=now - timedelta(minutes=minutes),
        child_ref="PERSON-PROP-0001",
        team="RAI-2",
        referrer_agency="school",
        concerns=["running_away"],
        significant_harm_suspected=harm,
        summary="generated case",
    )
    body = referral.model_dump(mode="json")
    handle = await start(env, task_queue, referral.workflow_id, [body])
    case, _ = Case.open(referral, Policy(), now)
    return LiveCase(env, handle, case)


@pytest.mark.usefixtures("worker")
async def test_generated_updates_are_accepted_or_refused_by_name_and_no_task_fails(
    env: WorkflowEnvironment, task_queue: str
) -> None:
    await skip_to_next_monday_morning(env)  # no ladder step comes due while payloads fly
    plans = drawn(PLAN, CASES)
    gate = asyncio.Semaphore(AT_ONCE)
    cases: list[LiveCase] = []

    async def drive(index: int, plan: tuple[bool, int, list[tuple[str, Sent]]]) -> None:
        harm, minutes, hostile = plan
        async with gate:
            case = await open_case(env, task_queue, harm, minutes)
            cases.append(case)
            await case.run(hostile, depth=index % (len(JOURNEY) + 1))

    errors = await asyncio.gather(
        *(drive(i, p) for i, p in enumerate(plans)), return_exceptions=True
    )
    broken = [e for e in errors if e is not None]
    assert not broken, f"{len(broken)} of {len(plans)} cases broke the contract: {broken[:3]}"
    sent = sum(c.hostile_sent for c in cases)
    assert sent >= 300, f"only {sent} generated updates reached a case"
    failed = {c.handle.id: await failed_tasks(env, c.handle) for c in cases}
    failed = {wid: why for wid, why in failed.items() if why}
    assert not failed, f"failed workflow tasks in {len(failed)} cases: {failed}"


ODD_UPDATES: dict[str, list[Any]] = {
    "sdk_null": [None],  # the SDK sends None as binary/null, not as JSON
    "bytes": [b"\x00decide"],  # and bytes as binary/plain
    "no_argument": [],
    "two_arguments": [{"decision": "assess"}, {"decision": "nfa"}],
}
"""What any SDK client can send besides JSON: the converter's type hint never reaches these."""


@pytest.mark.usefixtures("worker")
@pytest.mark.parametrize("shape", sorted(ODD_UPDATES))
async def test_an_update_of_any_shape_is_refused_as_invalid_input(
    env: WorkflowEnvironment, task_queue: str, shape: str
) -> None:
    case = await open_case(env, task_queue, harm=False, minutes=5)
    before = await case.handle.query("status")
    with pytest.raises(WorkflowUpdateFailedError) as failure:
        await case.handle.execute_update("decide", args=ODD_UPDATES[shape])
    assert await case.handle.query("status") == before
    assert await failed_tasks(env, case.handle) == []
    refusal = failure.value.cause
    assert isinstance(refusal, ApplicationError)
    count("workflow", f"update_{shape}", refusal.type, generated=False)
    details = tuple(map(str, refusal.details))
    fault = names_a_field_or_rule(refusal.type, refusal.message, details, set(), set())
    assert fault is None, f"{shape}: {fault} ({refusal.type}: {refusal.message})"


@pytest.mark.usefixtures("worker")
async def test_an_update_the_workflow_does_not_have_is_refused_and_changes_nothing(
    env: WorkflowEnvironment, task_queue: str
) -> None:
    case = await open_case(env, task_queue, harm=False, minutes=5)
    before = await case.handle.query("status")
    with pytest.raises(WorkflowUpdateFailedError):
        await case.handle.execute_update("record_everything", {"actor": "sw-1"})
    assert await case.handle.query("status") == before
    assert await failed_tasks(env, case.handle) == []
