"""What the fault tests break, each a real process or socket that can be killed or taken down.

- `DevServer`: `temporal server start-dev` on a SQLite file; `kill()` is SIGKILL to its process
  group, `start()` again brings it back on the same file and port.
- `Workers`: the project's worker.py (through tests/e2e's `worker_process`), killed with
  SIGKILL and started again, one log file per start.
- `WebhookReceiver`: an HTTP receiver that records every POST when it arrives, can hold the
  first delivery of chosen paths for a few seconds (so a kill lands mid-send), and can refuse
  connections for a while.
- `SmtpReceiver`: a real SMTP server (aiosmtpd) that can refuse connections for a while.

Every process is started in a session of its own and stopped, whatever happens, by the fixture
that made it (tests/faults/conftest.py).
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import threading
import time
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller

from domain.roles import Role
from tests.e2e.conftest import (
    clean_env,
    dev_server_command,
    start_logged,
    stop_process_group,
    wait_for_dev_server,
    worker_process,
)

SLOW_WORKER = "sw-slow"  # the allocated social worker whose webhook answers slowly


def sigkill_group(proc: subprocess.Popen[bytes]) -> None:
    """SIGKILL a process started with start_new_session=True, and everything it started."""
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=10)


# ---- the Temporal dev server --------------------------------------------------------------


@dataclass
class DevServer:
    """A real dev server persisted to `folder/temporal.db`, restartable on the same port."""

    folder: Path
    port: int
    ui_port: int
    proc: subprocess.Popen[bytes] | None = None
    starts: int = 0
    kills: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _stopped: bool = False

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self) -> None:
        """Start (again) on the same file and port; never once `stop()` has run (a start
        still running in a thread when the test gave up must not outlive it)."""
        with self._lock:
            assert not self._stopped, "the rig has been stopped"
            self._start()

    def _start(self) -> None:
        self.starts += 1
        log = self.folder / f"server-{self.starts}.log"
        cmd = dev_server_command(self.port, self.ui_port, self.folder / "temporal.db")
        self.proc = start_logged(cmd, clean_env(), log)
        wait_for_dev_server(self.proc, log, self.port)

    def kill(self) -> None:
        assert self.proc is not None, "the dev server was never started"
        assert self.proc.poll() is None, "the dev server is not running"
        sigkill_group(self.proc)
        self.kills += 1

    def stop(self) -> None:
        with self._lock:
            self._stopped = True
            if self.proc is not None:
                stop_process_group(self.proc)


# ---- the worker ----------------------------------------------------------------------------


@dataclass
class Workers:
    """worker.py, started and SIGKILLed again and again; `stack` stops whatever is left."""

    env: dict[str, str]
    folder: Path
    stack: contextlib.ExitStack = field(default_factory=contextlib.ExitStack)
    proc: subprocess.Popen[bytes] | None = None
    starts: int = 0
    kills: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _stopped: bool = False

    def start(self) -> None:
        """Start worker.py and wait for it; never once `stop()` has run."""
        with self._lock:
            assert not self._stopped, "the rig has been stopped"
            self.starts += 1
            log = self.folder / f"worker-{self.starts}.log"
            self.proc = self.stack.enter_context(worker_process(self.env, log))

    def kill(self) -> None:
        assert self.proc is not None, "worker.py was never started"
        assert self.proc.poll() is None, "worker.py is not running"
        sigkill_group(self.proc)
        self.kills += 1

    def assert_running(self) -> None:
        assert self.proc is not None
        assert self.proc.poll() is None, f"worker.py exited {self.proc.returncode}"

    def stop(self) -> None:
        with self._lock:
            self._stopped = True
            self.stack.close()


# ---- receivers -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Post:
    path: str
    key: str  # the Idempotency-Key header: the notification id
    body: dict[str, Any]


@dataclass
class WebhookReceiver:
    """Records each POST as it arrives (before answering 204). The first POST of each
    notification to a path in `slow_paths` is held `hold_seconds` before the answer."""

    port: int
    slow_paths: frozenset[str] = frozenset()
    hold_seconds: float = 4.0
    posts: list[Post] = field(default_factory=list)
    holding: int = 0  # deliveries being held now
    held: int = 0  # deliveries held so far
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _server: ThreadingHTTPServer | None = None

    def url(self, path: str = "") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def _receive(self, path: str, key: str, body: bytes) -> bool:
        """Record a POST; whether to hold it (a first delivery to a slow path)."""
        with self._lock:
            first = all((p.path, p.key) != (path, key) for p in self.posts)
            self.posts.append(Post(path, key, json.loads(body)))
            hold = first and path in self.slow_paths
            self.holding += hold
            self.held += hold
            return hold

    def _released(self) -> None:
        with self._lock:
            self.holding -= 1

    def up(self) -> None:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # http.server's hook name
                body = self.rfile.read(int(self.headers["Content-Length"]))
                if receiver._receive(self.path, self.headers["Idempotency-Key"], body):
                    time.sleep(receiver.hold_seconds)
                    receiver._released()
                with contextlib.suppress(OSError):  # the sender may have been killed meanwhile
                    self.send_response(204)
                    self.end_headers()

            def log_message(self, format: str, *args: object) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True).start()

    def down(self) -> None:
        """Close the listening socket: connections are refused until `up()`."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None


@dataclass(frozen=True)
class Mail:
    rcpt_tos: tuple[str, ...]
    message_id: str
    subject: str


@dataclass
class _Mailbox:
    mails: list[Mail] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = message_from_bytes(envelope.original_content, policy=policy.default)
        mail = Mail(
            tuple(sorted(envelope.rcpt_tos)),
            str(message["Message-ID"]).strip(),
            str(message["Subject"]),
        )
        self.mails.append(mail)
        return "250 Message accepted"


@dataclass
class SmtpReceiver:
    """A real SMTP server on a fixed port; `down()` refuses connections until `up()`."""

    port: int
    mailbox: _Mailbox = field(default_factory=_Mailbox)
    _controller: Controller | None = None

    @property
    def mails(self) -> list[Mail]:
        return self.mailbox.mails

    def up(self) -> None:
        self._controller = Controller(self.mailbox, hostname="127.0.0.1", port=self.port)
        self._controller.start()

    def down(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None


# ---- the directory -------------------------------------------------------------------------


def role_path(role: str, social_worker: str | None) -> str:
    """Where the directory below sends a role's webhook: the slow worker has a path of its own."""
    if role == Role.social_worker.value and social_worker == SLOW_WORKER:
        return "/slow"
    return f"/{role}"


def role_email(role: str) -> str:
    return f"{role.replace('_', '-')}@example.org"


def write_directory(path: Path, hooks: WebhookReceiver, email: bool) -> None:
    """Every role: its own webhook path (and an example.org inbox when `email`)."""
    lines = ["[roles]"]
    for role in Role:
        addresses = [hooks.url(role_path(role.value, None))]
        addresses += [role_email(role.value)] if email else []
        lines.append(f"{role.value} = {json.dumps(addresses)}")
    lines += ["", "[people]", f'"{SLOW_WORKER}" = "{hooks.url("/slow")}"', ""]
    path.write_text("\n".join(lines), encoding="utf-8")
