"""What the commands print: rich tables for people (UK times), or JSON for scripts."""

from __future__ import annotations

import json
import sys
from datetime import datetime
from typing import Any

from pydantic import TypeAdapter
from rich.console import Console
from rich.table import Table
from rich.text import Text

from domain.calendar import LONDON
from domain.csv_export import detail_text
from domain.status import CaseStatus, Clock
from edge.caseload import CaseSummary, ClockDue
from edge.diagnosis import Diagnosis

PIPE_WIDTH = 160  # when printing into a pipe or a file, rather than a terminal


def console() -> Console:
    return Console(width=None if sys.stdout.isatty() else PIPE_WIDTH, highlight=False)


def when(moment: datetime | None) -> str:
    return moment.astimezone(LONDON).strftime("%a %d %b %Y %H:%M") if moment else "-"


def print_json(value: Any) -> None:
    print(json.dumps(value, indent=2, ensure_ascii=False))


def print_cases(cases: list[CaseSummary], more: bool, as_json: bool) -> None:
    if as_json:
        print_json(TypeAdapter(list[CaseSummary]).dump_python(cases, mode="json"))
        return
    table = Table(title=f"{len(cases)} cases, soonest due first", title_justify="left")
    for column in ("Referral", "Stage", "Score", "Team", "Next due", "Deadlines", "Flags"):
        table.add_column(column, no_wrap=column in ("Referral", "Next due"), overflow="fold")
    for case in cases:
        flags = ", ".join(
            f for f, on in (("complex", case.complex), ("MASE", case.mase_referred)) if on
        )
        table.add_row(
            case.referral_id,
            case.stage.value if case.stage else "-",
            "-" if case.risk_score is None else str(case.risk_score),
            case.team or "-",
            when(case.next_due),
            Text("OVERDUE", style="bold red") if case.overdue else Text("on time", style="green"),
            flags,
            style="red" if case.overdue else None,
        )
    out = console()
    out.print(table)
    if more:
        out.print("More cases match: raise --limit to see them.")


def print_case(status: CaseStatus, as_json: bool) -> None:
    if as_json:
        print_json(status.model_dump(mode="json"))
        return
    out = console()
    overdue = " [bold red]OVERDUE[/]" if status.overdue else ""
    out.print(f"[bold]Case {status.referral_id}[/]  stage [bold]{status.stage.value}[/]{overdue}")
    out.print(
        f"team {status.team} · allocated to {status.allocated_to or 'team inbox'} · "
        f"risk score {'-' if status.risk_score is None else status.risk_score} · "
        f"complex {'yes' if status.complex else 'no'} · next due {when(status.next_due)} · "
        f"policy {status.policy_version}",
        markup=False,
    )
    out.print(clocks_table(status.clocks))
    if status.history:
        out.print(history_table(status))
    else:
        out.print("Timeline: nothing recorded since the referral was received.")


def trouble_lines(referral_id: str, trouble: Diagnosis) -> str:
    """A case that cannot answer, in two lines: what is wrong, and what to do."""
    return (
        f"case {referral_id} cannot be read ({trouble.reason.value}): {trouble.detail}\n"
        f"what to do: {trouble.operator_action}"
    )


def clocks_table(clocks: list[Clock]) -> Table:
    table = Table(title="Clocks", title_justify="left")
    for column in ("Clock", "Opened", "Due", "Stopped", "State", "Ladder"):
        table.add_column(column, overflow="fold")
    for clock in clocks:
        ladder = "\n".join(
            f"{step.step.value} {when(step.at)} {step.status.value}" for step in clock.escalations
        )
        state = clock.state.value + (" (running)" if clock.running else "")
        style = "red" if clock.state.value == "breached" and clock.running else None
        stopped = when(clock.stopped_at)
        table.add_row(
            clock.name.value,
            when(clock.opened_at),
            when(clock.due_at),
            stopped,
            state,
            ladder,
            style=style,
        )
    return table


def history_table(status: CaseStatus) -> Table:
    table = Table(title="Timeline", title_justify="left")
    for column in ("When", "Event", "By", "Details"):
        table.add_column(column, overflow="fold")
    for entry in status.history:
        details = ", ".join(f"{k}={detail_text(v)}" for k, v in entry.details.items())
        # Text, not markup: an agency's name in brackets is printed as it was recorded.
        table.add_row(when(entry.at), entry.event, entry.actor, Text(details))
    return table


def print_forecast(due: list[ClockDue], days: int, cutoff: datetime, as_json: bool) -> None:
    if as_json:
        clocks = TypeAdapter(list[ClockDue]).dump_python(due, mode="json")
        print_json({"working_days": days, "cutoff": cutoff.isoformat(), "clocks": clocks})
        return
    title = f"{len(due)} running clocks due by {when(cutoff)} ({days} working days)"
    table = Table(title=title, title_justify="left")
    for column in ("Due", "Clock", "Referral", "Stage", "Team"):
        table.add_column(column, no_wrap=column in ("Due", "Referral"), overflow="fold")
    for clock in due:
        table.add_row(
            when(clock.due_at), clock.clock.value, clock.referral_id, clock.stage.value, clock.team
        )
    console().print(table)
