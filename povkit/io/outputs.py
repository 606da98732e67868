"""Outputs are written whole or not at all: under a temporary name, renamed when complete."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def partial_path(path: Path) -> Path:
    """The hidden temporary name ``path`` is written under until it is complete."""
    return path.with_name(f".{path.stem}.partial{path.suffix}")


@contextmanager
def written_whole(path: str | os.PathLike) -> Iterator[Path]:
    """Yield the temporary name to write ``path`` under; rename it to ``path`` when the block
    ends cleanly, delete it when the block fails or is interrupted."""
    path = Path(path)
    partial = partial_path(path)
    try:
        yield partial
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    os.replace(partial, path)
