"""Outputs are written whole or not at all: under a temporary name, renamed when complete."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

from povkit.errors import UsageError

NAME_BYTES = 255
"""Longest file name most file systems take."""


def partial_path(path: Path) -> Path:
    """The hidden temporary name ``path`` is written under until it is complete (a short
    hashed one where the name is too long to carry the marks)."""
    name = f".{path.stem}.partial{path.suffix}"
    if len(name.encode()) > NAME_BYTES:
        name = f".{hashlib.sha1(path.name.encode()).hexdigest()[:16]}.partial{path.suffix}"
    return path.with_name(name)


def check_output_folder(path: str | os.PathLike) -> Path:
    """Refuse, before any work, an output whose folder is missing or cannot be written in."""
    path = Path(path)
    folder = path.parent
    if not folder.is_dir():
        raise UsageError(f"{folder}: output folder does not exist; create it first")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise UsageError(
            f"{folder}: cannot write in this folder (permission denied); choose another"
        )
    if len(path.name.encode()) > NAME_BYTES:
        raise UsageError(
            f"{path.name[:40]}...: file name longer than {NAME_BYTES} bytes; shorten it"
        )
    return path


@contextmanager
def removed_on_failure(made: Iterable[Path] = ()) -> Iterator[list[Path]]:
    """Yield a list of the files a step makes (``made`` to start with; the step adds the rest):
    all of them are deleted again when the step fails or is interrupted, so a command leaves
    all the outputs asked for or none of the files it made."""
    files = list(made)
    try:
        yield files
    except BaseException:
        for path in files:
            path.unlink(missing_ok=True)
        raise


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
