"""Keep closed cases: the namespace must retain a closed case's history for the records period.

A Temporal namespace deletes a closed workflow's history once its retention has passed; the dev
server's default is one day. A closed case is still a child's record (its audit trail, its
clocks, and what stops the same referral id from opening a second case), so the worker raises
the namespace's retention to CSE_CASE_RETENTION_DAYS at start, and refuses to run if it cannot.
It never lowers a longer retention.
"""

from datetime import timedelta

from google.protobuf.duration_pb2 import Duration
from temporalio.api.namespace.v1 import NamespaceConfig
from temporalio.api.workflowservice.v1 import DescribeNamespaceRequest, UpdateNamespaceRequest
from temporalio.client import Client
from temporalio.service import RPCError


class RetentionError(Exception):
    """The namespace keeps closed cases for less than the records period and cannot be raised."""


async def ensure_case_retention(client: Client, namespace: str, minimum: timedelta) -> str:
    """Raise the namespace's retention to `minimum` if shorter; says what it did."""
    if minimum <= timedelta(0):
        return "not checked"
    described = await client.workflow_service.describe_namespace(
        DescribeNamespaceRequest(namespace=namespace)
    )
    current = described.config.workflow_execution_retention_ttl.ToTimedelta()
    if current >= minimum:
        return f"kept at {current.days} days"
    ttl = Duration()
    ttl.FromTimedelta(minimum)
    try:
        await client.workflow_service.update_namespace(
            UpdateNamespaceRequest(
                namespace=namespace, config=NamespaceConfig(workflow_execution_retention_ttl=ttl)
            )
        )
    except RPCError as err:
        raise RetentionError(
            f"namespace {namespace} keeps closed cases for {current.days} day(s) and the worker "
            f"could not raise it to {minimum.days} days ({err.message}): raise it with "
            "`temporal operator namespace update --retention`, or set CSE_CASE_RETENTION_DAYS"
        ) from err
    return f"raised from {current.days} to {minimum.days} days"
