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

import math
from dataclasses import dataclass

import numpy as np

from povkit.filters import running_mean
from povkit.types import CameraPath, ImuSamples

HIGH_PASS_S = 0.5
"""Motion slower than this (moving-average window) is left out of the comparison."""
TRUSTED_CORRELATION = 0.6
"""Below this correlation after sync, the gyro does not explain the picture."""
IN_CAMERA_SETTING = "the camera's settings say its electronic stabilization (HyperSmooth) was on"
SHAKE_RAD_S = 0.05
"""Fast turning (rad/s RMS) below which a camera counts as still for the sync."""
DRIFT_MIN_S = 20.0
"""Clips at least this long get their clock's drift: a line through the offsets of pieces."""
DRIFT_PIECE_S = 5.0
"""Measured stretches longer than this are cut into pieces about this long for the drift."""
SPAN_S = 1.0
"""Seconds of picture measured at each sync point of a long clip."""
SPAN_EVERY_S = 20.0
"""A long clip gets a sync point per this many seconds (at least ``MIN_SPANS``)..."""
MIN_SPANS = 3
SPANS_SHARE = 0.5
"""...unless they would cover more than this share of it: then the whole clip is measured."""


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
    """``signal`` less its moving average over ``window`` frames (frames along axis -2)."""
    return signal - running_mean(signal, window, axis=-2)


def _high_pass_window(times: np.ndarray) -> int:
    """Samples (odd, at least 3) in ``HIGH_PASS_S`` of a series sampled at ``times``."""
    rate = (len(times) - 1) / max(float(times[-1] - times[0]), 1e-9)
    return max(3, int(round(HIGH_PASS_S * rate)) | 1)


def _integral(values: np.ndarray, times: np.ndarray) -> np.ndarray:
    """The running integral of ``values`` (samples along axis 0) over ``times``, by trapezoids,
    0 at the first sample."""
    steps = 0.5 * (values[1:] + values[:-1]) * np.diff(times).reshape(-1, *[1] * (values.ndim - 1))
    return np.concatenate([np.zeros_like(values[:1]), np.cumsum(steps, axis=0)])


def _runs(rows: np.ndarray, window: int) -> list[slice]:
    """Stretches of frames that ``rows`` (sorted frame indices, none of them 0) cover, split
    where ``window`` or more frames are missing: the few-second spans of a sync-point pass
    (``povkit.motion.shift``), whereas a few bridged frames within a span are filtered through."""
    if not len(rows):
        return []
    cuts = np.flatnonzero(np.diff(rows) > window)
    starts, ends = rows[np.r_[0, cuts + 1]], rows[np.r_[cuts, len(rows) - 1]] + 1
    return [slice(int(a), int(b)) for a, b in zip(starts, ends, strict=True)]


def _high_pass_runs(signal: np.ndarray, runs: list[slice], rows: np.ndarray, window: int):
    """``signal`` (frames along axis -2) high-passed over each of ``runs`` on its own, at
    ``rows``."""
    return np.concatenate(
        [_high_pass(signal[..., run, :], window)[..., _within(rows, run), :] for run in runs],
        axis=-2,
    )


def _within(rows: np.ndarray, run: slice) -> np.ndarray:
    """The ``rows`` in ``run``, counted from its start."""
    return rows[(rows >= run.start) & (rows < run.stop)] - run.start


CHUNK_VALUES = 2_000_000
"""Offsets are scored together in batches of about this many values (frames x offsets)."""


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
        self.window = _high_pass_window(self.times)
        self.rows = rows
        self.runs = _runs(rows, self.window)
        self.picture = _high_pass_runs(visual.steps[:, :2], self.runs, rows, self.window)

    def turns(self, offsets_s: np.ndarray) -> np.ndarray:
        """(offsets, rows, 2): the content motion the turns give at each offset, high-passed;
        worked out on the runs' frames only (a few seconds of a long clip at sync points)."""
        offsets = np.asarray(offsets_s, dtype=float)[:, None]
        parts = []
        for run in self.runs:  # each run's steps start from the frame before it
            at = self.times[run.start - 1 : run.stop][None, :] + offsets
            yaw, pitch = (np.interp(at, self.turn_times, self.turned[:, axis]) for axis in (0, 1))
            content = np.stack(
                [-np.diff(yaw, axis=1), self.aspect * np.diff(pitch, axis=1)], axis=-1
            )
            parts.append(_high_pass(content, self.window)[:, _within(self.rows, run), :])
        return np.concatenate(parts, axis=1)

    def correlations(self, offsets_s: np.ndarray) -> np.ndarray:
        """Correlation of the picture's steps with the turns at each of ``offsets_s``."""
        chunk = max(1, CHUNK_VALUES // max(sum(run.stop - run.start for run in self.runs), 1))
        scores = []
        picture_energy = (self.picture**2).sum()
        for start in range(0, len(offsets_s), chunk):
            turns = self.turns(offsets_s[start : start + chunk])
            norm = np.sqrt((turns**2).sum(axis=(1, 2)) * picture_energy)
            cross = (turns * self.picture).sum(axis=(1, 2))
            scores.append(np.where(norm > 0, cross / np.maximum(norm, 1e-300), 0.0))
        return np.concatenate(scores)

    def correlation(self, offset_s: float) -> float:
        return float(self.correlations(np.array([offset_s]))[0])

    def focal(self, offset_s: float) -> float:
        turns = self.turns(np.array([offset_s]))[0]
        return float((turns * self.picture).sum() / max((turns**2).sum(), 1e-12))

    def peak(self, center: float, half_width: float, step: float) -> tuple[float, float]:
        """Best offset on a grid around ``center``, refined by a parabola through its top."""
        grid = center + np.arange(-half_width, half_width + step / 2, step)
        scores = self.correlations(grid)
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
    turned = _integral(imu.gyro[:, :2], imu.times)
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
    offsets, centres, weights = [], [], []
    for piece in _drift_pieces(rows, matcher.times, matcher.window):
        at, score = _gyro_matcher(imu, visual, readout_s, piece, aspect).peak(offset, 0.05, 5e-4)
        offsets.append(at)
        centres.append(float(matcher.times[piece].mean()))
        weights.append(max(score, 0.0) * len(piece))
    if len(offsets) < 2 or np.ptp(centres) <= 0:
        return result
    drift, at_zero = np.polyfit(centres, offsets, 1, w=np.sqrt(weights))
    middle = float(np.average(centres, weights=weights))
    return SyncResult(
        float(at_zero + drift * middle), result.confidence, result.focal_px, float(drift), middle
    )


def _drift_pieces(rows: np.ndarray, times: np.ndarray, window: int) -> list[np.ndarray]:
    """``rows`` cut into the pieces whose offsets fit the clock's drift: each measured run
    (a sync point) on its own, and a run longer than ``DRIFT_PIECE_S`` into pieces about that
    long, since drift bends the offset within a long piece."""
    pieces = []
    for run in _runs(rows, window):
        inside = _within(rows, run) + run.start
        count = max(1, round(float(np.ptp(times[inside])) / DRIFT_PIECE_S))
        pieces += [piece for piece in np.array_split(inside, count) if len(piece) >= 10]
    return pieces


def sync_spans(
    times: np.ndarray, rates: np.ndarray, duration_s: float
) -> tuple[tuple[float, float], ...] | None:
    """Where the sync should measure the picture, as (start, end) seconds of video, for a
    camera that turned at ``rates`` (yaw and pitch, rad/s) at ``times``; None: the whole clip
    (a short one).

    Like Gyroflow's sync points, a long clip is synced on short stretches spread over it: in
    each of equal parts, the ``SPAN_S`` where the camera turned fastest (high-passed as the sync
    compares), since sharp shake is what pins the offset down (on the Karma drone clip, the
    correlation of 0.90 comes from its last second; elsewhere it is 0.2-0.3).
    """
    count = max(MIN_SPANS, math.ceil(duration_s / SPAN_EVERY_S))
    if count * SPAN_S > SPANS_SHARE * duration_s or len(times) < 2:
        return None
    cumulative = _integral((_fast(times, rates) ** 2).sum(axis=1), times)
    spans = []
    for part in range(count):
        starts = np.arange(
            part * duration_s / count, (part + 1) * duration_s / count - SPAN_S + 1e-9, 0.05
        )
        turned = np.interp(starts + SPAN_S, times, cumulative) - np.interp(
            starts, times, cumulative
        )
        best = float(starts[int(np.argmax(turned))])
        spans.append((best, best + SPAN_S))
    return tuple(spans)


def _fast(times: np.ndarray, rates: np.ndarray) -> np.ndarray:
    """``rates`` sampled at ``times`` with slow turning taken out, as the sync compares them."""
    return _high_pass(rates, _high_pass_window(times))


def shaken(imu: ImuSamples) -> bool:
    """Whether the gyro saw enough fast turning (above ``SHAKE_RAD_S`` RMS after the same
    high-pass as the sync) for a missing match with the picture to mean anything."""
    fast = _fast(imu.times, imu.gyro[:, :2])
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
