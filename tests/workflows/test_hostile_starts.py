"""A raw Temporal client cannot break a case: starts of any shape, sent as an outside client
sends them (workflow type by name, plain JSON), end at once with a message naming the
referral's fields, and never leave a workflow task failing (issue 7's breakages 1, 3, 4)."""

from __future__ import annotations

import uuid
from datetime import timedelta
from types import SimpleNamespace
from typing import Any, cast

import pytest
from temporalio import workflow
from temporalio.api.enums.v1 import EventType
from temporalio.client import WorkflowFailureError, WorkflowHandle, WorkflowQueryFailedError
from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment

from domain.referral import Referral
from tests.conftest import EARLIER_CASES, STARTED, Outbox
from tests.workflows.helpers import now, referral
from workflows.referral import continues_a_case


def as_json(case: Referral) -> dict[str, Any]:
    return case.model_dump(mode="json")


async def start_raw(
    env: WorkflowEnvironment, task_queue: str, workflow_id: str, *args: Any
) -> WorkflowHandle[Any, Any]:
    handle = await env.client.start_workflow(
        "ReferralWorkflow", args=list(args), id=workflow_id, task_queue=task_queue
    )
    STARTED.append(handle)
    return handle


async def failure_of(env: WorkflowEnvironment, handle: WorkflowHandle[Any, Any]) -> BaseException:
    """How the run failed (waiting without letting the time-skipping server leap ahead)."""
    with env.auto_time_skipping_disabled(), pytest.raises(WorkflowFailureError) as failure:
        await handle.result(rpc_timeout=timedelta(seconds=10))
    return failure.value.cause


async def refusal_of(
    env: WorkflowEnvironment, handle: WorkflowHandle[Any, Any]
) -> ApplicationError:
    """The case failed at once, with an InvalidInput refusal, and no workflow task failed."""
    cause = await failure_of(env, handle)
    assert isinstance(cause, ApplicationError)
    assert cause.type == "InvalidInput"
    events = [e.event_type async for e in handle.fetch_history_events()]
    assert EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED not in events
    assert EventType.EVENT_TYPE_WORKFLOW_EXECUTION_FAILED in events
    assert "CarriedCase" not in cause.message
    return cause


async def test_an_unknown_concern_names_the_field(
    env: WorkflowEnvironment, task_queue: str, worker: object
) -> None:
    case = referral(await now(env))
    body = as_json(case) | {"concerns": ["sexual_health", "not_a_concern"]}
    cause = await refusal_of(env, await start_raw(env, task_queue, case.workflow_id, body))
    assert cause.message.startswith("invalid input: concerns.1: ")


async def test_a_missing_field_names_the_field(
    env: WorkflowEnvironment, task_queue: str, worker: object
) -> None:
    case = referral(await now(env))
    body = {k: v for k, v in as_json(case).items() if k != "child_ref"}
    cause = await refusal_of(env, await start_raw(env, task_queue, case.workflow_id, body))
    assert cause.message == "invalid input: child_ref: Field required"


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ([None], "invalid input: (input): Input should be a valid dictionary"),
        ([], "invalid input: (input): a case starts from one referral, not 0 inputs"),
        ([{}, {}], "invalid input: (input): a case starts from one referral, not 2 inputs"),
        ([["a", "list"]], "invalid input: (input): Input should be a valid dictionary"),
    ],
    ids=["null", "no argument", "two arguments", "a list"],
)
async def test_a_start_of_the_wrong_shape_fails_at_once(
    env: WorkflowEnvironment, task_queue: str, worker: object, args: list[Any], expected: str
) -> None:
    workflow_id = f"referral-T-{uuid.uuid4().hex[:10]}"
    cause = await refusal_of(env, await start_raw(env, task_queue, workflow_id, *args))
    assert cause.message.startswith(expected)


async def test_a_refused_start_answers_queries_with_a_refusal(
    env: WorkflowEnvironment, task_queue: str, worker: object
) -> None:
    """A query's failure travels as its message alone, which sealing hides ("Encoded
    failure"): what matters is that it is refused at once, never left waiting on a task."""
    workflow_id = f"referral-T-{uuid.uuid4().hex[:10]}"
    handle = await start_raw(env, task_queue, workflow_id, None)
    await refusal_of(env, handle)
    with pytest.raises(WorkflowQueryFailedError):
        await handle.query("status", rpc_timeout=timedelta(seconds=5))


async def test_the_workflow_id_must_be_referral_and_the_referral_id(
    env: WorkflowEnvironment, task_queue: str, worker: object
) -> None:
    case = referral(await now(env))
    other_id = f"referral-X-{uuid.uuid4().hex[:10]}"
    cause = await refusal_of(env, await start_raw(env, task_queue, other_id, as_json(case)))
    assert cause.message.startswith("invalid input: referral_id: ")
    assert case.workflow_id in cause.message


async def test_the_continue_as_new_carrier_cannot_be_started_from_outside(
    env: WorkflowEnvironment, task_queue: str, worker: object
) -> None:
    """Only the engine can say a run continues another: a carrier-shaped start is a referral
    with none of its fields, so no forged case (no clocks, default policy) ever opens."""
    case = referral(await now(env))
    forged = {"case": {"referral": as_json(case), "policy": {}, "team": case.team}}
    cause = await refusal_of(env, await start_raw(env, task_queue, case.workflow_id, forged))
    assert "referral_id: Field required" in cause.message
    assert "case: Extra inputs are not permitted" in cause.message


async def test_a_start_after_an_earlier_case_fails_as_a_duplicate_and_sends_nothing(
    env: WorkflowEnvironment, task_queue: str, worker: object, outbox: Outbox
) -> None:
    """Breakage 5: a client ignoring REJECT_DUPLICATE starts a new run once the referral's
    case has closed. The run asks whether its id had a case before (visibility; answered
    here by the test double) and fails, sending none of the catch-up breaches it would owe."""
    case = referral(await now(env) - timedelta(days=30), significant_harm_suspected=True)
    EARLIER_CASES[case.workflow_id] = ["run-of-the-closed-case"]
    try:
        handle = await start_raw(env, task_queue, case.workflow_id, as_json(case))
        cause = await failure_of(env, handle)
    finally:
        del EARLIER_CASES[case.workflow_id]
    assert isinstance(cause, ApplicationError)
    assert cause.type == "DuplicateReferral"
    assert "run-of-the-closed-case" in cause.message
    events = [e.event_type async for e in handle.fetch_history_events()]
    assert EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED not in events
    assert [n for n in outbox.sent if n.referral_id == case.referral_id] == []


@pytest.mark.parametrize(
    ("continued_run_id", "attempt", "cron_schedule", "carried"),
    [
        ("run-before", 1, None, True),  # the case continued as new: only the engine does that
        (None, 1, None, False),  # a client's start
        ("run-before", 2, None, False),  # a retry of a client's start: its input again
        ("run-before", 1, "* * * * *", False),  # a cron run of a client's start: likewise
    ],
    ids=["continued as new", "started", "retried", "cron"],
)
def test_only_a_run_the_case_continued_into_takes_a_carried_case(
    continued_run_id: str | None, attempt: int, cron_schedule: str | None, carried: bool
) -> None:
    """Retry and cron runs are continued from the run before too, but carry the client's own
    input: they are checked as fresh referrals, so a forged `{"case": ...}` never gets in.
    (The time-skipping server does not skip time across cron runs, so this is asked of the
    rule itself.)"""
    info = SimpleNamespace(
        continued_run_id=continued_run_id, attempt=attempt, cron_schedule=cron_schedule
    )
    assert continues_a_case(cast(workflow.Info, info)) is carried
