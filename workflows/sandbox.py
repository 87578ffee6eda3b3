"""The workflow sandbox every worker and replayer uses.

Third-party modules the domain uses are passed through: they are deterministic, and
re-importing them for every workflow run costs throughput and memory (one plain import of
`holidays` measured here cut throughput x3 and raised memory x7). `domain` is passed through
too, so the holiday tables it caches are built once per process.

The workers pass the workflow modules themselves through as well (`strict=False`): the
sandbox otherwise runs `workflows/referral.py` afresh for every case it loads, building the
workflow class and its 18 update definitions again (~11 ms of a full case's 74 ms replay, and
a module, a class and their functions kept in memory per cached case). What that gives up is
the sandbox's check that the workflow code itself calls nothing non-deterministic, so every
test that runs workflow code in-process (time-skipping tests, the replay of committed
histories) uses `strict=True`, where only third-party and domain code is passed through and a
non-deterministic call in a workflow module fails the test.
"""

import compileall
from pathlib import Path

from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions

from domain import calendar

PASSED_THROUGH = (
    "domain",
    "workflows.configuration",  # the worker installs the policy book there
    "holidays",
    "dateutil",
    "statemachine",
    "pydantic",
    "structlog",
)


WORKFLOW_MODULES = ("workflows",)


def workflow_runner(strict: bool = False) -> SandboxedWorkflowRunner:
    """The worker's sandbox; `strict` also runs the workflow modules inside it (tests)."""
    calendar.preload()
    passed: tuple[str, ...] = PASSED_THROUGH
    if strict:
        compile_workflow_modules()  # the sandbox runs them afresh for every case it loads
    else:
        passed += WORKFLOW_MODULES
    return SandboxedWorkflowRunner(
        restrictions=SandboxRestrictions.default.with_passthrough_modules(*passed)
    )


def compile_workflow_modules() -> None:
    """Bytecode for the modules the sandbox runs afresh for every case it loads: without it
    (PYTHONDONTWRITEBYTECODE=1, as in the Dockerfile) each new or reloaded case compiles
    workflows/referral.py from source again, ~2.3 ms. A read-only install keeps what its
    image build compiled."""
    compileall.compile_dir(Path(__file__).parent, quiet=2, maxlevels=0)
