"""The API's own metrics, served as Prometheus text at `GET /metrics`.

cse_api_requests_total{method, route, status}        answers, by route template and status
cse_api_request_duration_seconds{method, route}      how long each took (histogram)
cse_cases_not_running                                cases whose run ended without the pathway
                                                     closing them (gauge; NaN when visibility
                                                     cannot be read)

The route is the template (`/cases/{referral_id}`), never the path, so no referral id reaches
a label; a request no route matched is `unmatched`. `/metrics` asks for
`Authorization: Bearer <CSE_METRICS_TOKEN>`, and answers 404 while that setting is unset.
Written out by hand (the text format is small) rather than adding a dependency.

`cse_cases_not_running` is read from visibility when scraped (edge/caseload.py's
`needing_attention`, every team of the API's task queue), kept NOT_RUNNING_MAX_AGE seconds so
that scrapes of every replica cost one read each that often; every replica serves the same
figure, so alerts take its `max`.
"""

from __future__ import annotations

import asyncio
import hmac
import math
import time
from collections import defaultdict
from collections.abc import Awaitable, Callable

import structlog
from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import PlainTextResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.errors import ApiError, Unauthenticated
from edge.caseload import CaseFilter, needing_attention
from edge.settings import Settings

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
REQUESTS = "cse_api_requests_total"
DURATION = "cse_api_request_duration_seconds"
NOT_RUNNING = "cse_cases_not_running"
NOT_RUNNING_MAX_AGE = 30.0  # seconds a count is served before visibility is read again
NOT_RUNNING_TIMEOUT = 5.0  # seconds a scrape waits for that read before serving NaN

log = structlog.get_logger("cse.api")

Labels = tuple[tuple[str, str], ...]


class MetricsOff(ApiError):
    status_code = 404

    def __init__(self) -> None:
        super().__init__("metrics are off: set CSE_METRICS_TOKEN to serve /metrics")


class RequestMetrics:
    """Counts and times of the answers this process has given."""

    def __init__(self) -> None:
        self._answers: dict[Labels, int] = defaultdict(int)
        self._buckets: dict[Labels, list[int]] = {}
        self._sums: dict[Labels, float] = defaultdict(float)

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        self._answers[(("method", method), ("route", route), ("status", str(status)))] += 1
        timed = (("method", method), ("route", route))
        counts = self._buckets.setdefault(timed, [0] * (len(BUCKETS) + 1))
        for i, bound in enumerate((*BUCKETS, float("inf"))):
            if seconds <= bound:
                counts[i] += 1
        self._sums[timed] += seconds

    def exposition(self) -> str:
        lines = [
            f"# HELP {REQUESTS} HTTP answers of the API, by route template and status.",
            f"# TYPE {REQUESTS} counter",
        ]
        lines += [f"{REQUESTS}{_labels(k)} {n}" for k, n in sorted(self._answers.items())]
        lines += [
            f"# HELP {DURATION} Time to answer, by route template.",
            f"# TYPE {DURATION} histogram",
        ]
        for timed, counts in sorted(self._buckets.items()):
            bounds = [*(repr(b) for b in BUCKETS), "+Inf"]
            for bound, count in zip(bounds, counts, strict=True):
                lines.append(f"{DURATION}_bucket{_labels((*timed, ('le', bound)))} {count}")
            lines.append(f"{DURATION}_sum{_labels(timed)} {self._sums[timed]!r}")
            lines.append(f"{DURATION}_count{_labels(timed)} {counts[-1]}")
        return "\n".join(lines) + "\n"


class CasesNotRunning:
    """The count of cases out of sight, read by `count` at most every `max_age` seconds; NaN
    (with the last read's failure logged) while it cannot be read."""

    def __init__(
        self,
        count: Callable[[], Awaitable[int]],
        max_age: float = NOT_RUNNING_MAX_AGE,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.count = count
        self.max_age = max_age
        self.clock = clock
        self._read: tuple[float, float] | None = None  # (when, count)

    async def value(self) -> float:
        now = self.clock()
        if self._read is not None and now - self._read[0] < self.max_age:
            return self._read[1]
        try:
            counted = float(await asyncio.wait_for(self.count(), NOT_RUNNING_TIMEOUT))
        except Exception as err:  # a scrape must answer: NaN says "unknown"
            log.warning("cases not running: not counted", error=type(err).__name__)
            return math.nan
        self._read = (now, counted)
        return counted

    async def exposition(self) -> str:
        value = await self.value()
        return (
            f"# HELP {NOT_RUNNING} Cases whose run ended without the pathway closing them "
            "(terminated, timed out, failed): no clock fires until an operator resets them.\n"
            f"# TYPE {NOT_RUNNING} gauge\n"
            f"{NOT_RUNNING} {'NaN' if math.isnan(value) else int(value)}\n"
        )


def counting_cases_not_running(app: FastAPI) -> Callable[[], Awaitable[int]]:
    """How many cases of the API's task queue are out of sight, through its Temporal client."""

    async def count() -> int:
        settings: Settings = app.state.settings
        return len(await needing_attention(app.state.client, settings.task_queue, CaseFilter()))

    return count


def _labels(pairs: Labels) -> str:
    def escaped(value: str) -> str:
        return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")

    return "{" + ",".join(f'{k}="{escaped(v)}"' for k, v in pairs) + "}"


class MeasureRequests:
    """ASGI layer timing every HTTP answer; the route template is read once routing is done."""

    def __init__(self, app: ASGIApp, metrics: RequestMetrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500  # unless an answer starts: an exception escaping the app is a 500

        async def send_noting_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, send_noting_status)
        finally:
            route = str(getattr(scope.get("route"), "path", "unmatched"))
            elapsed = time.perf_counter() - started
            self.metrics.observe(str(scope["method"]), route, status, elapsed)


router = APIRouter(include_in_schema=False)


@router.get("/metrics")
async def metrics(request: Request) -> PlainTextResponse:
    """Prometheus text for a scraper holding CSE_METRICS_TOKEN; no case, child or user."""
    settings: Settings = request.app.state.settings
    if settings.metrics_token is None:
        raise MetricsOff()
    expected = f"Bearer {settings.metrics_token.get_secret_value()}".encode()
    given = request.headers.get("authorization", "").encode()
    if not hmac.compare_digest(given, expected):
        raise Unauthenticated("/metrics needs `Authorization: Bearer <CSE_METRICS_TOKEN>`")
    recorded: RequestMetrics = request.app.state.request_metrics
    not_running: CasesNotRunning = request.app.state.cases_not_running
    text = recorded.exposition() + await not_running.exposition()
    return PlainTextResponse(text, media_type=CONTENT_TYPE)


def install(app: FastAPI) -> None:
    """Measure every answer (outermost but for the error pages) and serve /metrics."""
    app.state.request_metrics = RequestMetrics()
    app.state.cases_not_running = CasesNotRunning(counting_cases_not_running(app))
    app.include_router(router)
    app.add_middleware(MeasureRequests, metrics=app.state.request_metrics)
