"""The progress bar of `python -m bench`: the rows done, and the step running now.

Drawn on stderr, so the table on stdout stays clean when it is piped or captured."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)


class Tracker:
    """One bar for the rows, one for the step under way (cases started, updates sent...)."""

    def __init__(self, rows: int) -> None:
        self.console = Console(stderr=True)
        self.progress = Progress(
            TextColumn("{task.description:<46}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=self.console,
            refresh_per_second=2,  # row 1's workers share this process: draw sparingly
            transient=False,
        )
        self._rows: TaskID = self.progress.add_task("issue 9 table: rows", total=rows)

    def __enter__(self) -> Tracker:
        self.progress.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.progress.stop()

    def row_done(self, count: int = 1) -> None:
        self.progress.advance(self._rows, count)

    def say(self, text: str) -> None:
        """A line above the bars (what a step found, or what it is waiting for)."""
        self.progress.console.log(text)

    @contextlib.contextmanager
    def step(self, description: str, total: int | None = None) -> Iterator[Callable[[], None]]:
        """A bar for one step; yields the function that advances it by one."""
        task = self.progress.add_task(f"  {description}", total=total)
        if not self.console.is_terminal:  # no live bar: a line per step instead, for logs
            self.console.print(f"[{self.progress.tasks[0].elapsed or 0:5.0f} s] {description}")
        try:
            yield lambda: self.progress.advance(task)
        finally:
            self.progress.remove_task(task)
