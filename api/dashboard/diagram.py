"""The pathway machine drawn as an SVG arc diagram for one case, so the browser needs no
script: the stages in a row in the order the machine declares them, moves forward arced
above, moves back arced below, the case's stage and its ways out marked (all read from the
machine itself, domain/pathway.py), its running clocks in a note (api/diagram.py's lines).
Under the stages, one row per track that runs beside them (the assessment, the child
protection plan), drawn the same way with where the case is on it marked.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from api.diagram import clock_note
from domain.pathway import PathwayMachine, moves, stages, tracks
from domain.status import CaseStatus

NODE_WIDTH, NODE_HEIGHT, GAP, MARGIN = 124, 48, 30, 16
ARC_RISE, ARC_STEP = 22, 15  # how far an arc rises: more the further it goes
LANE_HEADING = 28  # room above a track's row for its name


@dataclass(frozen=True)
class Lane:
    """A track beside the stages: its states (id, label), its moves (source, target, label)
    and where the case is on it (None when the case is closed or does not say)."""

    id: str
    name: str
    states: list[tuple[str, str]]
    moves: list[tuple[str, str, str]]
    active: str | None


@dataclass(frozen=True)
class Pathway:
    """What the Mermaid source says: stages (id, label), moves, the case's stage, the note,
    and the tracks beside the stages."""

    stages: list[tuple[str, str]]
    moves: list[tuple[str, str, str]]
    active: str | None
    note: list[str]
    lanes: list[Lane]


def pathway_of(status: CaseStatus) -> Pathway:
    return Pathway(
        stages=[(stage.value, name) for stage, name in stages()],
        moves=[(m.source.value, m.target.value, _event(m.event, m.condition)) for m in moves()],
        active=status.stage.value,
        note=clock_note(status),
        lanes=[
            Lane(t.id, t.name, t.states, _track_moves(t.id), status.tracks.get(t.id))
            for t in tracks()
        ],
    )


def _track_moves(track: str) -> list[tuple[str, str, str]]:
    """The moves between the track's states, as the machine declares them."""
    region = PathwayMachine.states_map[track]
    return [
        (state.id, t.target.id, _event(e.id, _outcome(map(str, t.cond))))
        for state in region.states
        for t in state.transitions
        if t.target is not None and t.target is not state
        for e in t.events
    ]


def _outcome(conditions: Iterable[str]) -> str | None:
    """The condition that names the event's outcome, of those a transition is chosen by."""
    return next((c for c in conditions if c.startswith(("outcome_is_", "decision_"))), None)


@dataclass(frozen=True)
class Box:
    id: str
    lines: list[str]
    x: int
    y: int
    active: bool
    width: int = NODE_WIDTH
    height: int = NODE_HEIGHT

    @property
    def centre(self) -> int:
        return self.x + self.width // 2

    @property
    def first_baseline(self) -> int:
        """Where the label's first line sits, so one or two lines are centred in the box."""
        return self.y + self.height // 2 + 5 - 8 * (len(self.lines) - 1)


@dataclass(frozen=True)
class Arc:
    path: str
    title: str
    leaves_active: bool


@dataclass(frozen=True)
class Row:
    """States in a row with the moves between them: the stages, or one track."""

    boxes: list[Box]
    arcs: list[Arc]
    ways_out: list[tuple[str, str]]  # (event, state label) from where the case is
    bottom: int  # below the row and its arcs back


@dataclass(frozen=True)
class LaneRow:
    """A track's row, under its name, and where the case is on it (its label, or None)."""

    id: str
    name: str
    heading_y: int
    row: Row
    at: str | None


@dataclass(frozen=True)
class Drawing:
    width: int
    height: int
    boxes: list[Box]
    arcs: list[Arc]
    ways_out: list[tuple[str, str]]  # (event, stage label) from the case's stage
    note: list[str]
    lanes: list[LaneRow]


def draw(status: CaseStatus) -> Drawing:
    pathway = pathway_of(status)
    stage_row = _row(pathway.stages, pathway.moves, pathway.active, MARGIN)
    lanes: list[LaneRow] = []
    bottom = stage_row.bottom
    for lane in pathway.lanes:
        row = _row(lane.states, lane.moves, lane.active, bottom + LANE_HEADING)
        at = dict(lane.states).get(lane.active or "")
        lanes.append(LaneRow(lane.id, lane.name, bottom + LANE_HEADING - 10, row, at))
        bottom = row.bottom
    width = _left(max(len(pathway.stages), *(len(lane.states) for lane in pathway.lanes))) - GAP
    return Drawing(
        width + MARGIN,
        bottom + MARGIN,
        stage_row.boxes,
        stage_row.arcs,
        stage_row.ways_out,
        pathway.note,
        lanes,
    )


def _row(
    states: list[tuple[str, str]], moves: list[tuple[str, str, str]], active: str | None, y: int
) -> Row:
    """The row of `states` whose forward arcs may rise from `y`; its boxes below them."""
    index = {state: i for i, (state, _) in enumerate(states)}
    labels = dict(states)
    inside = [(s, t, label) for s, t, label in moves if s in index and t in index]
    spans = [index[t] - index[s] for s, t, _ in inside]
    forward = max((span for span in spans if span > 1), default=0)  # next: a straight arrow
    back = max((-span for span in spans if span < 0), default=0)
    top = y + (_rise(forward) if forward else 0)
    below = _rise(back) if back else GAP // 2
    boxes = [
        Box(state, _two_lines(label), _left(i), top, state == active)
        for i, (state, label) in enumerate(states)
    ]
    grouped: dict[tuple[str, str], list[str]] = {}
    for source, target, label in inside:
        grouped.setdefault((source, target), []).append(label)
    arcs = [
        Arc(
            _arc(index[s], index[t], top),
            f"{labels[s]} → {labels[t]}: " + "; ".join(events),
            s == active,
        )
        for (s, t), events in grouped.items()
    ]
    ways_out = [(label, labels[t]) for s, t, label in inside if s == active]
    return Row(boxes, arcs, ways_out, top + NODE_HEIGHT + below)


def _rise(span: int) -> int:
    """How far an arc over `span` states rises from its row: more the further it goes."""
    return ARC_RISE + ARC_STEP * span


def _left(i: int) -> int:
    return MARGIN + i * (NODE_WIDTH + GAP)


def _two_lines(label: str) -> list[str]:
    head, _, rest = label.partition(" ")
    return [head, rest] if rest and len(label) > 12 else [label]


def _event(event: str, condition: str | None) -> str:
    """`complete_assessment` on `outcome_is_cin` as `Complete assessment (cin)`."""
    name = event.replace("_", " ").capitalize()
    outcome = (condition or "").removeprefix("outcome_is_").removeprefix("decision_is_")
    return f"{name} ({outcome.replace('_', ' ')})" if outcome else name


def _arc(source: int, target: int, top: int) -> str:
    """A straight arrow to the next stage; further forward above the row; back below."""
    middle = NODE_HEIGHT // 2
    if target == source + 1:
        return f"M{_left(source) + NODE_WIDTH},{top + middle} L{_left(target) - 2},{top + middle}"
    rise = _rise(abs(target - source))
    start = _left(source) + NODE_WIDTH // 2
    end = _left(target) + NODE_WIDTH // 2
    if target > source:
        start, end, y, apex = start + 12, end - 12, top, top - 4 * rise // 3
    else:  # a cubic curve peaks at 3/4 of its control points' height: the peak is `rise`
        start, end, y, apex = (
            start - 12,
            end + 12,
            top + NODE_HEIGHT,
            top + NODE_HEIGHT + 4 * rise // 3,
        )
    return f"M{start},{y} C{start},{apex} {end},{apex} {end},{y + (-3 if target > source else 3)}"
