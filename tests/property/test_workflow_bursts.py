"""Generated updates sent to one case all at once, as several practitioners' clients may.

Validators can pass two updates in one workflow task that cannot both apply (two decisions,
two MASE referrals); the second is then refused by `apply` after it was accepted. Whatever
the order, each update is accepted or refused naming a field or rule, the case records
exactly the accepted ones, and no workflow task fails.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import Any

import pytest
from hypothesis import strategies as st
from temporalio.client import WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError
from temporalio.testing import WorkflowEnvironment

from tests.property.live import drawn, failed_tasks, raw, server_now
from tests.property.oracle import UPDATE_TYPES, names_a_field_or_rule
from tests.property.payloads import Sent, Window, payloads, sent_to, valid_payloads
from tests.property.tally import count
from tests.property.test_workflow_updates import JOURNEY, LiveCase, open_case
from tests.workflows.helpers import skip_to_next_monday_morning

BURSTS = 8
BURST_SIZE = 8
ANSWER_SECONDS = 15

VALID_UPDATE = st.one_of(
    [
        valid_payloads(m, live=True).map(lambda d: Sent("valid", d)).map(sent_to(n))
        for n, m in sorted(UPDATE_TYPES.items())
    ]
)
ANY_UPDATE = st.one_of(
    [payloads(m, live=True).map(sent_to(n)) for n, m in sorted(UPDATE_TYPES.items())]
)
BURST = st.lists(
    st.one_of(VALID_UPDATE, VALID_UPDATE, ANY_UPDATE), min_size=BURST_SIZE, max_size=BURST_SIZE
)


CASE_ENDED = "(the case had ended)"


async def answer(case: LiveCase, name: str, sent: Sent) -> str | None:
    """The update's event name if accepted; None if refused as the contract says; CASE_ENDED
    if an earlier update of the burst closed the case and its workflow has completed."""
    now = await server_now(case.env)
    payload = sent.payload(Window(case.case.referral.received_at, now))
    try:
        await asyncio.wait_for(case.handle.execute_update(name, raw(payload)), ANSWER_SECONDS)
    except WorkflowUpdateFailedError as failure:
        refusal = failure.cause
        assert isinstance(refusal, ApplicationError), f"{name}: {refusal!r}"
        count("workflow", sent.shape, refusal.type)
        fields = set(UPDATE_TYPES[name].model_fields)
        details = tuple(map(str, refusal.details))
        fault = names_a_field_or_rule(refusal.type, refusal.message, details, fields, sent.keys())
        assert fault is None, f"{name}: {fault}"
        return None
    except RPCError as error:
        if "completed" not in str(error).lower():
            raise
        return CASE_ENDED
    count("workflow", sent.shape, None)
    return name


async def burst(case: LiveCase, updates: list[tuple[str, Sent]]) -> None:
    before = await case.handle.query("status")
    answers = await asyncio.gather(*(answer(case, n, s) for n, s in updates))
    after = await case.handle.query("status")
    recorded = [h["event"] for h in after["history"][len(before["history"]) :]]
    assert after["history"][: len(before["history"])] == before["history"]
    assert CASE_ENDED not in answers or after["stage"] == "closed"
    accepted = [a for a in answers if a and a != CASE_ENDED]
    assert Counter(recorded) == Counter(accepted), f"accepted {answers}, recorded {recorded}"


@pytest.mark.usefixtures("worker")
async def test_updates_sent_at_once_are_each_accepted_or_refused_and_no_task_fails(
    env: WorkflowEnvironment, task_queue: str
) -> None:
    await skip_to_next_monday_morning(env)
    cases: list[LiveCase] = []

    async def one(index: int, updates: list[tuple[str, Sent]]) -> None:
        case = await open_case(env, task_queue, harm=bool(index % 2), minutes=10)
        cases.append(case)
        for name, body in JOURNEY[: index % len(JOURNEY)]:
            await case.send(name, Sent("journey", body))
        await burst(case, updates)

    bursts: list[Any] = drawn(BURST, BURSTS)
    errors = await asyncio.gather(
        *(one(i, b) for i, b in enumerate(bursts)), return_exceptions=True
    )
    broken = [e for e in errors if e is not None]
    assert not broken, f"{len(broken)} of {len(bursts)} bursts broke the contract: {broken[:3]}"
    failed = {c.handle.id: await failed_tasks(env, c.handle) for c in cases}
    failed = {wid: why for wid, why in failed.items() if why}
    assert not failed, f"failed workflow tasks in {len(failed)} cases: {failed}"
