"""A stand-in for GOV.UK Notify's REST API, on 127.0.0.1 in a thread, for the tests.

It follows Notify's published contract for the calls the service makes:
- `POST /v2/notifications/email` and `POST /v2/notifications/sms`, `201` with the
  notification (`id`, `reference`, `content`, `uri`, `template`);
- `GET /v2/notifications?reference=...&template_type=...`, `200` with `notifications` (each
  with `id`, `reference`, `email_address` or `phone_number`, `type`, `status`, `template`,
  `created_at`) and `links`, newest first: what it has accepted with that reference;
- the `Authorization: Bearer <JWT>` header: HS256, `iss` the service id, `iat` within 30 s
  of now, signed with the secret part of the API key (`<name>-<service id>-<secret>`);
- errors as `{"status_code": ..., "errors": [{"error": ..., "message": ...}]}`: 401 and 403
  `AuthError`, 400 `BadRequestError`/`ValidationError`, 429 `RateLimitError`, 500 `Exception`.

Templates are registered with their placeholders; a request missing one is refused with 400
as Notify refuses it. `answers[address]` queues statuses to answer for one recipient (each
with Notify's documented error for that status) before it accepts again.
"""

from __future__ import annotations

import json
import re
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl

import jwt
from jwt.types import Options

# What Notify answers, by status (its API documentation's error tables).
DOCUMENTED = {
    400: ("BadRequestError", "Can't send to this recipient using a team-only API key"),
    403: ("AuthError", "Invalid token: API key not found"),
    429: (
        "RateLimitError",
        "Exceeded rate limit for key type LIVE of 3000 requests per 60 seconds",
    ),
    500: ("Exception", "Internal server error"),
    503: ("Exception", "Service unavailable"),
}
_RECIPIENT = {"email": "email_address", "sms": "phone_number"}
_OPTIONAL = {"personalisation", "reference", "email_reply_to_id", "sms_sender_id"}
_PLACEHOLDER = re.compile(r"\(\(([^()]+)\)\)")


@dataclass(frozen=True)
class Template:
    type: str  # "email" or "sms"
    body: str
    subject: str = ""

    def placeholders(self) -> set[str]:
        return set(_PLACEHOLDER.findall(self.subject + self.body))

    def render(self, text: str, values: dict[str, Any]) -> str:
        return _PLACEHOLDER.sub(lambda m: str(values[m.group(1)]), text)


@dataclass
class Received:
    """One request as it arrived, and what was answered."""

    path: str
    headers: dict[str, str]
    body: dict[str, Any]
    status: int = 0
    claims: dict[str, Any] = field(default_factory=dict)

    @property
    def recipient(self) -> str:
        return str(self.body.get("email_address") or self.body.get("phone_number"))


@dataclass
class NotifyStandIn:
    templates: dict[str, Template] = field(default_factory=dict)
    service_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    secret: str = field(default_factory=lambda: str(uuid.uuid4()))
    url: str = ""
    received: list[Received] = field(default_factory=list)
    answers: dict[str, list[int]] = field(default_factory=dict)
    delay: float = 0.0
    notifications: list[dict[str, Any]] = field(default_factory=list)
    """What Notify has accepted, as `GET /v2/notifications` lists it."""
    lookups: list[str] = field(default_factory=list)
    """The query string of each `GET /v2/notifications`, in order."""
    lookup_answers: list[int] = field(default_factory=list)
    """Statuses to answer the next lookups with (Notify's documented errors) before listing."""

    def api_key(self, name: str = "cse-tests") -> str:
        return f"{name}-{self.service_id}-{self.secret}"

    def accepted(self) -> list[Received]:
        return [r for r in self.received if r.status == 201]

    # -- the contract ------------------------------------------------------------------------
    def look_up(self, path: str, headers: dict[str, str]) -> tuple[int, dict[str, Any]]:
        route, _, query = path.partition("?")
        self.lookups.append(query)
        if route != "/v2/notifications":
            return error(404, "ResourceNotFound", "No result found")
        refused = self._authenticate(headers.get("Authorization", ""), Received(path, headers, {}))
        if refused:
            return refused
        if self.lookup_answers:
            status = self.lookup_answers.pop(0)
            return error(status, *DOCUMENTED[status])
        asked = dict(parse_qsl(query))
        listed = [
            n
            for n in reversed(self.notifications)
            if n["reference"] == asked.get("reference", n["reference"])
            and n["type"] == asked.get("template_type", n["type"])
        ]
        current = f"{self.url}/v2/notifications?{query}"
        return 200, {"notifications": listed, "links": {"current": current}}

    def answer(self, path: str, headers: dict[str, str], raw: bytes) -> tuple[int, dict[str, Any]]:
        time.sleep(self.delay)
        try:
            body = json.loads(raw or b"{}")
        except ValueError:
            return error(400, "ValidationError", "Invalid JSON supplied in POST data")
        seen = Received(path, headers, body if isinstance(body, dict) else {})
        self.received.append(seen)
        status, answer = self._answer(path, headers, seen)
        seen.status = status
        return status, answer

    def _answer(self, path: str, headers: dict[str, str], seen: Received) -> tuple[int, Any]:
        kind = path.removeprefix("/v2/notifications/")
        if not path.startswith("/v2/notifications/") or kind not in _RECIPIENT:
            return error(404, "ResourceNotFound", "No result found")
        refused = self._authenticate(headers.get("Authorization", ""), seen)
        if refused:
            return refused
        queued = self.answers.get(seen.recipient, [])
        if queued:
            status = queued.pop(0)
            return error(status, *DOCUMENTED[status])
        return self._send(kind, seen.body)

    def _authenticate(self, header: str, seen: Received) -> tuple[int, Any] | None:
        if not header:
            return error(401, "AuthError", "Unauthorized: authentication token must be provided")
        scheme, _, token = header.partition(" ")
        if scheme != "Bearer" or not token:
            return error(
                401, "AuthError", "Unauthorized: authentication bearer scheme must be used"
            )
        try:
            if jwt.get_unverified_header(token).get("alg") != "HS256":
                return error(403, "AuthError", "Invalid token: algorithm used is not HS256")
            unverified = jwt.decode(token, options={"verify_signature": False})
            if unverified.get("iss") != self.service_id:
                return error(403, "AuthError", "Invalid token: service not found")
            checks: Options = {"require": ["iss", "iat"], "verify_iat": False}  # iat: Notify's 30 s
            claims = jwt.decode(token, self.secret, algorithms=["HS256"], options=checks)
        except jwt.PyJWTError:
            return error(403, "AuthError", "Invalid token: API key not found")
        if abs(time.time() - int(claims["iat"])) > 30:
            return error(
                403, "AuthError", "Error: Your system clock must be accurate to within 30 seconds"
            )
        seen.claims = claims
        return None

    def _send(self, kind: str, body: dict[str, Any]) -> tuple[int, Any]:
        recipient = _RECIPIENT[kind]
        unexpected = sorted(set(body) - {recipient, "template_id"} - _OPTIONAL)
        if unexpected:
            message = f"Additional properties are not allowed ({unexpected[0]} was unexpected)"
            return error(400, "ValidationError", message)
        for name in (recipient, "template_id"):
            if not body.get(name):
                return error(400, "ValidationError", f"{name} is a required property")
        template = self.templates.get(str(body["template_id"]))
        if template is None:
            return error(400, "BadRequestError", "Template not found")
        if template.type != kind:
            message = f"{template.type} template is not suitable for {kind} notification"
            return error(400, "BadRequestError", message)
        values = body.get("personalisation") or {}
        missing = sorted(template.placeholders() - set(values))
        if missing:
            return error(400, "BadRequestError", f"Missing personalisation: {', '.join(missing)}")
        if len(str(body.get("reference", ""))) > 1000:
            return error(400, "ValidationError", "reference is too long")
        return 201, self._notification(kind, body, template, values)

    def _notification(
        self, kind: str, body: dict[str, Any], template: Template, values: dict[str, Any]
    ) -> dict[str, Any]:
        notification_id = str(uuid.uuid4())
        self.notifications.append(
            {
                "id": notification_id,
                "reference": body.get("reference"),
                "email_address": body.get("email_address"),
                "phone_number": body.get("phone_number"),
                "type": kind,
                "status": "created",
                "template": {"id": body["template_id"], "version": 1},
                "created_at": time.strftime("%Y-%m-%dT%H:%M:%S.000000Z", time.gmtime()),
            }
        )
        content: dict[str, Any] = {"body": template.render(template.body, values)}
        if kind == "email":
            content["subject"] = template.render(template.subject, values)
            content["from_email"] = "cse.pathway@notifications.service.gov.uk"
        else:
            content["from_number"] = "CSE"
        return {
            "id": notification_id,
            "reference": body.get("reference"),
            "content": content,
            "uri": f"{self.url}/v2/notifications/{notification_id}",
            "template": {
                "id": body["template_id"],
                "version": 1,
                "uri": f"{self.url}/v2/template/{body['template_id']}",
            },
        }


def error(status: int, name: str, message: str) -> tuple[int, dict[str, Any]]:
    return status, {"status_code": status, "errors": [{"error": name, "message": message}]}


@contextmanager
def serving(standin: NotifyStandIn) -> Iterator[NotifyStandIn]:
    """Run the stand-in on a free port of 127.0.0.1 until the block ends."""

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # http.server's hook name
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            self._reply(*standin.answer(self.path, dict(self.headers.items()), raw))

        def do_GET(self) -> None:  # http.server's hook name
            self._reply(*standin.look_up(self.path, dict(self.headers.items())))

        def _reply(self, status: int, answer: object) -> None:
            """Send the answer as a JSON body with its status."""
            content = json.dumps(answer).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(content)))
            self.end_headers()
            self.wfile.write(content)

        def log_message(self, format: str, *args: object) -> None:  # quiet
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    standin.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield standin
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
