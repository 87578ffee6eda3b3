"""The workflow sandbox every worker and replayer uses.

Third-party modules the domain uses are passed through: they are deterministic, and
re-importing them for every workflow run costs throughput and memory (one plain import of
`holidays` measured here cut throughput x3 and raised memory x7). `domain` is passed through
too, so the holiday tables it caches are built once per process.
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


def workflow_runner() -> SandboxedWorkflowRunner:
    calendar.preload()
    compile_workflow_modules()
    return SandboxedWorkflowRunner(
        restrictions=SandboxRestrictions.default.with_passthrough_modules(*PASSED_THROUGH)
    )


def compile_workflow_modules() -> None:
    """Bytecode for the modules the sandbox runs afresh for every case it loads: without it
    (PYTHONDONTWRITEBYTECODE=1, as in the Dockerfile) each new or reloaded case compiles
    workflows/referral.py from source again, ~2.3 ms. A read-only install keeps what its
    image build compiled."""
    compileall.compile_dir(Path(__file__).parent, quiet=2, maxlevels=0)
