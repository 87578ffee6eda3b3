"""The one Temporal client factory: every client in the project is built here, with the
project's pydantic data converter."""

from temporalio.client import Client

from edge.converter import data_converter
from edge.settings import Settings


async def connect(settings: Settings) -> Client:
    return await Client.connect(
        settings.temporal_address,
        namespace=settings.temporal_namespace,
        data_converter=data_converter,
    )
