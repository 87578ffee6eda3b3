"""The project's data converter: pydantic JSON, with bad input refused by field name.

`pydantic_data_converter` turns a payload that fails validation into a bare "Failed decoding
arguments". Here a ValidationError becomes an ApplicationError listing each bad field, which
Temporal reports to the caller: an update with `score: 4` is refused with
"score: Input should be less than or equal to 3", and the case is untouched.
"""

from typing import Any

from pydantic import ValidationError
from temporalio.api.common.v1 import Payload
from temporalio.contrib.pydantic import PydanticJSONPlainPayloadConverter
from temporalio.converter import (
    CompositePayloadConverter,
    DataConverter,
    DefaultPayloadConverter,
    JSONPlainPayloadConverter,
)
from temporalio.exceptions import ApplicationError

from domain.errors import field_errors


class FieldNamingJSONConverter(PydanticJSONPlainPayloadConverter):
    def from_payload(self, payload: Payload, type_hint: type | None = None) -> Any:
        try:
            return super().from_payload(payload, type_hint)
        except ValidationError as err:
            problems = field_errors(err)
            raise ApplicationError(
                f"invalid input: {'; '.join(problems)}",
                *problems,
                type="InvalidInput",
                non_retryable=True,
            ) from None


class CasePayloadConverter(CompositePayloadConverter):
    def __init__(self) -> None:
        super().__init__(
            *(
                FieldNamingJSONConverter() if isinstance(c, JSONPlainPayloadConverter) else c
                for c in DefaultPayloadConverter.default_encoding_payload_converters
            )
        )


data_converter = DataConverter(payload_converter_class=CasePayloadConverter)
