"""Every log line is JSON, the SDK core's included, and a failing workflow task is reported
naming its referral, at most once a minute per case (issue 15, items 2 and 4).

The records are built as the SDK builds them: temporalio/worker/_workflow_instance.py logs
"Failed activation on workflow <type> with ID <workflow id> and run ID <run id>" with the
workflow's details in `extra` on every attempt (the server retries the task about every
10 s); temporalio/worker/_workflow.py logs "Failed handling activation on workflow with run
ID %s" when an activation cannot even be decoded; sdk-core logs "Failing workflow task" with
`run_id` among its fields, forwarded by the runtime edge/client.py builds."""

from __future__ import annotations

import base64
import io
import json
import logging
import os
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from temporalio import workflow
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import UnsandboxedWorkflowRunner, Worker, WorkflowRunner
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions

from edge.client import core_logging
from edge.codec import new_key_item
from edge.logs import CORE_LOGGER, RUN_NAMES, NameRuns, RunNames, TaskFailureLines, json_handler
from tests.e2e.conftest import (
    REPO,
    TemporalCli,
    clean_env,
    dev_server,
    tail,
    worker_process,
)

pytestmark = pytest.mark.slow  # runs worker.py as a process until a failing task is logged

RUN = "01a25143-9b29-732b-8076-e693b58a9629"
OTHER_RUN = "01a25143-14e3-7a3e-9f1a-d372255defed"


def failed_activation(workflow_id: str = "referral-R-1", run_id: str = RUN) -> logging.LogRecord:
    try:
        raise RuntimeError("[TMPRL1100] Nondeterminism error: timer 3 not found")
    except RuntimeError:
        exc_info = sys.exc_info()
    name = "temporalio.worker._workflow_instance"
    details = {
        "attempt": 1,
        "namespace": "default",
        "run_id": run_id,
        "task_queue": "cse-referrals",
        "workflow_id": workflow_id,
        "workflow_type": "ReferralWorkflow",
    }
    return logging.getLogger(name).makeRecord(
        name,
        logging.WARNING,
        "_workflow_instance.py",
        577,
        f"Failed activation on workflow ReferralWorkflow with ID {workflow_id} and run ID {run_id}",
        (),
        exc_info,
        extra={"temporal_workflow": details, "__temporal_error_identifier": "WorkflowTaskFailure"},
    )


def failed_handling(run_id: str = RUN) -> logging.LogRecord:
    name = "temporalio.worker._workflow"
    return logging.getLogger(name).makeRecord(
        name,
        logging.ERROR,
        "_workflow.py",
        440,
        "Failed handling activation on workflow with run ID %s",
        (run_id,),
        None,
    )


class Keep(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


def core_line(message: str = "Failing workflow task", **fields: str) -> logging.LogRecord:
    """A core log entry, forwarded exactly as the worker's runtime forwards it."""
    forwarding = core_logging().forwarding
    assert forwarding is not None
    entry = SimpleNamespace(
        level=logging.WARNING,
        target="temporalio_sdk_core::worker::workflow",
        message=message,
        fields=fields,
        time=time.time(),
    )
    kept = Keep()
    logger = logging.getLogger(CORE_LOGGER)
    logger.addHandler(kept)
    try:
        forwarding._on_logs([entry])
    finally:
        logger.removeHandler(kept)
    (record,) = kept.records
    return record


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def lines(clock: Clock) -> TaskFailureLines:
    return TaskFailureLines(RunNames(), clock=clock)


def test_a_failing_task_line_names_its_referral(lines: TaskFailureLines) -> None:
    record = failed_activation("referral-R-1")

    assert lines.filter(record)
    assert record.__dict__["referral_id"] == "R-1"
    assert record.__dict__["workflow_id"] == "referral-R-1"
    assert record.__dict__["run_id"] == RUN


def test_one_line_a_minute_per_case_and_the_next_counts_those_held_back(
    lines: TaskFailureLines, clock: Clock
) -> None:
    let_through = []
    for _ in range(7):  # the SDK's retry every 10 s, for a minute
        record = failed_activation("referral-R-1")
        if lines.filter(record):
            let_through.append(record)
        clock.now += 10

    assert len(let_through) == 2
    assert "repeats_suppressed" not in let_through[0].__dict__
    assert let_through[1].__dict__["repeats_suppressed"] == 5


def test_each_case_has_its_own_minute(lines: TaskFailureLines, clock: Clock) -> None:
    assert lines.filter(failed_activation("referral-R-1", RUN))
    clock.now += 5
    assert lines.filter(failed_activation("referral-R-2", OTHER_RUN))
    assert not lines.filter(failed_activation("referral-R-1", RUN))


def test_the_core_line_of_a_run_seen_is_named_and_counted_with_its_case(
    lines: TaskFailureLines, clock: Clock
) -> None:
    assert lines.filter(failed_activation("referral-R-1", RUN))
    core = core_line(run_id=RUN, failure="Failure { message: ... }")

    assert not lines.filter(core)  # the same failure, told once already this minute
    assert core.__dict__["referral_id"] == "R-1"
    clock.now += 61
    assert lines.filter(core_line(run_id=RUN, failure="Failure { message: ... }"))


def test_a_run_the_worker_started_is_named_on_lines_that_name_only_the_run(
    clock: Clock,
) -> None:
    runs = RunNames()
    runs.remember(OTHER_RUN, "referral-R-9")  # what the worker's interceptor does
    lines = TaskFailureLines(runs, clock=clock)
    record, core = failed_handling(OTHER_RUN), core_line(run_id=OTHER_RUN)

    assert lines.filter(record)
    assert not lines.filter(core)
    assert record.__dict__["referral_id"] == core.__dict__["referral_id"] == "R-9"


def test_a_run_never_seen_is_still_thinned_by_its_run_id(
    lines: TaskFailureLines, clock: Clock
) -> None:
    first, again = failed_handling(OTHER_RUN), failed_handling(OTHER_RUN)

    assert lines.filter(first)
    clock.now += 10
    assert not lines.filter(again)
    assert first.__dict__["run_id"] == OTHER_RUN
    assert "referral_id" not in first.__dict__


def test_other_lines_pass_untouched(lines: TaskFailureLines) -> None:
    for _ in range(3):
        record = logging.getLogger("cse.worker").makeRecord(
            "cse.worker", logging.WARNING, "worker.py", 1, "email off", (), None
        )
        assert lines.filter(record)
        assert "referral_id" not in record.__dict__


def rendered(*records: logging.LogRecord) -> list[dict[str, Any]]:
    stream = io.StringIO()
    handler = json_handler(stream)
    for record in records:
        handler.handle(record)
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_core_lines_render_as_json_with_their_fields_and_no_colour() -> None:
    coloured = "\x1b[33mWARN\x1b[0m Failure { message: \x1b[1mboom\x1b[0m }"

    (line,) = rendered(core_line(run_id=RUN, failure=coloured))

    assert line["event"] == "Failing workflow task"
    assert line["logger"] == CORE_LOGGER
    assert line["level"] == "warning"
    assert line["run_id"] == RUN
    assert line["failure"] == "WARN Failure { message: boom }"
    assert "\x1b" not in json.dumps(line)


def test_a_failing_task_renders_as_one_json_line_naming_the_referral() -> None:
    (line,) = rendered(failed_activation("referral-R-7"))

    assert line["referral_id"] == "R-7"
    assert "Nondeterminism error" in line["exception"]


# ---- the worker itself ---------------------------------------------------------------------


@pytest.fixture
def temporal(tmp_path: Path) -> Iterator[str]:
    with dev_server(tmp_path) as address:
        yield address


@pytest.mark.e2e
def test_the_worker_logs_json_only_and_a_failing_task_once_a_minute(
    temporal: str, tmp_path: Path
) -> None:
    """A case sealed with a key the worker does not hold: its workflow task fails on every
    attempt (about every 10 s). The SDK's Python and core lines say so (the core's coloured
    text before); the worker's log keeps one of them, in JSON."""
    task_queue = f"logs-{uuid.uuid4().hex[:8]}"
    env = clean_env(
        TEMPORAL_ADDRESS=temporal,
        CSE_TASK_QUEUE=task_queue,
        CSE_CODEC_KEYS=new_key_item("worker-1"),
        CSE_OUTBOX_FILE=str(tmp_path / "outbox.jsonl"),
        CSE_POLICY_DIR=str(REPO / "policies"),
        CSE_POLICY_LEDGER=str(tmp_path / "policy-ledger.json"),
        CSE_PANEL_SCHEDULE_ID=f"panel-{task_queue}",
    )
    log = tmp_path / "worker.log"
    sealed_elsewhere = base64.b64encode(os.urandom(48)).decode()
    with worker_process(env, log):
        started = TemporalCli(temporal)(
            *("workflow", "start", "--type", "ReferralWorkflow", "--task-queue", task_queue),
            *("--workflow-id", "referral-LOGS-1", "--input", sealed_elsewhere, "--input-base64"),
            *("--input-meta", "encoding=binary/encrypted"),
            *("--input-meta", "encryption-key-id=elsewhere-1"),
        )
        time.sleep(23)  # the first attempt and two retries

    text = log.read_text(encoding="utf-8")
    assert "\x1b" not in text, tail(log)
    lines = []
    for line in text.splitlines():
        try:
            lines.append(json.loads(line))
        except ValueError:
            pytest.fail(f"not a JSON line: {line!r}\n{tail(log)}")
    failing = [line for line in lines if line.get("run_id") == started["runId"]]
    assert len(failing) == 1, tail(log)


@workflow.defn
class Hello:
    @workflow.run
    async def run(self) -> str:
        return "hello"


RUNNERS = {
    "sandboxed": SandboxedWorkflowRunner(
        restrictions=SandboxRestrictions.default.with_passthrough_modules("tests", "edge")
    ),
    "unsandboxed": UnsandboxedWorkflowRunner(),
}


@pytest.mark.parametrize("runner", RUNNERS.values(), ids=RUNNERS.keys())
async def test_the_worker_tells_the_log_which_case_each_run_is(
    env: WorkflowEnvironment, runner: WorkflowRunner
) -> None:
    task_queue = f"names-{uuid.uuid4()}"
    workflow_id = f"referral-NAMES-{uuid.uuid4().hex[:6]}"
    async with Worker(
        env.client,
        task_queue=task_queue,
        workflows=[Hello],
        interceptors=[NameRuns()],
        workflow_runner=runner,
    ):
        handle = await env.client.start_workflow(Hello.run, id=workflow_id, task_queue=task_queue)
        assert await handle.result() == "hello"

    assert RUN_NAMES.workflow_of(handle.result_run_id or "") == workflow_id
