"""Two small ASGI layers around the whole app: the Referrer-Policy on every answer, and CORS
for the codec routes alone (the rest of the API is for servers and this service's own pages,
so no other origin is ever let in)."""

from __future__ import annotations

from typing import Any

from starlette.datastructures import MutableHeaders
from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

# Our own pages still send the Referer (and Origin) back to us; other sites get neither, so
# a case id in a URL never reaches their logs.
REFERRER_POLICY = "same-origin"


class ReferrerPolicy:
    """Adds `Referrer-Policy` to every HTTP answer that does not already set one."""

    def __init__(self, app: ASGIApp, policy: str = REFERRER_POLICY) -> None:
        self.app = app
        self.policy = policy

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_policy(message: Message) -> None:
            if message["type"] == "http.response.start":
                MutableHeaders(scope=message).setdefault("Referrer-Policy", self.policy)
            await send(message)

        await self.app(scope, receive, send_with_policy)


class ScopedCors:
    """Starlette's CORSMiddleware (`cors`: its options), applied only to paths under `prefixes`."""

    def __init__(self, app: ASGIApp, prefixes: tuple[str, ...], cors: dict[str, Any]) -> None:
        self.app = app
        self.prefixes = prefixes
        self.cors = CORSMiddleware(app, **cors)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and str(scope["path"]).startswith(self.prefixes):
            await self.cors(scope, receive, send)
        else:
            await self.app(scope, receive, send)
