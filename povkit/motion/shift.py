"""Global picture shift per frame by phase correlation: the cheap picture motion a gyro sync needs.

Syncing the gyro compares horizontal and vertical image motion with the gyro's turns, so it
needs neither roll nor zoom nor outlier-robust tracking: one phase correlation of small grey
frames per step (a fraction of a millisecond) instead of corner tracking, and the pass costs
little more than decoding.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Sequence

import av
import cv2
import numpy as np

from povkit.errors import InputError
from povkit.frame_pool import measure_pairs
from povkit.io.video import ReadReport, VideoReader, luma_frames, packet_times
from povkit.motion.phase import MIN_RESPONSE, phase_shift, windowed
from povkit.motion.visual import analysis_size, camera_path_from_steps
from povkit.types import CameraPath, FrameTimes, VideoInfo

SHIFT_WIDTH = 256
"""Analysis width in square pixels: on the Karma clip, gyro and shifts correlate 0.89 at 256 px
against 0.65 at 128 px, for the same time (decoding dominates)."""


def measure_shifts(
    path: str | os.PathLike,
    *,
    info: VideoInfo | None = None,
    width: int = SHIFT_WIDTH,
    workers: int = 2,
    on_frame: Callable[[], None] | None = None,
    spans: Sequence[tuple[float, float]] | None = None,
) -> tuple[CameraPath, ReadReport]:
    """Decode ``path`` once and measure the content shift of every frame step (no roll/zoom);
    downscaling and phase correlation run on ``workers`` threads beside the decoder.

    With ``spans`` ((start, end) seconds from the first frame), only the frames in them are
    decoded, where the container gives every frame's time without decoding
    (``povkit.io.video.packet_times``): the path covers every frame, and the steps outside the
    spans are invalid. Otherwise the whole clip is measured.
    """
    with VideoReader(path, info, for_analysis=True) as reader:
        info = reader.info
        size = analysis_size(info, width)
        times = packet_times(path, info) if spans else None

        def downscale(grey: np.ndarray) -> np.ndarray:
            return windowed(cv2.resize(grey, size, interpolation=cv2.INTER_AREA))

        def measured(frames: Iterator[av.VideoFrame] | None) -> tuple[list[int], list[tuple]]:
            pts: list[int] = []
            grey = luma_frames(reader, pts, on_frame, frames)
            shifts = list(measure_pairs(grey, downscale, phase_shift, workers=workers))
            return pts, shifts

        if times is None:
            pts, shifts = measured(None)
            if not pts:
                raise InputError(
                    f"{path}: no decodable video frames (file damaged or codec unsupported)"
                )
            times = FrameTimes(np.array(pts, dtype=np.int64), info.time_base)
            steps, valid = np.zeros((len(pts), 4)), np.zeros(len(pts), dtype=bool)
            _record(steps, valid, np.arange(len(pts)), shifts)
            valid[0] = True
        else:
            steps, valid = np.zeros((len(times), 4)), np.zeros(len(times), dtype=bool)
            for start, end in spans:
                first, last = np.round(np.array([start, end]) / float(info.time_base))
                pts, shifts = measured(
                    reader.frames_between(int(times.pts[0] + first), int(times.pts[0] + last))
                )
                _record(steps, valid, times.rows_of(pts), shifts)
        report = reader.report
    scale = size[0] / info.display_width
    return camera_path_from_steps(steps, valid, times, info, scale), report


def _record(steps: np.ndarray, valid: np.ndarray, rows: np.ndarray, shifts: list[tuple]) -> None:
    """Store the shift into each of ``rows`` (frame indices of a run, -1: not a frame of the
    clip) from its predecessor in the run."""
    for (dx, dy, response), before, row in zip(shifts, rows[:-1], rows[1:], strict=True):
        if before >= 0 and row == before + 1:
            steps[row] = (dx, dy, 0.0, 0.0)
            valid[row] = response >= MIN_RESPONSE
