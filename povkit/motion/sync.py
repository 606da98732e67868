"""Gyro-to-video time sync: find the offset at which the gyro's rotation explains the picture.

For a candidate offset the gyro rates, integrated over each frame step, give a (yaw, pitch)
turn (small-angle: frame-to-frame turns are small, and the scan needs thousands of them), which
moves the content by (-f yaw, f aspect pitch) (``aspect``: a lens profile's fy / fx, else 1).
The picture's measured steps are compared with these by a normalized cross-correlation of both
axes together, after taking out slow motion (a moving average) so that shake, which is sharp in
time, sets the peak. A coarse scan finds the peak, a
fine scan and a parabola through its top give sub-millisecond offsets. The correlation at the
peak is the confidence, and the least-squares scale is the lens's central focal length.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.ndimage import uniform_filter1d

from povkit.types import CameraPath, ImuSamples

HIGH_PASS_S = 0.5
"""Motion slower than this (moving-average window) is left out of the comparison."""
TRUSTED_CORRELATION = 0.6
"""Below this correlation after sync, the gyro does not explain the picture."""
IN_CAMERA_SETTING = "the camera's settings say its electronic stabilization (HyperSmooth) was on"
SHAKE_RAD_S = 0.05
"""Fast turning (rad/s RMS) below which a camera counts as still for the sync."""
DRIFT_MIN_S = 20.0
"""Clips at least this long get an offset at each end, for slow clock drift."""


@dataclass(frozen=True)
class SyncResult:
    """The gyro clock runs ``offset_s`` (+ ``drift`` seconds per second after ``reference_s``)
    ahead of the video's; ``confidence`` is the correlation of gyro and picture motion there."""

    offset_s: float
    confidence: float
    focal_px: float
    drift: float = 0.0
    reference_s: float = 0.0

    def offsets_at(self, times: np.ndarray) -> np.ndarray:
        """Offset at each video time, drift included."""
        return self.offset_s + self.drift * (np.asarray(times) - self.reference_s)

    @property
    def trusted(self) -> bool:
        return self.confidence >= TRUSTED_CORRELATION


def _high_pass(signal: np.ndarray, window: int) -> np.ndarray:
    return signal - uniform_filter1d(signal, window, axis=0, mode="nearest")


class _Matcher:
    """Correlation of picture steps with (yaw, pitch) turns as a function of the offset: ``turned``
    is how far the camera had turned (radians, cumulative) at each of ``turn_times``."""

    def __init__(
        self,
        turn_times: np.ndarray,
        turned: np.ndarray,
        visual: CameraPath,
        readout_s: float,
        rows: np.ndarray,
        aspect: float = 1.0,
    ) -> None:
        self.turn_times = turn_times
        self.turned = turned
        self.aspect = aspect
        self.times = visual.times.seconds + readout_s / 2
        rate = (len(self.times) - 1) / max(self.times[-1] - self.times[0], 1e-9)
        self.window = max(3, int(round(HIGH_PASS_S * rate)) | 1)
        self.rows = rows
        self.picture = _high_pass(visual.steps[:, :2], self.window)[rows]

    def turns(self, offset_s: float) -> np.ndarray:
        at = self.times + offset_s
        turned = [np.interp(at, self.turn_times, self.turned[:, axis]) for axis in (0, 1)]
        content = np.column_stack(
            [-np.diff(turned[0], prepend=0), self.aspect * np.diff(turned[1], prepend=0)]
        )
        return _high_pass(content, self.window)[self.rows]

    def correlation(self, offset_s: float) -> float:
        turns = self.turns(offset_s)
        norm = np.sqrt((turns**2).sum() * (self.picture**2).sum())
        return float((turns * self.picture).sum() / norm) if norm > 0 else 0.0

    def focal(self, offset_s: float) -> float:
        turns = self.turns(offset_s)
        return float((turns * self.picture).sum() / max((turns**2).sum(), 1e-12))

    def peak(self, center: float, half_width: float, step: float) -> tuple[float, float]:
        """Best offset on a grid around ``center``, refined by a parabola through its top."""
        grid = center + np.arange(-half_width, half_width + step / 2, step)
        scores = np.array([self.correlation(t) for t in grid])
        best = int(np.argmax(scores))
        if 0 < best < len(grid) - 1:
            left, top, right = scores[best - 1 : best + 2]
            curve = left - 2 * top + right
            shift = 0.5 * (left - right) / curve if curve < 0 else 0.0
            return float(grid[best] + shift * step), float(top)
        return float(grid[best]), float(scores[best])


def _gyro_matcher(
    imu: ImuSamples, visual: CameraPath, readout_s: float, rows: np.ndarray, aspect: float
) -> _Matcher:
    """A matcher for the gyro's turns: its rates integrated over time."""
    rates = imu.gyro[:, :2]
    steps = 0.5 * (rates[1:] + rates[:-1]) * np.diff(imu.times)[:, None]  # trapezoids
    turned = np.concatenate([np.zeros((1, 2)), np.cumsum(steps, axis=0)])
    return _Matcher(imu.times, turned, visual, readout_s, rows, aspect)


def _rows(visual: CameraPath) -> np.ndarray:
    """Frame steps measured on both sides (row 0 has no step)."""
    valid = visual.valid & np.roll(visual.valid, 1)
    valid[0] = False
    return np.flatnonzero(valid)


def sync_at(
    imu: ImuSamples,
    visual: CameraPath,
    offset_s: float,
    *,
    readout_s: float = 0.0,
    aspect: float = 1.0,
) -> SyncResult:
    """Sync figures at a given offset (``--gyro-offset``): the confidence and scale there."""
    rows = _rows(visual)
    if len(rows) < 10:
        return SyncResult(offset_s, 0.0, 0.0)
    matcher = _gyro_matcher(imu, visual, readout_s, rows, aspect)
    return SyncResult(offset_s, max(0.0, matcher.correlation(offset_s)), matcher.focal(offset_s))


def match_frames(turned: np.ndarray, visual: CameraPath, aspect: float = 1.0) -> SyncResult:
    """Figures of turns timed to the frames already (a camera's own orientation records): how
    well ``turned``, the cumulative (yaw, pitch) in radians at each frame of ``visual``, explains
    the picture's steps, and the lens scale; no offset is searched."""
    rows = _rows(visual)
    if len(rows) < 10:
        return SyncResult(0.0, 0.0, 0.0)
    matcher = _Matcher(visual.times.seconds, turned, visual, 0.0, rows, aspect)
    return SyncResult(0.0, max(0.0, matcher.correlation(0.0)), matcher.focal(0.0))


def estimate_sync(
    imu: ImuSamples,
    visual: CameraPath,
    *,
    search_s: float = 1.0,
    readout_s: float = 0.0,
    aspect: float = 1.0,
) -> SyncResult:
    """Offset of the gyro clock against the video (within +-``search_s``), with confidence.

    ``imu`` should be bias-corrected: a constant bias only adds a constant to every turn, which
    the high-pass removes anyway.
    """
    rows = _rows(visual)
    if len(rows) < 10:
        return SyncResult(0.0, 0.0, 0.0)
    matcher = _gyro_matcher(imu, visual, readout_s, rows, aspect)
    coarse, _ = matcher.peak(0.0, search_s, 0.004)
    offset, confidence = matcher.peak(coarse, 0.006, 0.0005)
    result = SyncResult(offset, max(0.0, confidence), matcher.focal(offset))
    span = matcher.times[-1] - matcher.times[0]
    if span < DRIFT_MIN_S or not result.trusted:
        return result
    halves = np.array_split(rows, 2)
    ends = [
        _gyro_matcher(imu, visual, readout_s, half, aspect).peak(offset, 0.05, 0.0005)[0]
        for half in halves
    ]
    centres = [float(matcher.times[half].mean()) for half in halves]
    drift = (ends[1] - ends[0]) / (centres[1] - centres[0])
    middle = float(np.mean(centres))
    return SyncResult(float(np.mean(ends)), result.confidence, result.focal_px, drift, middle)


def shaken(imu: ImuSamples) -> bool:
    """Whether the gyro saw enough fast turning (above ``SHAKE_RAD_S`` RMS after the same
    high-pass as the sync) for a missing match with the picture to mean anything."""
    rate = (len(imu.times) - 1) / max(float(imu.times[-1] - imu.times[0]), 1e-9)
    window = max(3, int(round(HIGH_PASS_S * rate)) | 1)
    fast = _high_pass(imu.gyro[:, :2], window)
    return float(np.sqrt((fast**2).sum(axis=1).mean())) > SHAKE_RAD_S


def in_camera_stabilization(imu: ImuSamples, sync: SyncResult) -> str | None:
    """Why the picture no longer follows the gyro (stabilized in camera), or None if it does
    (or if the camera hardly moved, so that nothing can be told)."""
    if imu.stabilized_in_camera:
        return IN_CAMERA_SETTING
    if not sync.trusted and shaken(imu) and not imu.sidecar:  # a log beside it: see source.py
        return (
            f"picture motion does not follow the gyro (correlation {sync.confidence:.2f} at "
            f"best, under {TRUSTED_CORRELATION})"
        )
    return None
