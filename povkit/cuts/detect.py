"""Find the shots of a video: decode once into small frames, measure change, detect boundaries."""

from __future__ import annotations

import functools
import os
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field

import cv2
import numpy as np

from povkit.cuts.detectors import Boundary, ShotDetector, make_detector
from povkit.cuts.signals import FrameScorer, FrameSignals, SignalMeter
from povkit.errors import InputError
from povkit.io.video import VideoReader, yuv420_planes
from povkit.types import FrameTimes, VideoInfo

_IN_FLIGHT = 8
"""Decoded frames that may wait for the measuring thread (bounds memory to a few frames)."""
ANALYSIS_WIDTH = 160
"""Width in pixels of the frames that changes are measured on: enough for structure, cheap."""


@dataclass(frozen=True, eq=False)
class ShotList:
    """The shots of one video: boundaries in decode order with the timing to place them."""

    info: VideoInfo
    times: FrameTimes
    """PTS of every decoded frame, so frame indices convert to exact times."""
    boundaries: list[Boundary]
    detector: str
    signals: FrameSignals = field(repr=False)

    @property
    def cuts(self) -> list[int]:
        """Decode-order index of the first frame of every shot after the first."""
        return [b.frame for b in self.boundaries]

    @property
    def shot_ranges(self) -> list[tuple[int, int]]:
        """(first frame, one past the last frame) of every shot."""
        edges = [0, *self.cuts, len(self.times)]
        return list(zip(edges[:-1], edges[1:], strict=False))

    @functools.cached_property
    def frame_seconds(self) -> np.ndarray:
        """Start of every decoded frame in seconds since the first, and where the last ends.

        At a constant rate that is the frame index over the rate: what an editor counts, and
        right even where a container stamps frames out of order (B-frames in AVI). At a
        variable rate it is the frame's own PTS."""
        n = len(self.times)
        if not self.info.variable_frame_rate or n < 2:
            return np.arange(n + 1) / float(self.info.average_fps)
        seconds = self.times.seconds
        return np.r_[seconds, seconds[-1] + np.median(np.diff(seconds))]

    def seconds(self, frame: int) -> float:
        """Time of decoded frame ``frame`` in seconds since the first (``len`` is the end)."""
        return float(self.frame_seconds[frame])

    @property
    def end_s(self) -> float:
        """Where the last frame ends."""
        return float(self.frame_seconds[-1])

    @property
    def fps(self) -> float:
        """Average frame rate of the file."""
        return float(self.info.average_fps)

    def to_dict(self) -> dict:
        return {
            "input": self.info.path,
            "detector": self.detector,
            "frames": len(self.times),
            "fps": round(self.fps, 6),
            "variable_frame_rate": self.info.variable_frame_rate,
            "first_pts_s": round(self.info.first_pts_s, 6),
            "cuts": self.cuts,
            "boundaries": [
                {
                    "frame": b.frame,
                    "time": round(self.seconds(b.frame), 6),
                    "kind": b.kind,
                    "score": round(b.score, 4),
                    **({"start_frame": b.span[0], "end_frame": b.span[1]} if b.span else {}),
                }
                for b in self.boundaries
            ],
            "shots": [
                {
                    "first_frame": first,
                    "end_frame": end,
                    "start": round(self.seconds(first), 6),
                    "end": round(self.seconds(end), 6),
                }
                for first, end in self.shot_ranges
            ],
        }


def small_yuv(planes: list[np.ndarray], width: int = ANALYSIS_WIDTH) -> np.ndarray:
    """(h, width, 3) YUV picture shrunk by area averaging from full-size Y, U, V planes."""
    luma = planes[0]
    height = max(8, round(width * luma.shape[0] / luma.shape[1]))
    return cv2.merge([_shrink(p, width, height) for p in planes])


def _shrink(plane: np.ndarray, width: int, height: int) -> np.ndarray:
    """Area-average ``plane`` down to (height, width): exact halvings first (OpenCV's fast
    path, 15x quicker than one large step), then one last small step."""
    while plane.shape[1] >= 2 * width and plane.shape[0] >= 2 * height:
        half = (plane.shape[1] // 2, plane.shape[0] // 2)
        plane = cv2.resize(plane, half, interpolation=cv2.INTER_AREA)
    if plane.shape[:2] == (height, width):
        return plane
    return cv2.resize(plane, (width, height), interpolation=cv2.INTER_AREA)


def measure_signals(
    path: str | os.PathLike,
    *,
    info: VideoInfo | None = None,
    width: int = ANALYSIS_WIDTH,
    on_frame: Callable[[], None] | None = None,
    scorer: FrameScorer | None = None,
) -> tuple[FrameSignals, FrameTimes, VideoInfo]:
    """Decode ``path`` once and measure how each frame differs from the one before (and what
    ``scorer``, a learned model, makes of it).

    Measuring runs on a worker thread while the next frames decode (OpenCV and FFmpeg both
    release the GIL), at most ``_IN_FLIGHT`` frames behind."""
    meter = SignalMeter(scorer)
    pts: list[int] = []

    def measure(frame) -> None:
        meter.add(small_yuv(yuv420_planes(frame), width))

    with VideoReader(path, info) as reader, ThreadPoolExecutor(max_workers=1) as worker:
        pending: deque[Future] = deque()
        for frame in reader.frames():
            pts.append(frame.pts)
            pending.append(worker.submit(measure, frame))
            if len(pending) > _IN_FLIGHT:
                pending.popleft().result()
            if on_frame:
                on_frame()
        for job in pending:
            job.result()
        info = reader.info
        reader.report.warn_if_damaged(info)
    if not pts:
        raise InputError(f"{path}: no decodable video frames (file damaged or codec unsupported)")
    return meter.result(), FrameTimes(np.array(pts, dtype=np.int64), info.time_base), info


def detect_shots(
    path: str | os.PathLike,
    *,
    detector: str | ShotDetector = "pov",
    info: VideoInfo | None = None,
    on_frame: Callable[[], None] | None = None,
    **params,
) -> ShotList:
    """Shot boundaries of ``path`` found by ``detector``: a detector, or the name of one in
    DETECTORS built with ``params``."""
    method = make_detector(detector, **params) if isinstance(detector, str) else detector
    scorer = method.scorer()
    signals, times, info = measure_signals(path, info=info, on_frame=on_frame, scorer=scorer)
    fps = _measured_rate(times) or float(info.average_fps)
    return ShotList(info, times, method.detect(signals, fps), method.name, signals)


def _measured_rate(times: FrameTimes) -> float:
    seconds = times.seconds
    if len(seconds) < 2 or seconds[-1] <= 0:
        return 0.0
    return (len(seconds) - 1) / float(seconds[-1])
