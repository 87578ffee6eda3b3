"""OpenAPI links: a case started by `POST /referrals` is the case every `/cases/{referral_id}`
operation takes, named by the answer's `referral_id`. Clients (and generated tests) read them to
chain calls; without them a tool can only guess which field of which answer names a case.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

CASE_PATH = "/cases/{referral_id}"


def case_links(schema: dict[str, Any]) -> dict[str, Any]:
    """One link to each operation on a case, from the referral's answer."""
    links = {}
    for path, operations in schema.get("paths", {}).items():
        if not path.startswith(CASE_PATH):
            continue
        for operation in operations.values():
            if isinstance(operation, dict) and "operationId" in operation:
                links[operation["operationId"]] = {
                    "operationId": operation["operationId"],
                    "parameters": {"referral_id": "$response.body#/referral_id"},
                }
    return links


def install(app: FastAPI) -> None:
    """The app's OpenAPI document, with the links from a started case to its operations."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(
                title=app.title,
                version=app.version,
                description=app.description,
                routes=app.routes,
            )
            started = schema["paths"]["/referrals"]["post"]["responses"].get("201")
            if started is not None:
                started["links"] = case_links(schema)
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
