"""Smoke test of the benchmark command, not a benchmark: `python -m bench --quick --only 1,5`
runs end to end in a subprocess (its own dev server, worker.py, the minimal worker), prints
rows 1 and 5 of issue 9's table and writes its results where --out says. The figures are not
checked: on a busy test machine they say nothing."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SMOKE_TIMEOUT = 240.0  # about 15-40 s on 2 busy cores; the limit only stops a hung run

pytestmark = pytest.mark.bench


def test_quick_run_of_rows_1_and_5_prints_them_and_writes_the_results_file(
    tmp_path: Path,
) -> None:
    out = tmp_path / "results.md"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TEMPORAL_", "CSE_"))}
    done = subprocess.run(
        [sys.executable, "-m", "bench", "--quick", "--only", "1,5", "--out", str(out)],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=SMOKE_TIMEOUT,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-4000:]
    table = [line for line in done.stdout.splitlines() if line.startswith("|")]
    assert table[0].startswith("| # | what | measured | baseline"), done.stdout
    rows = table[2:]
    assert [row.split("|")[1].strip() for row in rows] == ["1", "5"], done.stdout
    assert "full-case updates/s vs minimal" in rows[0]
    assert "history bytes added per update" in rows[1]
    assert not any("failed:" in row for row in rows), done.stdout
    written = out.read_text(encoding="utf-8")
    assert "## Machine" in written
    assert "temporalio" in written
    assert all(row in written for row in rows)
    assert f"results written to {out}" in done.stdout
