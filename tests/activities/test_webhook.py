"""The webhook channel against a real HTTP receiver (stdlib http.server on 127.0.0.1, in a
thread), run as the notify activity in Temporal's ActivityEnvironment."""

from __future__ import annotations

import hashlib
import hmac
import json
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from activities.delivery import DeliveryUnavailable
from activities.notify import Notifier
from activities.webhook import WebhookChannel
from domain.directory import Directory, DirectoryError
from domain.notifications import Notification, NotificationKind
from domain.policy import StepName
from domain.roles import Role
from edge.settings import Settings
from tests.domain.builders import clock_step_notice
from worker import build_channels

SECRET = "a-webhook-secret-for-tests-only"
PUBLIC_URL = "https://cse.example.org"


@dataclass
class Hit:
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    """Records every POST; answers each path from a queue of statuses (200 once it runs out)."""

    port: int = 0
    hits: list[Hit] = field(default_factory=list)
    answers: dict[str, list[int]] = field(default_factory=dict)
    delay: float = 0.0

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def paths(self) -> list[str]:
        return [h.path for h in self.hits]


def handler_for(receiver: Receiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # http.server's hook name
            body = self.rfile.read(int(self.headers["Content-Length"]))
            time.sleep(receiver.delay)
            receiver.hits.append(Hit(self.path, dict(self.headers.items()), body))
            queue = receiver.answers.get(self.path, [])
            self.send_response(queue.pop(0) if queue else 200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:  # quiet
            pass

    return Handler


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    found = Receiver()
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler_for(found))
    server.daemon_threads = True
    found.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield found
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


def directory_for(receiver: Receiver) -> Directory:
    return Directory.model_validate(
        {
            "roles": {
                "social_worker": ["cse-duty@example.org"],
                "team_manager": ["managers@example.org", receiver.url("/managers")],
                "head_of_service": [receiver.url("/hos"), receiver.url("/hos-deputy")],
                "strategic_lead": ["ad@example.org"],
            },
            "teams": {"RAI-2": {"team_manager": [receiver.url("/rai2"), "rai2@example.org"]}},
            "people": {"sw-7": receiver.url("/sw7")},
        }
    )


def notice(
    step: StepName = StepName.breach, team: str = "RAI-2", roles: list[Role] | None = None
) -> Notification:
    return clock_step_notice(step, roles=roles, team=team)


async def notify(channel: WebhookChannel, notification: Notification) -> None:
    await ActivityEnvironment().run(Notifier([channel], PUBLIC_URL).notify, notification)


async def test_a_notification_is_posted_signed_to_each_webhook_of_its_roles(
    receiver: Receiver,
) -> None:
    await notify(WebhookChannel(directory_for(receiver), SECRET), notice())

    assert sorted(receiver.paths()) == ["/rai2", "/sw7"]  # team override; no email address
    for hit in receiver.hits:
        expected = hmac.new(SECRET.encode(), hit.body, hashlib.sha256).hexdigest()
        assert hit.headers["X-CSE-Signature"] == f"sha256={expected}"
        assert hit.headers["Idempotency-Key"] == "R-1:strategy_discussion-2:breach"
        assert hit.headers["Content-Type"] == "application/json"
    bodies = {h.path: json.loads(h.body) for h in receiver.hits}
    assert bodies["/rai2"] == {
        "notification_id": "R-1:strategy_discussion-2:breach",
        "kind": "clock_step",
        "referral_id": "R-1",
        "team": "RAI-2",
        "roles": ["team_manager"],
        "clock": "strategy_discussion",
        "step": "breach",
        "due_at": "2026-09-03T23:59:59+01:00",
        "subject": notice().subject,
        "link": "https://cse.example.org/cases/R-1",
    }
    assert bodies["/sw7"]["roles"] == ["social_worker"]


async def test_a_tampered_body_does_not_verify(receiver: Receiver) -> None:
    await notify(WebhookChannel(directory_for(receiver), SECRET), notice())
    hit = receiver.hits[0]
    tampered = hit.body.replace(b"R-1", b"R-2")
    digest = hmac.new(SECRET.encode(), tampered, hashlib.sha256).hexdigest()
    assert hit.headers["X-CSE-Signature"] != f"sha256={digest}"


@pytest.mark.parametrize("status", [500, 502, 503, 408, 429])
async def test_a_busy_or_failing_endpoint_is_retried_with_the_same_request(
    receiver: Receiver, status: int
) -> None:
    receiver.answers["/rai2"] = [status]
    channel = WebhookChannel(directory_for(receiver), SECRET)

    with pytest.raises(DeliveryUnavailable, match=f"HTTP {status}"):
        await notify(channel, notice())
    await notify(channel, notice())
    await notify(channel, notice())  # every endpoint has it now: nothing more is posted

    assert sorted(receiver.paths()) == ["/rai2", "/rai2", "/sw7"]
    first, second = (h for h in receiver.hits if h.path == "/rai2")
    assert first.body == second.body
    assert first.headers["X-CSE-Signature"] == second.headers["X-CSE-Signature"]
    assert first.headers["Idempotency-Key"] == second.headers["Idempotency-Key"]


@pytest.mark.parametrize("status", [400, 401, 403, 404, 410, 301])
async def test_a_refusing_endpoint_is_a_permanent_failure_naming_role_and_address(
    receiver: Receiver, status: int
) -> None:
    receiver.answers["/rai2"] = [status]
    with pytest.raises(ApplicationError) as failed:
        await notify(WebhookChannel(directory_for(receiver), SECRET), notice())
    error = failed.value
    assert error.type == "PermanentDeliveryError"
    assert error.non_retryable
    assert error.details == (
        {
            "channel": "webhook",
            "refused": [
                {
                    "roles": ["team_manager"],
                    "address": receiver.url("/rai2"),
                    "reason": f"HTTP {status}",
                }
            ],
        },
    )


async def test_one_failing_endpoint_does_not_hold_back_the_others(receiver: Receiver) -> None:
    receiver.answers["/hos"] = [503]
    channel = WebhookChannel(directory_for(receiver), SECRET)
    escalation = notice(StepName.escalation, roles=[Role.head_of_service])
    with pytest.raises(DeliveryUnavailable):
        await notify(channel, escalation)
    await notify(channel, escalation)
    assert receiver.paths() == ["/hos", "/hos-deputy", "/hos"]


async def test_an_endpoint_that_is_down_or_too_slow_is_retried(receiver: Receiver) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed_port = sock.getsockname()[1]
    down = Directory.model_validate({"roles": {"mash": [f"http://127.0.0.1:{closed_port}/hook"]}})
    with pytest.raises(DeliveryUnavailable, match="ConnectError"):
        await notify(WebhookChannel(down, SECRET), notice(roles=[Role.mash]))

    receiver.delay = 1.0
    impatient = httpx.AsyncClient(timeout=httpx.Timeout(0.2))
    slow = WebhookChannel(directory_for(receiver), SECRET, client=impatient)
    with pytest.raises(DeliveryUnavailable, match="ReadTimeout"):
        await notify(slow, notice(roles=[Role.head_of_service]))
    await impatient.aclose()


async def test_a_role_missing_from_the_directory_is_permanent(receiver: Receiver) -> None:
    with pytest.raises(ApplicationError) as failed:
        await notify(WebhookChannel(directory_for(receiver), SECRET), notice(roles=[Role.mash]))
    assert failed.value.details[0]["refused"][0] == {
        "roles": ["mash"],
        "address": None,
        "reason": "no address in the directory",
    }
    assert receiver.hits == []


def test_the_worker_needs_a_real_secret_for_a_directory_with_webhooks(
    receiver: Receiver, tmp_path: Path
) -> None:
    directory = directory_for(receiver)
    unsigned = Settings(outbox_file=tmp_path / "o.jsonl", directory_file=tmp_path / "d.toml")
    with pytest.raises(DirectoryError, match="CSE_WEBHOOK_SECRET is unset"):
        build_channels(unsigned, directory)
    signed = unsigned.model_copy(
        update={"webhook_secret": Settings(webhook_secret=SECRET).webhook_secret}
    )
    assert [type(c).__name__ for c in build_channels(signed, directory)] == [
        "OutboxFile",
        "WebhookChannel",
    ]
    for placeholder in ("changethis", "CHANGEME", "secret", ""):
        with pytest.raises(ValueError, match="CSE_WEBHOOK_SECRET is a placeholder"):
            Settings(webhook_secret=placeholder)
    with pytest.raises(ValueError, match="at least 16 characters"):
        Settings(webhook_secret="short-secret")


async def test_a_notice_to_another_authority_is_posted_to_its_contact_naming_it(
    receiver: Receiver,
) -> None:
    directory = directory_for(receiver).model_copy(
        update={
            "authorities": Directory.model_validate(
                {
                    "authorities": {
                        "E99000001": {
                            "name": "Example Borough One",
                            "contact": receiver.url("/la1"),
                        }
                    }
                }
            ).authorities
        }
    )
    told = notice().model_copy(
        update={
            "notification_id": "R-1:authority_informed-5-mase",
            "kind": NotificationKind.authority_informed,
            "roles": [],
            "authorities": ["E99000001"],
            "clock": None,
            "step": None,
            "due_at": None,
            "subject": "Case R-1: referred to MASE",
        }
    )
    await notify(WebhookChannel(directory, SECRET), told)
    (hit,) = receiver.hits
    assert hit.path == "/la1"
    body = json.loads(hit.body)
    assert (body["authority"], body["roles"], body["subject"]) == (
        "E99000001",
        [],
        "Case R-1: referred to MASE",
    )
