"""Progress bars on stderr, shown only when a person is watching a terminal."""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager

# rich reads these to treat a non-terminal as one (https://force-color.org/)
_TERMINAL_OVERRIDES = ("TTY_COMPATIBLE", "FORCE_COLOR")


@functools.cache
def _console():
    from rich.console import Console

    return Console(stderr=True)


def _maybe_watched() -> bool:
    """False where rich would certainly see no terminal, so scripts never import it (~0.1 s)."""
    isatty = getattr(sys.stderr, "isatty", None)
    try:
        if isatty is not None and isatty():
            return True
    except ValueError:  # closed stderr
        return False
    return any(name in os.environ for name in _TERMINAL_OVERRIDES)


@contextmanager
def progress(description: str, total: int | None) -> Iterator[Callable[[], None]]:
    """Yield a function to call once per unit of work; draws a bar while it runs."""
    if not _maybe_watched() or not _console().is_terminal:
        yield lambda: None
        return
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
    )

    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn())
    with Progress(*columns, TimeRemainingColumn(), console=_console(), transient=True) as bar:
        task = bar.add_task(description, total=total or None)
        yield lambda: bar.advance(task)
