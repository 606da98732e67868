"""What the shots of a video become: an edit timeline, a CSV table, a thumbnail per shot."""

from __future__ import annotations

import csv
import os
from pathlib import Path

import cv2
import numpy as np

from povkit.cuts.detect import ShotList
from povkit.edit import SourceClip, build_timeline, edit_rate, write_timeline
from povkit.errors import UsageError
from povkit.io.outputs import removed_on_failure, written_whole
from povkit.io.video import VideoReader

THUMBNAIL_WIDTH = 320


def shot_clips(shots: ShotList) -> list[SourceClip]:
    """Every shot as a named piece of its source file, with the dissolve it begins with."""
    stem = Path(shots.info.path).stem
    into = {b.frame: b.span for b in shots.boundaries if b.kind == "dissolve" and b.span}
    clips = []
    for number, (first, end) in enumerate(shots.shot_ranges, start=1):
        dissolve = None
        if first in into:
            blend_first, blend_last = into[first]
            cut = shots.seconds(first)
            dissolve = (cut - shots.seconds(blend_first), shots.seconds(blend_last + 1) - cut)
        clips.append(
            SourceClip(
                name=f"{stem} shot {number:03d}",
                media=shots.info.path,
                start_s=shots.seconds(first),
                end_s=shots.seconds(end),
                media_duration_s=shots.end_s,
                dissolve_in_s=dissolve,
            )
        )
    return clips


def write_edit(shots: ShotList, path: str | os.PathLike) -> Path:
    """The shots back to back as a timeline (.otio, .edl or .xml by the file name)."""
    clips = shot_clips(shots)
    timeline = build_timeline(Path(shots.info.path).stem, clips, edit_rate(shots.info))
    return write_timeline(timeline, path)


def write_csv(shots: ShotList, path: str | os.PathLike) -> Path:
    """One row per shot: number, frames, times in seconds, and how it began."""
    path = Path(path)
    kinds = {b.frame: b for b in shots.boundaries}
    with written_whole(path) as partial, partial.open("w", newline="") as out:
        table = csv.writer(out)
        table.writerow(["shot", "first_frame", "end_frame", "start_s", "end_s", "kind", "score"])
        for number, (first, end) in enumerate(shots.shot_ranges, start=1):
            boundary = kinds.get(first)
            table.writerow(
                [
                    number,
                    first,
                    end,
                    f"{shots.seconds(first):.6f}",
                    f"{shots.seconds(end):.6f}",
                    boundary.kind if boundary else "start",
                    f"{boundary.score:.4f}" if boundary else "",
                ]
            )
    return path


def write_thumbnails(shots: ShotList, folder: str | os.PathLike) -> list[Path]:
    """A JPEG of the middle frame of every shot, ``shot_001.jpg`` on, in one more decode pass,
    shown as a player shows it (pixel aspect and display rotation applied). Thumbnails written
    before a failure or an interruption are removed again."""
    folder = Path(folder)
    folder.mkdir(exist_ok=True)
    info = shots.info
    wanted = {(first + end - 1) // 2: n for n, (first, end) in enumerate(shots.shot_ranges, 1)}
    height = round(THUMBNAIL_WIDTH * info.height / info.display_width)
    with removed_on_failure() as written, VideoReader(info.path, info) as reader:
        for index, frame in enumerate(reader.frames()):
            number = wanted.get(index)
            if number is None:
                continue
            picture = cv2.resize(
                frame.to_ndarray(format="bgr24"),
                (THUMBNAIL_WIDTH, height),
                interpolation=cv2.INTER_AREA,
            )
            target = folder / f"shot_{number:03d}.jpg"
            with written_whole(target) as partial:
                if not cv2.imwrite(str(partial), np.rot90(picture, info.rotation // 90)):
                    raise UsageError(f"{target}: could not write the thumbnail here")
            written.append(target)
            if len(written) == len(wanted):
                break
    return written
