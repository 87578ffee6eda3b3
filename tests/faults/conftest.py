"""The fault rig of one test: a dev server on a SQLite file of its own, the project's worker.py
(sealed payloads, as a borough runs it) with a directory whose every role has a webhook (and,
when asked, an email inbox), the receivers, and a sealed client for the test itself.

Everything the rig starts is stopped when the test ends, whatever it did to it.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from temporalio.client import Client

from edge.client import connect
from edge.codec import new_key_item
from edge.settings import Settings
from tests.e2e.conftest import REPO, clean_env, free_ports
from tests.faults.rig import (
    DevServer,
    SmtpReceiver,
    WebhookReceiver,
    Workers,
    write_directory,
)

SENDER = "cse-pathway@example.org"
WEBHOOK_SECRET = "fault-tests-webhook-secret"


@dataclass
class Rig:
    server: DevServer
    workers: Workers
    hooks: WebhookReceiver
    smtp: SmtpReceiver | None
    outbox: Path
    task_queue: str
    client: Client

    async def kill_worker(self) -> None:
        await asyncio.to_thread(self.workers.kill)

    async def start_worker(self) -> None:
        await asyncio.to_thread(self.workers.start)

    async def kill_server(self) -> None:
        await asyncio.to_thread(self.server.kill)

    async def start_server(self) -> None:
        await asyncio.to_thread(self.server.start)


MakeRig = Callable[..., Awaitable[Rig]]


@pytest.fixture
async def make_rig(tmp_path: Path) -> AsyncIterator[MakeRig]:
    """`await make_rig(email=False, slow_paths=frozenset(), policy=None)`: the server, the
    receivers and a running worker (under `policy`, the text of a policy file, instead of
    policies/); all of them stopped at the end of the test."""
    cleanup = contextlib.ExitStack()

    async def make(
        email: bool = False, slow_paths: frozenset[str] = frozenset(), policy: str | None = None
    ) -> Rig:
        server_port, ui_port, hook_port, smtp_port = free_ports(4)
        server = DevServer(tmp_path, server_port, ui_port)
        cleanup.callback(server.stop)
        await asyncio.to_thread(server.start)
        hooks = WebhookReceiver(hook_port, slow_paths=slow_paths)
        hooks.up()
        cleanup.callback(hooks.down)
        smtp = SmtpReceiver(smtp_port) if email else None
        if smtp is not None:
            smtp.up()
            cleanup.callback(smtp.down)
        directory = tmp_path / "directory.toml"
        write_directory(directory, hooks, email)
        policies = REPO / "policies"
        if policy is not None:
            policies = tmp_path / "policies"
            policies.mkdir()
            (policies / "policy.toml").write_text(policy, encoding="utf-8")
        task_queue = f"faults-{uuid.uuid4().hex[:10]}"
        key = new_key_item("faults")
        env = clean_env(
            TEMPORAL_ADDRESS=server.address,
            CSE_TASK_QUEUE=task_queue,
            CSE_CODEC_KEYS=key,
            CSE_OUTBOX_FILE=str(tmp_path / "outbox.jsonl"),
            CSE_POLICY_DIR=str(policies),
            CSE_PANEL_SCHEDULE_ID=f"panel-{task_queue}",
            CSE_PUBLIC_URL="https://cse.example.org",
            CSE_DIRECTORY_FILE=str(directory),
            CSE_WEBHOOK_SECRET=WEBHOOK_SECRET,
        )
        if smtp is not None:
            env |= {
                "CSE_SMTP_HOST": "127.0.0.1",
                "CSE_SMTP_PORT": str(smtp.port),
                "CSE_SMTP_STARTTLS": "false",
                "CSE_NOTIFY_FROM": SENDER,
            }
        workers = Workers(env, tmp_path)
        cleanup.callback(workers.stop)
        await asyncio.to_thread(workers.start)
        settings = Settings(temporal_address=server.address, codec_keys=key, task_queue=task_queue)
        client = await connect(settings)
        return Rig(server, workers, hooks, smtp, tmp_path / "outbox.jsonl", task_queue, client)

    try:
        yield make
    finally:
        cleanup.close()
