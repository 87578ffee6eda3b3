"""The workflow sandbox every worker and replayer uses.

Third-party modules the domain uses are passed through: they are deterministic, and
re-importing them for every workflow run costs throughput and memory (one plain import of
`holidays` measured here cut throughput x3 and raised memory x7). `domain` is passed through
too, so the holiday tables it caches are built once per process.
"""

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
    return SandboxedWorkflowRunner(
        restrictions=SandboxRestrictions.default.with_passthrough_modules(*PASSED_THROUGH)
    )
