"""Logging: structlog once per process, stdlib (Temporal's included) routed to one JSON line.

The SDK's core (Rust) logs reach the `temporalio.core` logger through the runtime that
edge/client.py builds, so they are JSON lines too, never coloured console text. A workflow
task that fails is retried about every 10 s and the SDK logs each attempt naming only the run
(or the workflow id inside its message): `TaskFailureLines` puts the case's `referral_id` on
those lines and lets one through per case a minute, counting the rest in `repeats_suppressed`.
"""

import contextlib
import logging
import re
import sys
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from typing import Any, TextIO

import structlog
import temporalio.client
import temporalio.worker
from temporalio import workflow

from domain.referral import WORKFLOW_ID_PREFIX, referral_id_of

CORE_LOGGER = "temporalio.core"
REPEAT_WINDOW = 60.0  # seconds: one line per case about its failing task in this window

_SHARED: list[structlog.types.Processor] = [
    structlog.contextvars.merge_contextvars,
    structlog.stdlib.add_log_level,
    structlog.stdlib.add_logger_name,
    structlog.processors.TimeStamper(fmt="iso", utc=True),
]
_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
_RUN_ID = re.compile(r"\brun ID ([0-9A-Za-z-]+)")
# How the SDK begins its lines about a workflow task failing (temporalio/worker/_workflow*.py
# and sdk-core's worker/workflow), each retry of the task logging again.
_TASK_FAILURES = (
    "Failed activation on workflow",
    "Failed handling activation on workflow",
    "Failing workflow task",
    "Failing workflow due to nondeterminism",
)
_RECORD_FIELDS = ("referral_id", "workflow_id", "run_id", "repeats_suppressed")


class RunNames:
    """Which workflow each recent run belongs to: the SDK's core names only the run."""

    def __init__(self, size: int = 20_000) -> None:
        self._size = size
        self._workflows: OrderedDict[str, str] = OrderedDict()

    def remember(self, run_id: str, workflow_id: str) -> None:
        self._workflows[run_id] = workflow_id
        self._workflows.move_to_end(run_id)
        while len(self._workflows) > self._size:
            self._workflows.popitem(last=False)

    def workflow_of(self, run_id: str) -> str | None:
        return self._workflows.get(run_id)


RUN_NAMES = RunNames()
_REMEMBER_RUN = "cse_remember_run"


class NameRuns(temporalio.client.Interceptor, temporalio.worker.Interceptor):
    """On every client (edge/client.py): a worker tells RUN_NAMES each run it starts or
    replays, through an extern function (the sanctioned way out of the workflow sandbox)."""

    def workflow_interceptor_class(
        self, input: temporalio.worker.WorkflowInterceptorClassInput
    ) -> type[temporalio.worker.WorkflowInboundInterceptor]:
        input.unsafe_extern_functions[_REMEMBER_RUN] = RUN_NAMES.remember
        return _NameTheRun


class _NameTheRun(temporalio.worker.WorkflowInboundInterceptor):
    def init(self, outbound: temporalio.worker.WorkflowOutboundInterceptor) -> None:
        super().init(outbound)
        # Naming a run for the log must never fail the case's workflow task.
        with contextlib.suppress(Exception):
            info = outbound.info()  # workflow.info() is not ready while interceptors init
            workflow.extern_functions()[_REMEMBER_RUN](info.run_id, info.workflow_id)


class TaskFailureLines(logging.Filter):
    """Names the case (`workflow_id`, `referral_id`, `run_id`) on the SDK's lines, and lets
    through one line a minute per case about its workflow task failing; the next one let
    through carries `repeats_suppressed`, how many were held back since the last."""

    def __init__(
        self,
        runs: RunNames = RUN_NAMES,
        window: float = REPEAT_WINDOW,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__()
        self._runs, self._window, self._clock = runs, window, clock
        self._last: OrderedDict[str, tuple[float, int]] = OrderedDict()

    def filter(self, record: logging.LogRecord) -> bool:
        workflow_id, run_id = self._identify(record)
        if workflow_id:
            record.workflow_id = workflow_id
            if workflow_id.startswith(WORKFLOW_ID_PREFIX):
                record.referral_id = referral_id_of(workflow_id)
        if run_id:
            record.run_id = run_id
        key = workflow_id or run_id
        if key is None or not str(record.msg).startswith(_TASK_FAILURES):
            return True
        return self._let_through(key, record)

    def _identify(self, record: logging.LogRecord) -> tuple[str | None, str | None]:
        details = getattr(record, "temporal_workflow", None)
        if isinstance(details, Mapping):
            workflow_id, run_id = details.get("workflow_id"), details.get("run_id")
            if workflow_id and run_id:
                self._runs.remember(str(run_id), str(workflow_id))
            return workflow_id, run_id
        core = getattr(record, "temporal_log", None)
        fields = getattr(core, "fields", None) or {}
        run_id = fields.get("run_id")
        if run_id is None and record.name.startswith("temporalio"):
            found = _RUN_ID.search(record.getMessage())
            run_id = found.group(1) if found else None
        if run_id is None:
            return None, None
        return self._runs.workflow_of(str(run_id)), str(run_id)

    def _let_through(self, key: str, record: logging.LogRecord) -> bool:
        now = self._clock()
        last = self._last.get(key)
        if last is not None and now - last[0] < self._window:
            self._last[key] = (last[0], last[1] + 1)
            return False
        if last is not None and last[1]:
            record.repeats_suppressed = last[1]
        self._last[key] = (now, 0)
        self._last.move_to_end(key)
        while len(self._last) > 10_000:
            self._last.popitem(last=False)
        return True


def _case_and_core_fields(_: Any, __: str, event: structlog.types.EventDict) -> Any:
    """What TaskFailureLines found, and the SDK core's own fields, as JSON keys."""
    record = event.get("_record")
    for name in _RECORD_FIELDS:
        value = getattr(record, name, None)
        if value is not None:
            event.setdefault(name, value)
    core = getattr(record, "temporal_log", None)
    if core is not None:
        event["core_target"] = core.target
        for name, value in (core.fields or {}).items():
            event.setdefault(name, str(value))
    return event


def _without_colour(_: Any, __: str, event: structlog.types.EventDict) -> Any:
    """No terminal colour codes in a JSON line (a library may colour its own text)."""
    return {k: _ANSI.sub("", v) if isinstance(v, str) else v for k, v in event.items()}


def json_handler(stream: TextIO) -> logging.Handler:
    """One JSON line per record on `stream`, the SDK's lines about failing tasks thinned."""
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=_SHARED,
        processors=[
            _case_and_core_fields,
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info,
            _without_colour,
            structlog.processors.JSONRenderer(),
        ],
    )
    handler = logging.StreamHandler(stream)
    handler.setFormatter(formatter)
    handler.addFilter(TaskFailureLines())
    return handler


def configure_logging(level: str = "INFO") -> None:
    structlog.configure(
        processors=[*_SHARED, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    root = logging.getLogger()
    root.handlers = [json_handler(sys.stdout)]
    root.setLevel(level.upper())
    logging.captureWarnings(True)  # Python's warnings as JSON lines too, not bare stderr text
