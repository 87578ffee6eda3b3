"""The codec server: Temporal's remote codec protocol, so authorised staff can read sealed
cases in Temporal's own tools (`temporal ... --codec-endpoint`, the Web UI).

`POST <endpoint>/encode` and `POST <endpoint>/decode` take and answer a Payloads message in
protobuf JSON, `{"payloads": [{"metadata": {"encoding": "<base64>"}, "data": "<base64>"}]}`,
sealing or opening each payload with the service's keys (edge/codec.py). The endpoint is
served twice: /codec for the CLI (bearer token) and /dashboard/codec for the Web UI, where the
browser's dashboard session cookie reaches it. Who may call it: api/codec_access.py. CORS lets
in the Web UI's origin alone (CSE_CODEC_CORS_ORIGIN), on these paths alone.

With CSE_PLAINTEXT_PAYLOADS=true nothing is sealed, and both routes answer 404 saying so.
Every decode is logged with who asked and how many payloads (never their content).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, FastAPI, Request
from google.protobuf import json_format
from pydantic import BaseModel, ConfigDict, Field
from temporalio.api.common.v1 import Payload, Payloads

from api.codec_access import CodecUser
from api.deps import log
from api.errors import EncryptionOff, ErrorBody, FieldProblem, InvalidInput, documented
from api.middleware import ScopedCors
from api.same_origin import origin_of
from edge.codec import CodecKeys, PayloadSealError, SealingCodec
from edge.settings import Settings

PREFIXES = ("/codec", "/dashboard/codec")


class CodecPayload(BaseModel):
    """One Temporal Payload in protobuf JSON: metadata values and data are base64."""

    model_config = ConfigDict(extra="allow")  # protobuf JSON fields this model does not name
    metadata: dict[str, str] = Field(default_factory=dict)
    data: str = ""


class CodecPayloads(BaseModel):
    """A Temporal Payloads message in protobuf JSON."""

    payloads: list[CodecPayload] = Field(default_factory=list)


_RESPONSES: dict[int | str, dict[str, Any]] = {
    **documented(400, 401, 403, 422),
    404: {"model": ErrorBody, "description": "Payload encryption is off: nothing to decode"},
}


async def encode(body: CodecPayloads, user: CodecUser, request: Request) -> CodecPayloads:
    """Each payload sealed with the service's current key, as the service's clients seal."""
    codec = codec_of(request)
    return answer([codec.seal(payload) for payload in payloads_of(body)])


async def decode(body: CodecPayloads, user: CodecUser, request: Request) -> CodecPayloads:
    """Each sealed payload opened; one that is not sealed is answered as it came."""
    opened = [opened_payload(codec_of(request), i, p) for i, p in enumerate(payloads_of(body))]
    log.info("payloads decoded", user=user.user_id, role=user.role.value, count=len(opened))
    return answer(opened)


def codec_of(request: Request) -> SealingCodec:
    codec: SealingCodec | None = request.app.state.codec
    if codec is None:
        raise EncryptionOff()
    return codec


def payloads_of(body: CodecPayloads) -> list[Payload]:
    """The body as protobuf Payloads; a value that is not base64 names no content."""
    try:
        parsed = json_format.ParseDict(body.model_dump(), Payloads(), ignore_unknown_fields=True)
    except (json_format.ParseError, ValueError):
        problem = FieldProblem(
            field="body.payloads",
            message="not a Payloads message in protobuf JSON (metadata values and data base64)",
        )
        raise InvalidInput([problem]) from None
    return list(parsed.payloads)


def opened_payload(codec: SealingCodec, index: int, payload: Payload) -> Payload:
    try:
        return codec.open(payload)
    except PayloadSealError as err:  # names the key id, never the content
        log.warning("payload not opened", index=index, reason=str(err))
        problem = FieldProblem(field=f"body.payloads.{index}", message=str(err))
        raise InvalidInput([problem]) from None


def answer(payloads: list[Payload]) -> CodecPayloads:
    as_json = json_format.MessageToDict(Payloads(payloads=payloads))
    return CodecPayloads.model_validate(as_json)


def router_at(prefix: str, in_schema: bool) -> APIRouter:
    """The two routes under `prefix` (a router each, so logs name the path that was called)."""
    router = APIRouter(prefix=prefix, tags=["codec"], include_in_schema=in_schema)
    for path, handler, summary in (
        ("/encode", encode, "Seal payloads (Temporal's remote codec protocol)"),
        ("/decode", decode, "Open sealed payloads (Temporal's remote codec protocol)"),
    ):
        router.add_api_route(
            path,
            handler,
            methods=["POST"],
            response_model=CodecPayloads,
            responses=_RESPONSES,
            summary=summary,
        )
    return router


def install(app: FastAPI, settings: Settings, keys: CodecKeys | None) -> None:
    """Serve the codec at both prefixes, with CORS for the Web UI's origin on them alone."""
    app.state.codec = SealingCodec(keys) if keys is not None else None
    app.include_router(router_at(PREFIXES[0], in_schema=True))
    app.include_router(router_at(PREFIXES[1], in_schema=False))
    web_ui = origin_of(settings.codec_cors_origin) or settings.codec_cors_origin
    app.add_middleware(
        ScopedCors,
        prefixes=tuple(f"{prefix}/" for prefix in PREFIXES),
        cors={
            "allow_origins": [web_ui],
            "allow_methods": ["POST", "OPTIONS"],
            "allow_headers": ["content-type", "authorization", "x-namespace"],
            "allow_credentials": True,  # the Web UI's "include cross-origin credentials"
            "max_age": 600,
        },
    )
