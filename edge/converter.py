"""The project's data converter: pydantic JSON, with bad input refused by field name, and
sealed (AES-256-GCM, edge/codec.py) on every client that holds CSE_CODEC_KEYS.

`pydantic_data_converter` turns a payload that fails validation into a bare "Failed decoding
arguments". Here a ValidationError becomes an ApplicationError listing each bad field, which
Temporal reports to the caller: an update with `score: 4` is refused with
"score: Input should be less than or equal to 3", and the case is untouched.
"""

import dataclasses
from typing import Any

from pydantic import ValidationError
from temporalio.api.common.v1 import Payload
from temporalio.contrib.pydantic import PydanticJSONPlainPayloadConverter
from temporalio.converter import (
    CompositePayloadConverter,
    DataConverter,
    DefaultFailureConverterWithEncodedAttributes,
    DefaultPayloadConverter,
    JSONPlainPayloadConverter,
)

from contract.refusals import invalid_input
from domain.errors import field_errors
from edge.codec import CodecKeys, SealingCodec


class FieldNamingJSONConverter(PydanticJSONPlainPayloadConverter):
    def from_payload(self, payload: Payload, type_hint: type | None = None) -> Any:
        try:
            return super().from_payload(payload, type_hint)
        except ValidationError as err:
            raise invalid_input(field_errors(err)) from None


class CasePayloadConverter(CompositePayloadConverter):
    def __init__(self) -> None:
        super().__init__(
            *(
                FieldNamingJSONConverter() if isinstance(c, JSONPlainPayloadConverter) else c
                for c in DefaultPayloadConverter.default_encoding_payload_converters
            )
        )


data_converter = DataConverter(payload_converter_class=CasePayloadConverter)
"""Plain JSON: for replaying committed histories and for CSE_PLAINTEXT_PAYLOADS=true."""


def sealed_data_converter(keys: CodecKeys) -> DataConverter:
    """The project's converter with every payload sealed (edge/codec.py), failures' messages
    and stack traces included: the engine's store then holds no child data in plaintext."""
    return dataclasses.replace(
        data_converter,
        payload_codec=SealingCodec(keys),
        failure_converter_class=DefaultFailureConverterWithEncodedAttributes,
    )
