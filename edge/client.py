"""The one Temporal client factory: every client in the project is built here, with the
project's pydantic data converter, sealed with CSE_CODEC_KEYS (edge/codec.py).

Every client's runtime forwards the SDK core's own logs to Python logging (the
`temporalio.core` logger), so a service's log is JSON lines only (edge/logs.py).
"""

import functools
import logging
import re

import structlog
from temporalio.client import Client
from temporalio.converter import DataConverter
from temporalio.runtime import (
    LogForwardingConfig,
    LoggingConfig,
    PrometheusConfig,
    Runtime,
    TelemetryConfig,
    TelemetryFilter,
)

from edge.converter import data_converter, sealed_data_converter
from edge.logs import CORE_LOGGER, NameRuns
from edge.settings import Settings

_LAST_MESSAGE = re.compile(r'(?:message|error): "([^"]*)"')


def converter_for(settings: Settings) -> DataConverter:
    """Sealed unless CSE_PLAINTEXT_PAYLOADS=true; raises CodecKeyError when neither is set."""
    keys = settings.sealing_keys()
    return data_converter if keys is None else sealed_data_converter(keys)


async def connect(
    settings: Settings, runtime: Runtime | None = None, *, lazy: bool = False
) -> Client:
    """A client; with `runtime`, its workers report through that runtime's telemetry. Lazy,
    it reaches Temporal at its first call, and again at each call until one succeeds.
    Raises RuntimeError when Temporal does not answer (`unreachable_reason` says why)."""
    return await Client.connect(
        settings.temporal_address,
        namespace=settings.temporal_namespace,
        data_converter=converter_for(settings),
        runtime=runtime or logging_runtime(),
        interceptors=[NameRuns()],
        lazy=lazy,
    )


def is_unreachable(err: BaseException) -> bool:
    """The SDK's error for a connection that could not be made."""
    return isinstance(err, RuntimeError) and str(err).startswith("Failed client connect")


def unreachable_reason(err: BaseException) -> str:
    """The SDK's connection error in a few words ("Connection refused"), not its Rust dump."""
    text = str(err).removeprefix("Failed client connect: ")
    found = _LAST_MESSAGE.findall(text)
    reason = found[-1] if found else text
    return reason if len(reason) <= 160 else f"{reason[:157]}..."


def core_logging() -> LoggingConfig:
    """The SDK core's warnings and errors, forwarded to the `temporalio.core` logger as
    records with the core's fields (rendered by edge/logs.py), never printed by the core."""
    forwarding = LogForwardingConfig(
        logger=logging.getLogger(CORE_LOGGER),
        append_target_to_name=False,
        prepend_target_on_message=False,
        append_log_fields_to_message=False,
    )
    return LoggingConfig(
        filter=TelemetryFilter(core_level="WARN", other_level="ERROR"), forwarding=forwarding
    )


@functools.cache
def logging_runtime() -> Runtime:
    """The runtime of every client without metrics: one per process."""
    return Runtime(telemetry=TelemetryConfig(logging=core_logging()))


class MetricsError(Exception):
    """The metrics endpoint cannot be served (its address is malformed or taken)."""


def metrics_address(settings: Settings) -> str | None:
    """Where the worker serves Prometheus text (`/metrics`), or None when it does not."""
    if settings.metrics_port is None:
        return None
    return f"{settings.metrics_host}:{settings.metrics_port}"


def worker_runtime(settings: Settings) -> Runtime:
    """The worker's runtime: the core's logs forwarded, and Prometheus text served on
    CSE_METRICS_HOST:CSE_METRICS_PORT (the SDK's metrics and the service's own `cse_...`
    counters) when CSE_METRICS_PORT is set. Counters end in `_total` and durations are in
    seconds, as Prometheus names them. One per process: it binds the port, and raises
    MetricsError if it cannot."""
    address = metrics_address(settings)
    if address is None:
        return logging_runtime()
    prometheus = PrometheusConfig(
        bind_address=address,
        counters_total_suffix=True,
        unit_suffix=True,
        durations_as_seconds=True,
    )
    try:
        return Runtime(telemetry=TelemetryConfig(logging=core_logging(), metrics=prometheus))
    except ValueError as err:  # the SDK's words: "Address already in use", "invalid ... syntax"
        raise MetricsError(f"CSE_METRICS_HOST/CSE_METRICS_PORT {address}: {err}") from None


def warn_if_plaintext(settings: Settings) -> None:
    """Said in every service's start-up log when payloads travel unsealed."""
    if settings.plaintext_payloads:
        structlog.get_logger("cse.client").warning(
            "payloads in PLAINTEXT: CSE_PLAINTEXT_PAYLOADS=true, so children's data is stored "
            "unencrypted in Temporal; outside local tests set CSE_CODEC_KEYS instead"
        )
