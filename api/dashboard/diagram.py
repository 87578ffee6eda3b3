"""The pathway machine drawn as an SVG arc diagram for one case, so the browser needs no
script: the stages in a row in the order the machine declares them, moves forward arced
above, moves back arced below, the case's stage and its ways out marked (all read from the
machine itself, domain/pathway.py), its running clocks in a note (api/diagram.py's lines).
"""

from __future__ import annotations

from dataclasses import dataclass

from api.diagram import clock_note
from domain.pathway import moves, stages
from domain.status import CaseStatus

NODE_WIDTH, NODE_HEIGHT, GAP, MARGIN = 124, 48, 30, 16
ARC_RISE, ARC_STEP = 22, 15  # how far an arc rises: more the further it goes


@dataclass(frozen=True)
class Pathway:
    """What the Mermaid source says: stages (id, label), moves, the case's stage, the note."""

    stages: list[tuple[str, str]]
    moves: list[tuple[str, str, str]]
    active: str | None
    note: list[str]


def pathway_of(status: CaseStatus) -> Pathway:
    return Pathway(
        stages=[(stage.value, name) for stage, name in stages()],
        moves=[(m.source.value, m.target.value, _event(m.event, m.condition)) for m in moves()],
        active=status.stage.value,
        note=clock_note(status),
    )


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
class Drawing:
    width: int
    height: int
    boxes: list[Box]
    arcs: list[Arc]
    ways_out: list[tuple[str, str]]  # (event, stage label) from the case's stage
    note: list[str]


def draw(status: CaseStatus) -> Drawing:
    pathway = pathway_of(status)
    index = {stage: i for i, (stage, _) in enumerate(pathway.stages)}
    labels = dict(pathway.stages)
    spans = [index[t] - index[s] for s, t, _ in pathway.moves if s in index and t in index]
    top = MARGIN + ARC_RISE + ARC_STEP * max(spans, default=1)
    below = ARC_RISE + ARC_STEP * max((-span for span in spans), default=1)
    boxes = [
        Box(stage, _two_lines(label), _left(i), top, stage == pathway.active)
        for i, (stage, label) in enumerate(pathway.stages)
    ]
    grouped: dict[tuple[str, str], list[str]] = {}
    for source, target, label in pathway.moves:
        if source in index and target in index:
            grouped.setdefault((source, target), []).append(label)
    arcs = [
        Arc(
            _arc(index[s], index[t], top),
            f"{labels[s]} → {labels[t]}: " + "; ".join(events),
            s == pathway.active,
        )
        for (s, t), events in grouped.items()
    ]
    ways_out = [
        (label, labels[t]) for s, t, label in pathway.moves if s == pathway.active and t in labels
    ]
    height = top + NODE_HEIGHT + below + MARGIN
    width = _left(len(boxes)) - GAP + MARGIN
    return Drawing(width, height, boxes, arcs, ways_out, pathway.note)


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
    rise = ARC_RISE + ARC_STEP * abs(target - source)
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
