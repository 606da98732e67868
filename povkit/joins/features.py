"""Measure what the join planner scores: per-frame motion, blur, brightness and flatness at the
ends of each take, and how well frames of one take line up with frames of the next.

One decode pass per take keeps only small grey copies of the head and tail windows (a few
seconds each), so memory does not grow with the take.
"""

from __future__ import annotations

import os
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

import cv2
import numpy as np

from povkit.errors import InputError
from povkit.geometry import fill_crop
from povkit.io.video import ReadReport, VideoReader, luma
from povkit.motion.phase import phase_shift, windowed
from povkit.motion.visual import (
    TrackingOptions,
    coarse_shift,
    measure_grey_frames,
    measure_step,
)
from povkit.plan.joins import ViewMatch, WindowFeatures
from povkit.types import VideoInfo

FLAT_STD = 3.0
"""Grey-level standard deviation under which a cell of the frame counts as flat (covered)."""
_CELL = 16
_THUMB_WIDTH = 96
"""Width of the thumbnails compared across takes: coarse views are what must line up."""
_MATCH_FLOOR, _MATCH_FULL = 0.55, 0.9
"""Unrelated pictures reach about 0.55 by chance (the best of every shift; measured on takes of
one forest walk 10 s apart), the same view five frames on 0.75-0.95."""


@dataclass(frozen=True)
class TakeWindows:
    """A take's length and the grey frames and features of its first and last frames."""

    info: VideoInfo
    frame_count: int
    head: WindowFeatures
    tail: WindowFeatures
    head_greys: list[np.ndarray]
    tail_greys: list[np.ndarray]
    report: ReadReport


def measure_take(
    path: str | os.PathLike,
    *,
    window_frames: int,
    size: tuple[int, int],
    fps: float,
    info: VideoInfo | None = None,
    options: TrackingOptions | None = None,
    on_frame: Callable[[], None] | None = None,
) -> TakeWindows:
    """Decode ``path`` once; measure its first and last ``window_frames`` frames at ``size``
    (the analysis size of the output, so every take is measured in the same pixels)."""
    options = options or TrackingOptions()
    head: list[np.ndarray] = []
    tail: deque[np.ndarray] = deque(maxlen=window_frames)
    count = 0
    with VideoReader(path, info) as reader:
        info = reader.info
        crop = fill_crop((info.width, info.height), float(info.sample_aspect), size[0] / size[1])
        for frame in reader.frames():
            grey = cv2.resize(luma(frame)[crop], size, interpolation=cv2.INTER_AREA)
            if count < window_frames:
                head.append(grey)
            tail.append(grey)
            count += 1
            if on_frame:
                on_frame()
        info, report = reader.info, reader.report
    if count < 2:
        raise InputError(f"{path}: only {count} decodable frame(s); a take needs at least 2")
    tail_greys = list(tail)
    return TakeWindows(
        info=info,
        frame_count=count,
        head=window_features(head, np.arange(len(head)), fps, options),
        tail=window_features(tail_greys, np.arange(count - len(tail_greys), count), fps, options),
        head_greys=head,
        tail_greys=tail_greys,
        report=report,
    )


def window_features(
    greys: list[np.ndarray], frames: np.ndarray, fps: float, options: TrackingOptions
) -> WindowFeatures:
    """Motion, sharpness, brightness and flatness of consecutive grey frames."""
    height, width = greys[0].shape
    steps, valid, _ = measure_grey_frames(greys, options, (width, height))
    shift = steps[:, :2].copy()
    for k in np.flatnonzero(~valid[1:]) + 1:  # a whip pan LK cannot follow: phase correlation
        shift[k] = coarse_shift(greys[k - 1], greys[k])
    if len(shift) > 1:
        shift[0] = shift[1]
    return WindowFeatures(
        frames=np.asarray(frames, dtype=np.int64),
        velocity=shift / width * fps,
        sharpness=np.array([cv2.Laplacian(g, cv2.CV_32F).var() for g in greys]),
        brightness=np.array([g.mean() / 255.0 for g in greys]),
        occlusion=np.array([_flat_share(g) for g in greys]),
    )


def _flat_share(grey: np.ndarray) -> float:
    """Share of the frame in cells with almost no texture (a hand, a wall, the lens cap)."""
    h, w = (grey.shape[0] // _CELL) * _CELL, (grey.shape[1] // _CELL) * _CELL
    if h == 0 or w == 0:
        return 0.0
    cells = grey[:h, :w].reshape(h // _CELL, _CELL, w // _CELL, _CELL).astype(np.float32)
    return float(np.mean(cells.std(axis=(1, 3)) < FLAT_STD))


def match_views(a_greys: list[np.ndarray], b_greys: list[np.ndarray]) -> ViewMatch:
    """How well, and by what shift (analysis pixels), each A view lines up with each B view.

    Thumbnails are phase-correlated for the shift; the score is their normalised correlation
    where they overlap after it (unrelated pictures score near 0, the same view near 1).
    """
    height, width = a_greys[0].shape
    size = (_THUMB_WIDTH, max(8, round(height * _THUMB_WIDTH / width)))
    ta, tb = _thumbnails(a_greys, size), _thumbnails(b_greys, size)
    wa, wb = [windowed(t) for t in ta], [windowed(t) for t in tb]
    score = np.zeros((len(ta), len(tb)))
    params = np.zeros((len(ta), len(tb), 4))
    scale = width / size[0]
    for i, a in enumerate(ta):
        for j, b in enumerate(tb):
            dx, dy, _ = phase_shift(wa[i], wb[j])
            score[i, j] = _overlap_correlation(a, b, round(dx), round(dy))
            params[i, j, :2] = dx * scale, dy * scale
    score = np.clip((score - _MATCH_FLOOR) / (_MATCH_FULL - _MATCH_FLOOR), 0, 1)
    params[score == 0] = 0  # unrelated views: no warp
    return ViewMatch(score=score, params=params)


def _thumbnails(greys: list[np.ndarray], size: tuple[int, int]) -> list[np.ndarray]:
    """Small high-passed float copies: the shading of a scene matches too easily by chance,
    its detail does not."""
    thumbs = [cv2.resize(g, size, interpolation=cv2.INTER_AREA).astype(np.float32) for g in greys]
    return [t - cv2.GaussianBlur(t, (0, 0), 3) for t in thumbs]


def _overlap_correlation(a: np.ndarray, b: np.ndarray, dx: int, dy: int) -> float:
    """Normalised correlation of ``a`` moved by (dx, dy) with ``b`` where they overlap; 0 when
    they overlap on less than half the frame."""
    height, width = a.shape
    if abs(dx) > width // 2 or abs(dy) > height // 2:
        return 0.0
    pa = a[max(0, -dy) : height - max(0, dy), max(0, -dx) : width - max(0, dx)]
    pb = b[max(0, dy) : height - max(0, -dy), max(0, dx) : width - max(0, -dx)]
    pa, pb = pa - pa.mean(), pb - pb.mean()
    norm = float(np.sqrt((pa * pa).sum() * (pb * pb).sum()))
    return float((pa * pb).sum() / norm) if norm > 0 else 0.0


def refine_alignment(
    a_grey: np.ndarray, b_grey: np.ndarray, coarse: np.ndarray, options: TrackingOptions
) -> np.ndarray:
    """Similarity (dx, dy, roll, log zoom in analysis pixels) from A's frame onto B's: tracked
    corners where they agree, else the coarse phase-correlation shift."""
    step = measure_step(a_grey, b_grey, options)
    return step.params if step.valid else np.asarray(coarse, dtype=np.float64)
