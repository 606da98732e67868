"""Shot-boundary detection: where a film cuts, fades or dips to black, and what to do with it."""

from __future__ import annotations

import os
from pathlib import Path

from povkit.cuts.detect import ShotList, detect_shots
from povkit.cuts.detectors import DETECTORS, Boundary, make_detector
from povkit.edit import edit_adapter, edit_rate
from povkit.errors import UsageError
from povkit.io.outputs import check_output_folder, removed_on_failure
from povkit.io.video import probe
from povkit.progress import progress

__all__ = ["DETECTORS", "Boundary", "ShotList", "detect_shots", "find_cuts", "make_detector"]


def find_cuts(
    path: str | os.PathLike,
    *,
    detector: str = "pov",
    params: dict | None = None,
    csv: str | None = None,
    edits: tuple[str, ...] = (),
    images: str | None = None,
) -> tuple[ShotList, dict[str, str]]:
    """Detect the shots of ``path`` (with a progress bar) and write the outputs asked for:
    a CSV table, edit timelines (.otio, .edl, .xml) and a folder of thumbnails."""
    from povkit.cuts.export import write_csv, write_edit, write_thumbnails

    _check_outputs(path, csv, edits, images)
    try:
        method = make_detector(detector, **(params or {}))
    except (ValueError, TypeError) as exc:
        raise UsageError(str(exc)) from None
    info = probe(path)
    for edit in edits:
        edit_adapter(edit, float(edit_rate(info)))
    with progress("finding cuts", info.frame_count) as tick:
        shots = detect_shots(path, detector=method, info=info, on_frame=tick)
    written: dict[str, str] = {}
    new_files = {Path(p) for p in (csv, *edits) if p and not Path(p).exists()}
    with removed_on_failure(new_files):  # (thumbnails clean up after themselves)
        if csv:
            written["csv"] = str(write_csv(shots, csv))
        for edit in edits:
            written[Path(edit).suffix.lower().lstrip(".")] = str(write_edit(shots, edit))
        if images:
            write_thumbnails(shots, images)
            written["images"] = str(images)
    return shots, written


def _check_outputs(
    path: str | os.PathLike, csv: str | None, edits: tuple[str, ...], images: str | None
) -> None:
    """Refuse, before any decoding, outputs that would overwrite the input or cannot be made."""
    for output in (csv, *edits, images):
        if not output:
            continue
        target = check_output_folder(output)
        if target.exists() and Path(path).exists() and target.resolve() == Path(path).resolve():
            raise UsageError(f"{target}: output is the input; choose another output path")
    for edit in edits:
        edit_adapter(edit)
    if images and Path(images).exists() and not Path(images).is_dir():
        raise UsageError(f"{images}: is a file; give a folder for the thumbnails")
    if images and Path(images).is_dir():
        check_output_folder(Path(images) / "shot.jpg")
