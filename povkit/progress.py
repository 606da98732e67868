"""Progress bars on stderr, shown only when a person is watching a terminal."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

_console = Console(stderr=True)


@contextmanager
def progress(description: str, total: int | None) -> Iterator[Callable[[], None]]:
    """Yield a function to call once per unit of work; draws a bar while it runs."""
    if not _console.is_terminal:
        yield lambda: None
        return
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn())
    with Progress(*columns, TimeRemainingColumn(), console=_console, transient=True) as bar:
        task = bar.add_task(description, total=total or None)
        yield lambda: bar.advance(task)
