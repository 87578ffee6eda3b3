"""The one Temporal client factory: every client in the project is built here, with the
project's pydantic data converter, sealed with CSE_CODEC_KEYS (edge/codec.py)."""

import structlog
from temporalio.client import Client
from temporalio.converter import DataConverter
from temporalio.runtime import PrometheusConfig, Runtime, TelemetryConfig

from edge.converter import data_converter, sealed_data_converter
from edge.settings import Settings


def converter_for(settings: Settings) -> DataConverter:
    """Sealed unless CSE_PLAINTEXT_PAYLOADS=true; raises CodecKeyError when neither is set."""
    keys = settings.sealing_keys()
    return data_converter if keys is None else sealed_data_converter(keys)


async def connect(settings: Settings, runtime: Runtime | None = None) -> Client:
    """A client; with `runtime`, its workers report through that runtime's telemetry."""
    return await Client.connect(
        settings.temporal_address,
        namespace=settings.temporal_namespace,
        data_converter=converter_for(settings),
        runtime=runtime,
    )


class MetricsError(Exception):
    """The metrics endpoint cannot be served (its address is malformed or taken)."""


def metrics_address(settings: Settings) -> str | None:
    """Where the worker serves Prometheus text (`/metrics`), or None when it does not."""
    if settings.metrics_port is None:
        return None
    return f"{settings.metrics_host}:{settings.metrics_port}"


def metrics_runtime(settings: Settings) -> Runtime | None:
    """The worker's runtime serving Prometheus text on CSE_METRICS_HOST:CSE_METRICS_PORT (the
    SDK's metrics and the service's own `cse_...` counters); None when CSE_METRICS_PORT is
    unset. Counters end in `_total` and durations are in seconds, as Prometheus names them.
    One per process: it binds the port, and raises MetricsError if it cannot."""
    address = metrics_address(settings)
    if address is None:
        return None
    prometheus = PrometheusConfig(
        bind_address=address,
        counters_total_suffix=True,
        unit_suffix=True,
        durations_as_seconds=True,
    )
    try:
        return Runtime(telemetry=TelemetryConfig(metrics=prometheus))
    except ValueError as err:  # the SDK's words: "Address already in use", "invalid ... syntax"
        raise MetricsError(f"CSE_METRICS_HOST/CSE_METRICS_PORT {address}: {err}") from None


def warn_if_plaintext(settings: Settings) -> None:
    """Said in every service's start-up log when payloads travel unsealed."""
    if settings.plaintext_payloads:
        structlog.get_logger("cse.client").warning(
            "payloads in PLAINTEXT: CSE_PLAINTEXT_PAYLOADS=true, so children's data is stored "
            "unencrypted in Temporal; outside local tests set CSE_CODEC_KEYS instead"
        )
