"""`bash scripts/run.sh --demo` itself, as a newcomer runs it: a fresh data folder, nothing
configured. It must print a head of service's token, with which `GET /cases` lists the demo
caseload, and a SIGINT (Ctrl-C) must stop every process it started.

Ports and the data folder are its own (TEMPORAL_ADDRESS, CSE_UI_PORT, CSE_API_PORT,
CSE_DATA_DIR), so it clashes with nothing. Setup runs as run.sh runs it when .venv is up to
date (a no-op behind its stamp); otherwise it is skipped (CSE_SKIP_SETUP=1), so a test never
reinstalls the environment other tests are running in.
"""

from __future__ import annotations

import contextlib
import os
import queue
import re
import signal
import stat
import subprocess
import threading
import time
from collections import Counter
from pathlib import Path

import httpx
import pytest

from tests.e2e.conftest import REPO, free_ports

pytestmark = pytest.mark.e2e

READY_TIMEOUT = 90.0
STOP_TIMEOUT = 30.0
TOKEN_LINE = re.compile(r"^head_of_service (\S+@example\.org) ([A-Za-z0-9_-]{40,})$")


def fresh_env(**extra: str) -> dict[str, str]:
    """This machine's environment without any TEMPORAL_* or CSE_* setting: nothing configured."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TEMPORAL_", "CSE_"))}
    env.update(extra)
    return env


def group_members(pgid: int) -> list[str]:
    """The processes still in a process group (field 5 of /proc/<pid>/stat)."""
    members = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError):
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            if int(fields[2]) == pgid and fields[0] != "Z":
                members.append(f"{entry.name}: {(entry / 'cmdline').read_bytes()!r}")
    return members


def default_sigint() -> None:
    """As a terminal runs it: SIGINT not ignored (a background job's would be, for good)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def test_run_sh_demo_prints_a_token_lists_the_caseload_and_stops_on_ctrl_c(
    tmp_path: Path,
) -> None:
    temporal_port, ui_port, api_port = free_ports(3)
    data = tmp_path / "data"
    setup_current = (
        subprocess.run(["bash", "scripts/setup.sh", "--check"], cwd=REPO, check=False).returncode
        == 0
    )
    env = fresh_env(
        CSE_DATA_DIR=str(data),
        TEMPORAL_ADDRESS=f"127.0.0.1:{temporal_port}",
        CSE_UI_PORT=str(ui_port),
        CSE_API_PORT=str(api_port),
        **({} if setup_current else {"CSE_SKIP_SETUP": "1"}),
    )
    started = time.monotonic()
    proc = subprocess.Popen(
        ["bash", "scripts/run.sh", "--demo"],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
        preexec_fn=default_sigint,  # only resets a signal before exec
    )
    lines: queue.Queue[str | None] = queue.Queue()

    def read() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.put(line.rstrip("\n"))
        lines.put(None)

    threading.Thread(target=read, daemon=True).start()
    output: list[str] = []
    try:
        token = None
        while token is None:
            left = READY_TIMEOUT - (time.monotonic() - started)
            try:
                line = lines.get(timeout=max(left, 0.1))
            except queue.Empty:
                pytest.fail(f"no token within {READY_TIMEOUT:.0f} s:\n" + "\n".join(output))
            if line is None:
                pytest.fail(f"run.sh exited {proc.wait()}:\n" + "\n".join(output))
            output.append(line)
            match = TOKEN_LINE.match(line)
            token = match[2] if match else None
        ready_after = time.monotonic() - started
        said = "\n".join(output)
        assert f"http://127.0.0.1:{api_port}/dashboard/" in said
        assert "Ctrl-C stops it all" in said
        # The one step the dev server's Web UI needs to decode cases, with the address.
        assert f"keep http://127.0.0.1:{api_port}/dashboard/codec" in said
        assert "tick 'Include cross-origin credentials'" in said
        assert "WARNING" not in said.upper(), "the installer's warnings are not shown"
        users = data / "users.toml"
        assert stat.S_IMODE(users.stat().st_mode) == 0o600
        assert token not in users.read_text()
        session_keys = data / "session-keys"  # dashboard sessions survive a restart of the API
        assert stat.S_IMODE(session_keys.stat().st_mode) == 0o600
        index_keys = data / "index-keys"  # a child's referrals are linked across restarts
        assert stat.S_IMODE(index_keys.stat().st_mode) == 0o600
        for log in ("worker.log", "api.log"):
            assert "cases will not be linked" not in (data / log).read_text(encoding="utf-8")

        agenda = re.search(r"/reports/\d{4}-\d{2}-\d{2}/agenda\.html", said)
        assert agenda, "the demo's panel run prints its agenda's link"
        document = httpx.get(
            f"http://127.0.0.1:{api_port}{agenda[0]}",
            headers={"Authorization": f"Bearer {token}"},
            timeout=30,
        )
        assert document.status_code == 200, document.text
        assert "panel agenda" in document.text
        assert not (data / "reports").exists(), "no document on the worker's disk"

        answer = httpx.get(
            f"http://127.0.0.1:{api_port}/cases",
            params={"page_size": 500},
            headers={"Authorization": f"Bearer {token}"},
            timeout=30,
        )
        assert answer.status_code == 200, answer.text
        cases = answer.json()["cases"]
        assert len(cases) >= 30
        assert len(Counter(c["stage"] for c in cases)) >= 5
        assert any(c["overdue"] for c in cases)
        assert all(c["referral_id"].startswith("DEMO-") for c in cases)
        print(f"run.sh --demo: token and caseload after {ready_after:.1f} s")

        os.kill(proc.pid, signal.SIGINT)  # Ctrl-C (to run.sh alone: it must pass it on)
        assert proc.wait(timeout=STOP_TIMEOUT) == 130
        deadline = time.monotonic() + 5
        while group_members(proc.pid) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert group_members(proc.pid) == [], "every process run.sh started has stopped"
        for port in (temporal_port, ui_port, api_port):
            with pytest.raises(httpx.ConnectError):
                httpx.get(f"http://127.0.0.1:{port}/", timeout=2)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
