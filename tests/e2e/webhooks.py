"""A webhook receiver for end-to-end tests: a loopback HTTP server keeping every POST."""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Hooks:
    """The webhook receiver's record: path, headers and body of every POST."""

    url: str = ""
    posts: list[tuple[str, dict[str, str], bytes]] = field(default_factory=list)

    def for_referral(self, referral_id: str) -> list[tuple[str, dict[str, str], bytes]]:
        return [p for p in self.posts if json.loads(p[2])["referral_id"] == referral_id]


def serve_hooks(hooks: Hooks, status: int = 204) -> ThreadingHTTPServer:
    """A receiver on a free loopback port answering every POST with `status` (400: a receiver
    that refuses for good), each POST kept in `hooks`."""

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # http.server's hook name
            body = self.rfile.read(int(self.headers["Content-Length"]))
            hooks.posts.append((self.path, dict(self.headers.items()), body))
            self.send_response(status)
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    hooks.url = f"http://127.0.0.1:{server.server_address[1]}"
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    return server
