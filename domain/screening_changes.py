"""What changed between one CSE risk screening (or review) and the one before it: the score up
or down, indicators and CSE models added or gone, the professional concern and complexity.

Push/pull factors are free text and are left out: a change in them is read from the factors
themselves, where the reader may see them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TypeVar

from domain.status import Screening
from domain.vocabulary import Concern, CseModel, Indicator

T = TypeVar("T")


@dataclass(frozen=True)
class ScreeningChange:
    """One screening against the one before it (lists in the order they were recorded)."""

    score_before: int
    score_after: int
    indicators_added: list[Indicator]
    indicators_gone: list[Indicator]
    models_added: list[CseModel]
    models_gone: list[CseModel]
    concern_before: Concern
    concern_after: Concern
    complex_before: bool
    complex_after: bool

    @property
    def score_change(self) -> int:
        """Positive when the risk went up, negative when it went down."""
        return self.score_after - self.score_before

    @property
    def concern_changed(self) -> bool:
        return self.concern_before != self.concern_after

    @property
    def complex_changed(self) -> bool:
        return self.complex_before != self.complex_after

    @property
    def unchanged(self) -> bool:
        return not (
            self.score_change
            or self.indicators_added
            or self.indicators_gone
            or self.models_added
            or self.models_gone
            or self.concern_changed
            or self.complex_changed
        )


def changes_since(before: Screening, after: Screening) -> ScreeningChange:
    return ScreeningChange(
        score_before=before.score,
        score_after=after.score,
        indicators_added=_added(before.indicators, after.indicators),
        indicators_gone=_added(after.indicators, before.indicators),
        models_added=_added(before.cse_models, after.cse_models),
        models_gone=_added(after.cse_models, before.cse_models),
        concern_before=before.professional_concern,
        concern_after=after.professional_concern,
        complex_before=before.complex,
        complex_after=after.complex,
    )


def with_changes(
    screenings: Sequence[Screening],
) -> list[tuple[Screening, ScreeningChange | None]]:
    """Each screening, oldest first, with what changed since the one before (None for the
    first: nothing to compare it with)."""
    earlier: list[Screening | None] = [None, *screenings]
    return [
        (screening, None if before is None else changes_since(before, screening))
        for before, screening in zip(earlier, screenings, strict=False)  # one fewer: the last
    ]


def _added(before: Sequence[T], after: Sequence[T]) -> list[T]:
    """What `after` has that `before` has not, in `after`'s order, each once."""
    return [item for item in dict.fromkeys(after) if item not in before]
