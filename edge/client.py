"""The one Temporal client factory: every client in the project is built here, with the
project's pydantic data converter, sealed with CSE_CODEC_KEYS (edge/codec.py)."""

import structlog
from temporalio.client import Client
from temporalio.converter import DataConverter

from edge.converter import data_converter, sealed_data_converter
from edge.settings import Settings


def converter_for(settings: Settings) -> DataConverter:
    """Sealed unless CSE_PLAINTEXT_PAYLOADS=true; raises CodecKeyError when neither is set."""
    keys = settings.sealing_keys()
    return data_converter if keys is None else sealed_data_converter(keys)


async def connect(settings: Settings) -> Client:
    return await Client.connect(
        settings.temporal_address,
        namespace=settings.temporal_namespace,
        data_converter=converter_for(settings),
    )


def warn_if_plaintext(settings: Settings) -> None:
    """Said in every service's start-up log when payloads travel unsealed."""
    if settings.plaintext_payloads:
        structlog.get_logger("cse.client").warning(
            "payloads in PLAINTEXT: CSE_PLAINTEXT_PAYLOADS=true, so children's data is stored "
            "unencrypted in Temporal; outside local tests set CSE_CODEC_KEYS instead"
        )
