"""Register the case search attributes on a server that lacks them (dev and test servers):
those a case publishes as it moves, and the child index it is given at its start."""

from temporalio.api.enums.v1 import IndexedValueType
from temporalio.api.operatorservice.v1 import (
    AddSearchAttributesRequest,
    ListSearchAttributesRequest,
)
from temporalio.client import Client
from temporalio.common import SearchAttributeIndexedValueType
from temporalio.service import RPCError, RPCStatusCode

from contract.search_attributes import ALL_KEYS, CSE_CHILD_INDEX, CSE_RECEIVED_AT

REGISTERED = (*ALL_KEYS, CSE_CHILD_INDEX, CSE_RECEIVED_AT)

_CLI_TYPES = {
    SearchAttributeIndexedValueType.KEYWORD: "Keyword",
    SearchAttributeIndexedValueType.INT: "Int",
    SearchAttributeIndexedValueType.BOOL: "Bool",
    SearchAttributeIndexedValueType.DATETIME: "Datetime",
}


def cli_flags() -> list[str]:
    """`--search-attribute Name=Type` flags for `temporal server start-dev`."""
    names = {
        SearchAttributeIndexedValueType.KEYWORD: "Keyword",
        SearchAttributeIndexedValueType.INT: "Int",
        SearchAttributeIndexedValueType.BOOL: "Bool",
        SearchAttributeIndexedValueType.DATETIME: "Datetime",
    }
    flags = []
    for key in REGISTERED:
        flags += ["--search-attribute", f"{key.name}={names[key.indexed_value_type]}"]
    return flags


async def ensure_search_attributes(client: Client, namespace: str) -> list[str]:
    """Add whichever case search attributes the namespace does not know; returns those added."""
    present = await _known(client, namespace)
    missing = {
        key.name: IndexedValueType.ValueType(key.indexed_value_type.value)
        for key in REGISTERED
        if key.name not in present
    }
    if missing:
        await client.operator_service.add_search_attributes(
            AddSearchAttributesRequest(namespace=namespace, search_attributes=missing)
        )
    return sorted(missing)


async def _known(client: Client, namespace: str) -> set[str]:
    """The attributes the namespace knows; the time-skipping test server cannot list them."""
    try:
        known = await client.operator_service.list_search_attributes(
            ListSearchAttributesRequest(namespace=namespace)
        )
    except RPCError as err:
        if err.status != RPCStatusCode.UNIMPLEMENTED:
            raise
        return set()
    return set(known.custom_attributes) | set(known.system_attributes)
