"""The pathway picture of one case: python-statemachine's Mermaid diagram of PathwayMachine,
with the case's stage highlighted and its running clocks in a note beside that stage."""

from functools import cache

from statemachine.contrib.diagram import MermaidGraphMachine

from domain.calendar import LONDON
from domain.pathway import CaseOnPathway, PathwayMachine
from domain.status import CaseStatus, Clock, ClockState
from domain.vocabulary import Stage


class _DrawnAt(CaseOnPathway):
    """The machine's model placed at a stage, for drawing only: no event is ever sent."""

    def __init__(self, stage: Stage) -> None:
        self.drawn_at = stage.value

    @property
    def stage(self) -> str:
        return self.drawn_at

    @stage.setter
    def stage(self, value: str) -> None:
        self.drawn_at = value


@cache
def pathway_at(stage: Stage) -> str:
    """Mermaid stateDiagram-v2 source of the pathway with `stage` classed `active`."""
    machine = PathwayMachine(model=_DrawnAt(stage), state_field="stage")
    drawing = MermaidGraphMachine(machine)  # type: ignore[no-untyped-call]  # not annotated upstream
    return str(drawing.get_mermaid())


def running_clocks(status: CaseStatus) -> list[Clock]:
    return sorted((c for c in status.clocks if c.running), key=lambda c: c.due_at)


def clock_note(status: CaseStatus) -> list[str]:
    """The note beside the case's stage: its running clocks, soonest due first."""
    clocks = running_clocks(status)
    return ["running clocks", *map(_clock_line, clocks)] if clocks else []


def case_diagram(status: CaseStatus) -> str:
    lines = [pathway_at(status.stage).rstrip("\n")]
    note = clock_note(status)
    if note:
        lines.append(f"    note right of {status.stage.value}")
        lines += [f"        {line}" for line in note]
        lines.append("    end note")
    return "\n".join(lines) + "\n"


def _clock_line(clock: Clock) -> str:
    due = clock.due_at.astimezone(LONDON).strftime("%Y-%m-%d %H:%M")
    overdue = " OVERDUE" if clock.state == ClockState.breached else ""
    return f"{clock.name.value} due {due}{overdue}"
