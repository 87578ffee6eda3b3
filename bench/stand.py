"""What the rows of `python -m bench` share: the run's key, its folder, the sizes, a dev server
with the project's worker and the minimal worker beside it, and how to tell that a worker has
finished the work a step gave it."""

from __future__ import annotations

import asyncio
import contextlib
import subprocess
import uuid
from dataclasses import dataclass
from pathlib import Path

from pydantic import SecretStr
from temporalio.client import Client

from bench import rig
from bench.track import Tracker
from edge.client import connect
from edge.codec import new_key_item
from edge.settings import Settings


@dataclass(frozen=True)
class Sizes:
    throughput_cases: int  # row 1: cases of each kind (bench_case)
    actor_cases: dict[int, int]  # rows 2-3: cases of each kind for each number of actors
    caseload: int  # row 4: open cases (row 7 lists the same caseload)
    status_queries: int  # row 4
    history_updates: int  # row 5: the 8 updates to a review, then whole rounds of 4
    breaches: int  # row 6
    listing_requests: int  # row 7


FULL = Sizes(
    throughput_cases=20,
    actor_cases={5: 20, 20: 40},
    caseload=2000,
    status_queries=300,
    history_updates=24,
    breaches=1000,
    listing_requests=200,
)
QUICK = Sizes(
    throughput_cases=4,
    actor_cases={5: 5, 20: 20},
    caseload=200,
    status_queries=50,
    history_updates=16,
    breaches=100,
    listing_requests=30,
)


@dataclass(frozen=True)
class Workers:
    """The project's worker.py and the minimal worker, each on a task queue of its own."""

    full: subprocess.Popen[bytes]
    full_queue: str
    minimal: subprocess.Popen[bytes]
    minimal_queue: str


def queue_name(what: str) -> str:
    return f"bench-{what}-{uuid.uuid4().hex[:6]}"


class Stand:
    def __init__(self, sizes: Sizes, track: Tracker, folder: Path) -> None:
        self.sizes = sizes
        self.track = track
        self.folder = folder
        self.keys = new_key_item("bench")  # every payload of the run sealed, as in service
        self.stack = contextlib.ExitStack()
        self._server: str | None = None
        self._workers: Workers | None = None
        self._clients: dict[str, Client] = {}

    def close(self) -> None:
        """Stop the shared dev server and its workers (started again if asked for)."""
        self.stack.close()
        self._server = self._workers = None

    def subfolder(self, name: str) -> Path:
        path = self.folder / name
        path.mkdir(exist_ok=True)
        return path

    def shared_server(self) -> str:
        """The dev server of rows 1, 2, 3 and 5: on a SQLite file, as scripts/run.sh runs it."""
        if self._server is None:
            with self.track.step("starting the dev server (SQLite file)"):
                folder = self.subfolder("shared")
                self._server = self.stack.enter_context(rig.dev_server(folder, persisted=True))
        return self._server

    def shared_workers(self) -> Workers:
        if self._workers is None:
            address, folder = self.shared_server(), self.subfolder("shared")
            full_queue, minimal_queue = queue_name("full"), queue_name("minimal")
            with self.track.step("starting worker.py and the minimal worker"):
                full = self.stack.enter_context(
                    rig.worker_process(folder, address, full_queue, self.keys)
                )
                minimal = self.stack.enter_context(
                    rig.worker_process(folder, address, minimal_queue, self.keys, minimal=True)
                )
            self._workers = Workers(full, full_queue, minimal, minimal_queue)
        return self._workers

    async def client(self, address: str) -> Client:
        """A project client (edge/client.py), sealed with this run's key."""
        if address not in self._clients:
            settings = Settings(
                temporal_address=address,
                temporal_namespace="default",
                codec_keys=SecretStr(self.keys),
                plaintext_payloads=False,
            )
            self._clients[address] = await connect(settings)
        return self._clients[address]


async def still_busy(client: Client, workflow_ids: list[str], width: int = 20) -> list[str]:
    """The workflows the server still has a workflow task or an activity pending for."""
    gate = asyncio.Semaphore(width)

    async def busy(workflow_id: str) -> bool:
        async with gate:
            raw = (await client.get_workflow_handle(workflow_id).describe()).raw_description
            return raw.HasField("pending_workflow_task") or len(raw.pending_activities) > 0

    answers = await asyncio.gather(*(busy(w) for w in workflow_ids))
    return [w for w, b in zip(workflow_ids, answers, strict=True) if b]


async def work_done(
    pid: int, idle: float, client: Client, workflow_ids: list[str], within: float = 600.0
) -> rig.Usage:
    """The worker's usage once it has done everything the server holds for these workflows:
    it has been quiet for a second and none of them has a task or an activity pending (a
    quiet worker alone is not enough: a busy server may not have handed the work out yet)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    pending = workflow_ids
    while loop.time() < deadline:
        mark = await rig.settled(pid, idle, within=within)
        pending = await still_busy(client, pending)
        if not pending:
            return mark
    raise SystemExit(f"{len(pending)} workflows still busy after {within:.0f} s")
