"""Reading cases through Temporal's visibility: query literals, and which runs are cases."""

from temporalio.client import WorkflowExecution, WorkflowExecutionStatus

from workflows import search_attributes as sa


def quoted(value: str) -> str:
    """A string literal of Temporal's visibility query language (quotes cannot break out)."""
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def is_a_case(run: WorkflowExecution) -> bool:
    """Did this run of `referral-<id>` open a case? A case publishes its team at once and
    never fails; runs refused at their start (invalid input, a second case of the referral
    id) always fail."""
    opened = run.typed_search_attributes.get(sa.CSE_TEAM) is not None
    return opened and run.status != WorkflowExecutionStatus.FAILED
