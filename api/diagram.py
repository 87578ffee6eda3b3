"""The pathway picture of one case: python-statemachine's Mermaid diagram of PathwayMachine,
its tracks drawn side by side, with where the case is on each highlighted and its running
clocks in a note beside its stage."""

from functools import cache

from statemachine.contrib.diagram import MermaidGraphMachine
from statemachine.orderedset import OrderedSet

from domain.calendar import LONDON
from domain.pathway import INITIAL_TRACKS, TRACKS, CaseOnPathway, PathwayMachine
from domain.status import CaseStatus, Clock, ClockState
from domain.vocabulary import Stage


class _DrawnAt(CaseOnPathway):
    """The machine's model placed where a case is, for drawing only: no event is ever sent."""

    def __init__(self, stage: Stage, tracks: tuple[tuple[str, str], ...]) -> None:
        if stage == Stage.closed:
            self.position = OrderedSet([stage.value])
            return
        where = dict(INITIAL_TRACKS) | dict(tracks)
        self.position = OrderedSet(
            ["open", "line", stage.value, *(x for t in TRACKS for x in (t, where[t]))]
        )


@cache
def pathway_at(stage: Stage, tracks: tuple[tuple[str, str], ...] = ()) -> str:
    """Mermaid stateDiagram-v2 source of the pathway with the case's stage and its place on
    each track (region, state) classed `active`."""
    machine = PathwayMachine(model=_DrawnAt(stage, tracks), state_field="position")
    drawing = MermaidGraphMachine(machine)  # type: ignore[no-untyped-call]  # not annotated upstream
    return str(drawing.get_mermaid())


def running_clocks(status: CaseStatus) -> list[Clock]:
    return sorted((c for c in status.clocks if c.running), key=lambda c: c.due_at)


def clock_note(status: CaseStatus) -> list[str]:
    """The note beside the case's stage: its running clocks, soonest due first."""
    clocks = running_clocks(status)
    return ["running clocks", *map(_clock_line, clocks)] if clocks else []


def case_diagram(status: CaseStatus) -> str:
    lines = [pathway_at(status.stage, tuple(sorted(status.tracks.items()))).rstrip("\n")]
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
