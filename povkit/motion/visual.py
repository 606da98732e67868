"""Camera motion from the picture: sparse corners, pyramidal Lucas-Kanade, RANSAC similarity.

Each frame-to-frame step is measured on a small grey copy of the frame in square pixels. A step
that cannot be measured (too few trustworthy tracks: darkness, blur, a hand over the lens, a cut)
is not an error: it is flagged invalid and bridged from its neighbours.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace

import cv2
import numpy as np

from povkit.errors import InputError
from povkit.frame_pool import measure_pairs
from povkit.geometry import frame_center, path_from_steps, similarity_params
from povkit.io.video import ReadReport, VideoReader, luma_frames
from povkit.motion.phase import phase_shift, windowed
from povkit.types import CameraPath, FrameTimes, VideoInfo


@dataclass(frozen=True)
class TrackingOptions:
    """How motion is measured; the defaults suit 240p-4K footage."""

    analysis_width: int = 256
    """Frames are downscaled to this width (square pixels) before tracking: LK is sub-pixel
    accurate, so 256 px keeps about 0.1 px precision at 640 px and costs ~2 ms a frame."""
    max_corners: int = 150
    forward_backward_px: float = 0.5
    """Tracks whose forward-then-backward position misses the start by more are dropped."""
    ransac_px: float = 0.7
    min_inliers: int = 10
    min_inlier_ratio: float = 0.25
    workers: int = 2
    """Frame pairs measured in parallel (OpenCV releases the GIL)."""

    def __post_init__(self) -> None:
        if self.analysis_width < 64:
            raise ValueError(f"analysis_width must be at least 64 px, got {self.analysis_width}")
        if not 0 < self.min_inlier_ratio < 1:
            raise ValueError(f"min_inlier_ratio must be in (0, 1), got {self.min_inlier_ratio}")


@dataclass(frozen=True)
class StepEstimate:
    """One measured frame-to-frame step: center shift (dx, dy), roll, log zoom, in analysis px."""

    params: np.ndarray
    inliers: int
    valid: bool
    still_share: float = 0.0
    """Share of tracked points that did not move at all (background of a still camera)."""


_LK = {
    "winSize": (11, 11),
    "maxLevel": 3,
    "criteria": (cv2.TERM_CRITERIA_EPS | cv2.TERM_CRITERIA_COUNT, 10, 0.03),
}
_NO_STEP = StepEstimate(np.zeros(4), 0, False)
STILL_PX = 0.15
"""A track that moved less than this (analysis pixels) between two frames did not move."""


def measure_step(
    previous: np.ndarray, current: np.ndarray, options: TrackingOptions
) -> StepEstimate:
    """Similarity motion of the content from ``previous`` to ``current`` (both grey, same size)."""
    height, width = previous.shape
    corners = cv2.goodFeaturesToTrack(
        previous,
        maxCorners=options.max_corners,
        qualityLevel=0.01,
        minDistance=max(3, width // 50),
        blockSize=5,
    )
    if corners is None or len(corners) < options.min_inliers:
        return _NO_STEP
    guess = coarse_shift(previous, current)
    if np.abs(guess).max() > 4:  # fast pan: start LK where the content went, not where it was
        start = (corners + guess.astype(np.float32)).astype(np.float32)
        tracked, status, _ = cv2.calcOpticalFlowPyrLK(
            previous, current, corners, start, flags=cv2.OPTFLOW_USE_INITIAL_FLOW, **_LK
        )
    else:
        tracked, status, _ = cv2.calcOpticalFlowPyrLK(previous, current, corners, None, **_LK)
    back, back_status, _ = cv2.calcOpticalFlowPyrLK(
        current, previous, tracked, corners.copy(), flags=cv2.OPTFLOW_USE_INITIAL_FLOW, **_LK
    )
    round_trip = np.linalg.norm((back - corners).reshape(-1, 2), axis=1)
    good = (status.ravel() == 1) & (back_status.ravel() == 1)
    good &= round_trip < options.forward_backward_px
    if good.sum() < options.min_inliers:
        return _NO_STEP
    src, dst = corners[good].reshape(-1, 2), tracked[good].reshape(-1, 2)
    still_share = float(np.mean(np.abs(dst - src).max(axis=1) < STILL_PX))
    matrix, inlier_mask = cv2.estimateAffinePartial2D(
        src,
        dst,
        method=cv2.RANSAC,
        ransacReprojThreshold=options.ransac_px,
        maxIters=500,
        confidence=0.99,
        refineIters=5,
    )
    if matrix is None:
        return _NO_STEP
    inliers = int(inlier_mask.sum())
    params = similarity_params(matrix, frame_center((width, height)))[0]
    plausible = abs(params[2]) < 0.35 and abs(params[3]) < 0.2
    valid = (
        plausible
        and inliers >= options.min_inliers
        and inliers >= options.min_inlier_ratio * len(src)
    )
    return StepEstimate(params, inliers, valid, still_share)


_COARSE = 4  # the coarse shift is measured at a quarter of the analysis size


def coarse_shift(previous: np.ndarray, current: np.ndarray) -> np.ndarray:
    """Global content shift by phase correlation on tiny frames: a start for LK in whip pans."""
    size = (previous.shape[1] // _COARSE, previous.shape[0] // _COARSE)
    a = windowed(cv2.resize(previous, size, interpolation=cv2.INTER_AREA))
    b = windowed(cv2.resize(current, size, interpolation=cv2.INTER_AREA))
    dx, dy, _ = phase_shift(a, b)
    return np.array([dx, dy]) * _COARSE


def bridge_invalid_steps(steps: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """Fill unmeasured steps by interpolating the measured ones: the camera keeps its pace."""
    steps = steps.copy()
    known = np.flatnonzero(valid)
    missing = np.flatnonzero(~valid)
    if len(missing) == 0:
        return steps
    if len(known) == 0:
        steps[:] = 0
        return steps
    for column in range(steps.shape[1]):
        steps[missing, column] = np.interp(missing, known, steps[known, column])
    return steps


def analysis_size(info: VideoInfo, analysis_width: int) -> tuple[int, int]:
    """Size of the grey analysis frames: square pixels, at most ``analysis_width`` wide."""
    scale = min(1.0, analysis_width / info.display_width)
    return max(16, round(info.display_width * scale)), max(16, round(info.height * scale))


def camera_path_from_steps(
    steps: np.ndarray, valid: np.ndarray, times: FrameTimes, info: VideoInfo, scale: float
) -> CameraPath:
    """Accumulate measured steps (analysis px) into a camera path in display pixels."""
    steps = bridge_invalid_steps(steps, valid)
    steps[:, :2] /= scale
    steps[0] = 0
    frame_size = (info.display_width, float(info.height))
    return CameraPath(
        times=times,
        params=path_from_steps(steps),
        valid=valid,
        frame_size=frame_size,
        source="visual",
    )


def measure_grey_frames(
    frames: Iterable[np.ndarray], options: TrackingOptions, size: tuple[int, int]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Steps, validity and still shares for grey frames, measured at ``size`` (row 0: the first
    frame), downscaled and tracked on a frame pool."""
    steps, valid, still = [np.zeros(4)], [True], [1.0]

    def downscale(grey: np.ndarray) -> np.ndarray:
        return cv2.resize(grey, size, interpolation=cv2.INTER_AREA)

    def measure(previous: np.ndarray, current: np.ndarray) -> StepEstimate:
        return measure_step(previous, current, options)

    for estimate in measure_pairs(frames, downscale, measure, workers=options.workers):
        steps.append(estimate.params)
        valid.append(estimate.valid)
        still.append(estimate.still_share)
    return np.array(steps), np.array(valid, dtype=bool), np.array(still)


def measure_visual_motion(
    path: str | os.PathLike,
    *,
    info: VideoInfo | None = None,
    options: TrackingOptions | None = None,
    on_frame: Callable[[], None] | None = None,
) -> tuple[CameraPath, ReadReport]:
    """Decode ``path`` once and measure how its camera moved, frame by frame."""
    options = options or TrackingOptions()
    with VideoReader(path, info) as reader:
        info = reader.info
        size = analysis_size(info, options.analysis_width)
        pts: list[int] = []

        steps, valid, still = measure_grey_frames(luma_frames(reader, pts, on_frame), options, size)
        report = reader.report
    if not pts:
        raise InputError(f"{path}: no decodable video frames (file damaged or codec unsupported)")
    times = FrameTimes(np.array(pts, dtype=np.int64), info.time_base)
    scale = size[0] / info.display_width
    path = camera_path_from_steps(steps, valid, times, info, scale)
    return replace(path, still_share=still), report
