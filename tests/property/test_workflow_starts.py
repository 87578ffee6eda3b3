"""Starting ReferralWorkflow with input of any shape, as a raw client can (issue 7).

A start cannot be refused, so bad input must fail the case at once: the workflow ends FAILED
with an ApplicationError of type "InvalidInput" whose message names only the referral's
fields, and no workflow task ever fails (a failing task retries for ever and leaves the
case, its referral id and the monthly panel stuck).
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from temporalio.api.common.v1 import Payload
from temporalio.client import WorkflowFailureError, WorkflowHandle
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError
from temporalio.testing import WorkflowEnvironment

from domain.case import Case
from domain.policy import Policy
from domain.referral import Referral
from tests.property.live import drawn, failed_tasks, raw, server_now, settle, start
from tests.property.oracle import judge_start, names_a_field_or_rule
from tests.property.payloads import Sent, Window, near_valid, payloads, valid_payloads
from tests.property.tally import TALLY, count

FIELDS = set(Referral.model_fields)
AT_ONCE = 8


def json_payload(text: bytes) -> Any:
    return raw(Payload(metadata={"encoding": b"json/plain"}, data=text))


def body(referral_id: str, received_at: Any) -> dict[str, Any]:
    return Referral(
        referral_id=referral_id,
        received_at=received_at,
        child_ref="PERSON-PROP-0002",
        team="RAI-2",
        referrer_agency="police",
        concerns=["running_away"],
        summary="generated start",
    ).model_dump(mode="json")


def carrier(referral: dict[str, Any]) -> dict[str, Any]:
    """The continue-as-new input, forged: a whole case, opened here."""
    opened = Referral.model_validate(referral)
    case, _ = Case.open(opened, Policy(), opened.received_at)
    return {"case": case.model_dump(mode="json")}


Shape = Callable[[dict[str, Any]], tuple[list[Any], str | None, str | None]]
"""From a valid referral: the start's arguments, another workflow id if any, and the field
the refusal must name (None: the input as a whole)."""

BAD_STARTS: dict[str, Shape] = {
    "unknown_concern": lambda r: ([r | {"concerns": ["not_an_indicator"]}], None, "concerns.0"),
    "missing_field": lambda r: ([{k: v for k, v in r.items() if k != "team"}], None, "team"),
    "extra_field": lambda r: ([r | {"priority": "urgent"}], None, "priority"),
    "naive_received_at": lambda r: (
        [r | {"received_at": r["received_at"][:19]}],
        None,
        "received_at",
    ),
    "json_null": lambda r: ([json_payload(b"null")], None, None),
    "sdk_null": lambda r: ([None], None, None),
    "no_argument": lambda r: ([], None, None),
    "two_arguments": lambda r: ([r, r], None, None),
    "a_list": lambda r: ([[r]], None, None),
    "a_number": lambda r: ([42], None, None),
    "bytes": lambda r: ([b"\x00referral"], None, None),
    "not_json": lambda r: ([json_payload(b"{referral")], None, None),
    "carrier_shaped": lambda r: ([carrier(r)], None, None),
    "another_workflow_id": lambda r: ([r], "referral-SOMEONE-ELSE", "referral_id"),
}


async def failure_of(
    env: WorkflowEnvironment, handle: WorkflowHandle[Any, Any]
) -> ApplicationError:
    """The closed case's failure. Read without letting the server skip time: skipping while
    other cases wait on timers (or retry a failing task) jumps the shared clock decades on."""
    with pytest.raises(WorkflowFailureError) as failure, env.auto_time_skipping_disabled():
        await handle.result()
    cause = failure.value.cause
    assert isinstance(cause, ApplicationError), repr(cause)
    return cause


def problems(refusal: ApplicationError) -> tuple[str, ...]:
    if refusal.details:
        return tuple(map(str, refusal.details))
    return tuple(refusal.message.removeprefix("invalid input: ").split("; "))


def assert_names_the_referral(refusal: ApplicationError, keys: set[str]) -> None:
    assert refusal.type == "InvalidInput", f"{refusal.type}: {refusal.message}"
    fault = names_a_field_or_rule(refusal.type, refusal.message, problems(refusal), FIELDS, keys)
    assert fault is None, fault
    assert "CarriedCase" not in refusal.message


@pytest.mark.usefixtures("worker")
@pytest.mark.parametrize("shape", sorted(BAD_STARTS))
async def test_a_bad_start_fails_the_case_at_once_naming_the_referrals_fields(
    env: WorkflowEnvironment, task_queue: str, shape: str
) -> None:
    referral_id = f"B-{uuid.uuid4().hex[:10]}"
    args, other_id, field = BAD_STARTS[shape](body(referral_id, await server_now(env)))
    handle = await start(env, task_queue, other_id or f"referral-{referral_id}", args)
    outcome = await settle(handle)
    assert await failed_tasks(env, handle) == [], f"{shape}: a workflow task failed"
    assert outcome == "failed", f"{shape}: the case is {outcome}, not failed at once"
    refusal = await failure_of(env, handle)
    keys = set(args[0]) if len(args) == 1 and isinstance(args[0], dict) else set()
    assert_names_the_referral(refusal, keys)
    if field is not None:
        assert f"{field}:" in refusal.message, refusal.message
    count("workflow", f"start_{shape}", refusal.type, generated=False)


async def test_a_referral_dated_in_the_future_fails_its_case_at_once(
    env: WorkflowEnvironment, task_queue: str, worker: object
) -> None:
    referral_id = f"F-{uuid.uuid4().hex[:10]}"
    args = [body(referral_id, await server_now(env) + timedelta(days=1))]
    handle = await start(env, task_queue, f"referral-{referral_id}", args)
    assert await settle(handle) == "failed"
    assert await failed_tasks(env, handle) == []
    refusal = await failure_of(env, handle)
    assert_names_the_referral(refusal, set(args[0]))
    assert "received_at:" in refusal.message


def with_unique_id(sent: Sent) -> tuple[Sent, str]:
    """Give a generated referral an id no other start has, keeping it valid or invalid."""
    tag = uuid.uuid4().hex[:6]
    value = sent.value
    if not (isinstance(value, dict) and isinstance(value.get("referral_id"), str)):
        return sent, f"referral-gen-{tag}"
    original = value["referral_id"]
    if len(original) > 200:
        return sent, f"referral-gen-{tag}"
    referral_id = f"{original[:57]}-{tag}" if len(original) <= 64 else original + tag
    return Sent(sent.shape, value | {"referral_id": referral_id}), f"referral-{referral_id}"


@pytest.mark.usefixtures("worker")
async def test_generated_starts_run_or_fail_at_once_and_no_task_fails(
    env: WorkflowEnvironment, task_queue: str
) -> None:
    starts = [
        *drawn(valid_payloads(Referral, live=True).map(lambda d: Sent("valid", d)), 12),
        *drawn(near_valid(Referral, live=True), 24),
        *drawn(payloads(Referral, live=True), 12),
    ]
    gate = asyncio.Semaphore(AT_ONCE)
    verdicts: list[str] = []

    async def one(sent: Sent) -> None:
        sent, workflow_id = with_unique_id(sent)
        async with gate:
            now = await server_now(env)
            payload = sent.payload(Window(now - timedelta(days=30), now))
            expected = judge_start([payload], workflow_id, now)
            try:
                handle = await start(env, task_queue, workflow_id, [raw(payload)])
            except RPCError:  # the server refused the id itself: no case was ever started
                TALLY["workflow.starts_refused_by_server"] += 1
                return
            outcome = await settle(handle)
            assert await failed_tasks(env, handle) == [], f"{sent.shape}: a workflow task failed"
            if outcome == "running":
                assert expected.accepted, f"started a case the domain refuses: {expected.message}"
                count("workflow", f"start_{sent.shape}", None)
                verdicts.append("running")
                return
            assert outcome == "failed", f"{sent.shape}: the case is {outcome}"
            refusal = await failure_of(env, handle)
            assert_names_the_referral(refusal, sent.keys())
            assert not expected.accepted, f"a valid referral failed: {refusal.message}"
            count("workflow", f"start_{sent.shape}", refusal.type)
            verdicts.append("failed")

    errors = await asyncio.gather(*(one(sent) for sent in starts), return_exceptions=True)
    broken = [e for e in errors if e is not None]
    assert not broken, f"{len(broken)} of {len(starts)} starts broke the contract: {broken[:3]}"
    assert {"running", "failed"} <= set(verdicts)
