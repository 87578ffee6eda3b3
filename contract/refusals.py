"""How the service refuses, as Temporal errors a client can read: each an ApplicationError,
non-retryable, whose type names the kind of refusal and whose message names the field or
rule. Only these fail a workflow or an update; anything else would fail the workflow *task*
and retry for ever.

InvalidInput        a payload's fields are wrong (message: `invalid input: field: problem; ...`)
<PathwayRefusal>    the pathway refused an event (type: EventNotAllowed, RuleBroken, ...;
                    details: the rule's stable name)
CaseNotOpen         the case's start was refused, so there is no case to ask or change
DuplicateReferral   the referral id already had a case; this run is not a case
NotIndexable        an operator's `index_child` on a case that is indexed, closed or opening

Each is counted as it is built, inside a workflow: cse_refusals_total{rule} (the pathway rule's
name, or invalid_input, case_not_open, duplicate_referral).
"""

from temporalio import workflow
from temporalio.exceptions import ApplicationError

from contract.child_indexing import NOT_INDEXABLE
from domain.errors import CASE_NOT_OPEN, DUPLICATE_REFERRAL, INVALID_INPUT, PathwayRefusal


def invalid_input(problems: list[str]) -> ApplicationError:
    count_refusal("invalid_input")
    return ApplicationError(
        f"invalid input: {'; '.join(problems)}", *problems, type=INVALID_INPUT, non_retryable=True
    )


def pathway_refusal(refusal: PathwayRefusal) -> ApplicationError:
    count_refusal(refusal.rule)
    return ApplicationError(
        refusal.message, refusal.rule, type=type(refusal).__name__, non_retryable=True
    )


def case_not_open(why: ApplicationError) -> ApplicationError:
    count_refusal("case_not_open")
    return ApplicationError(
        f"no case was opened: its start was refused ({why.message})",
        type=CASE_NOT_OPEN,
        non_retryable=True,
    )


def duplicate_referral(referral_id: str, earlier_run_id: str) -> ApplicationError:
    count_refusal("duplicate_referral")
    return ApplicationError(
        f"referral {referral_id} already has a case (run {earlier_run_id}): a referral id has "
        "one case for ever, so this start was refused and that case left untouched",
        "referral_id",
        type=DUPLICATE_REFERRAL,
        non_retryable=True,
    )


def not_indexable(why: str) -> ApplicationError:
    count_refusal("not_indexable")
    return ApplicationError(f"not indexed: {why}", type=NOT_INDEXABLE, non_retryable=True)


def count_refusal(rule: str) -> None:
    """One refusal, by its rule's stable name; nothing outside a workflow (the same errors are
    built by the data converter in clients, and by tests calling the workflow's checks)."""
    if workflow.in_workflow():
        meter = workflow.metric_meter()
        meter.create_counter("cse_refusals", "Starts, updates and queries refused, by rule").add(
            1, {"rule": rule}
        )
