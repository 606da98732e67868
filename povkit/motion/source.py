"""Which camera motion to use: the gyro's (synced to the picture), the picture's, or both.

The gyro path needs the picture only to find the clock offset and the lens scale, so these
are measured on a quick pass of global shifts (``motion.shift``), and on a long clip only at a
few sync points (``motion.sync.sync_spans``); the full visual pass runs only when the gyro is
off, missing or untrustworthy. A clip stabilized in camera no longer moves
as its gyro turns: its path comes from the camera's own orientation records (GoPro CORI and
IORI) where they match the picture's quick shifts, from the full visual pass otherwise. Every
fallback to the picture is one warning line that says why.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path

import numpy as np

from povkit.errors import UsageError, log
from povkit.filters import running_mean
from povkit.geometry import path_from_steps
from povkit.io.telemetry import TelemetryError, check_coverage, find_telemetry, read_telemetry
from povkit.motion.gyro import (
    Orientation,
    frame_rotations,
    gyro_camera_path,
    integrate_orientation,
    level_roll,
    picture_orientation,
    readout_motion,
    still_bias,
)
from povkit.motion.sync import (
    IN_CAMERA_SETTING,
    TRUSTED_CORRELATION,
    SyncResult,
    estimate_sync,
    in_camera_stabilization,
    match_frames,
    shaken,
    sync_at,
    sync_spans,
)
from povkit.types import CameraPath, ImuSamples, MotionEstimate, VideoInfo

SOURCES = ("auto", "gyro", "visual", "fused")
"""gyro: the gyro's rotation alone; fused: the gyro's, with the picture's slow shifts (travel
and parallax, which a gyro cannot see; every frame's shift must be measured for it, so a long
clip cannot be synced on sync points alone); auto: the gyro's when it is present and
trustworthy, else the picture's motion (visual). On the Karma drone clip the gyro alone scored
stability 0.649, fused 0.637, the picture 0.644. On a clip stabilized in camera, auto and gyro
take the camera's orientation records alone and fused adds the picture's slow shifts to them
(on the MAX walk: stability 0.783 alone, 0.748 fused, 0.750 from the picture)."""

SEARCH_S = 1.0
"""Gyro clock offsets up to this far either way are searched."""
ORIENTATION_SOURCE = "camera-orientation"
"""Source name of a path from the camera's own orientation records (clips stabilized in camera)."""
FUSION_WINDOW_S = 0.3
"""Fused paths take image shifts slower than this from the picture, the rest from the gyro
(on the Karma drone clip, 0.3 s scored stability 0.650 where 0.5-1 s and the gyro alone
scored 0.636-0.637 and the picture alone 0.643)."""

FOCAL_WIDTHS = (0.1, 10.0)
"""Focal lengths, in frame widths, a camera can have (150 to 6 degrees across); a sync that
fits one outside means the log's rates are off by a factor, e.g. degrees/s read as rad/s."""

Measure = Callable[[], CameraPath]
"""A pass over the picture: the full visual estimator."""
MeasureSpans = Callable[[Sequence[tuple[float, float]] | None], CameraPath]
"""The quick shift pass for the sync: over the given (start, end) seconds only, or all."""


MAX_READOUT_MS = 100.0
"""Longest sensor readout accepted: slow phone sensors read out in some 30-40 ms."""


def check_motion_options(
    *, gyro: str, source: str, readout_ms: float = 0.0, gyro_offset_ms: float | None = None
) -> None:
    """Validate ``--gyro``, ``--source``, ``--rolling-shutter`` and ``--gyro-offset`` before
    any decoding."""
    if source not in SOURCES:
        raise UsageError(f"source must be one of {', '.join(SOURCES)}, got {source!r}")
    if gyro not in ("auto", "off"):
        if Path(gyro).is_dir():
            raise UsageError(f"--gyro {gyro}: is a folder; give the telemetry file in it")
        if not Path(gyro).is_file():
            raise UsageError(f"--gyro {gyro}: no such telemetry file (or use auto / off)")
    if gyro == "off" and source in ("gyro", "fused"):
        raise UsageError(f"--source {source} needs the gyro; drop --gyro off")
    if not 0 <= readout_ms <= MAX_READOUT_MS:
        raise UsageError(
            f"--rolling-shutter is the sensor readout time, 0 (off) to {MAX_READOUT_MS:g} ms; "
            f"got {readout_ms:g}"
        )
    if gyro_offset_ms is not None and not math.isfinite(gyro_offset_ms):
        raise UsageError(f"--gyro-offset must be a number of milliseconds, got {gyro_offset_ms}")


def estimate_motion(
    video: str | Path,
    measure_visual: Measure,
    measure_shifts: MeasureSpans,
    *,
    gyro: str = "auto",
    source: str = "auto",
    gyro_offset_ms: float | None = None,
    readout_ms: float = 0.0,
    warn_without_telemetry: bool = False,
    info: VideoInfo | None = None,
    aspect: float = 1.0,
) -> MotionEstimate:
    """Camera motion of ``video`` (probed as ``info``) from the chosen ``source``: the gyro's,
    synced on the quick ``measure_shifts`` pass, or ``measure_visual``'s; ``aspect`` is the
    lens's vertical over horizontal focal length in display pixels."""
    check_motion_options(
        gyro=gyro, source=source, readout_ms=readout_ms, gyro_offset_ms=gyro_offset_ms
    )
    if gyro == "off" or source == "visual":
        return MotionEstimate(measure_visual(), "visual")
    try:
        imu = find_telemetry(video, info) if gyro == "auto" else read_telemetry(gyro)
    except TelemetryError as exc:
        return _visual_instead(measure_visual, f"{exc}")
    if imu is None:
        if warn_without_telemetry or source != "auto":
            return _visual_instead(measure_visual, f"{video}: no motion telemetry found")
        return MotionEstimate(measure_visual(), "visual")
    whole = source == "fused" or info is None  # fusion needs every frame's shift
    return _from_gyro(
        imu,
        measure_visual,
        measure_shifts,
        None if whole else info.duration_s,
        source,
        gyro_offset_ms,
        readout_ms / 1000,
        aspect,
    )


def _visual_instead(measure_visual: Measure, why: str, *notes: str) -> MotionEstimate:
    log.warning("%s; using the picture's motion instead", why)
    return MotionEstimate(measure_visual(), "visual", notes=notes)


def _from_gyro(
    imu: ImuSamples,
    measure_visual: Measure,
    measure_shifts: MeasureSpans,
    duration_s: float | None,
    source: str,
    offset_ms: float | None,
    readout_s: float,
    aspect: float,
) -> MotionEstimate:
    """The gyro's path, synced on the picture's shifts at the sync points of a clip
    ``duration_s`` long (``povkit.motion.sync.sync_spans``), or over the whole clip where it is
    short, where ``duration_s`` is None, or where the sync points do not match the gyro."""
    if imu.stabilized_in_camera:  # the file says so: no need to sync the gyro
        return _from_records(
            imu, measure_visual, measure_shifts, duration_s, source, aspect, IN_CAMERA_SETTING
        )
    imu = replace(imu, gyro=imu.gyro - still_bias(imu))
    spans = None if duration_s is None else sync_spans(imu.times, imu.gyro[:, :2], duration_s)
    quick = measure_shifts(spans)
    seconds = quick.times.seconds
    try:  # before any offset is known, the log must at least reach within the search range
        check_coverage(imu, seconds[0], seconds[-1], slack_s=SEARCH_S)
    except TelemetryError as exc:
        return _visual_instead(measure_visual, str(exc))

    def synced(quick: CameraPath) -> SyncResult:
        if offset_ms is not None:
            return sync_at(imu, quick, offset_ms / 1000, readout_s=readout_s, aspect=aspect)
        return estimate_sync(imu, quick, search_s=SEARCH_S, readout_s=readout_s, aspect=aspect)

    sync = synced(quick)
    if not sync.trusted and spans is not None:  # the sync points missed: try the whole clip
        spans, quick = None, measure_shifts(None)
        sync = synced(quick)
    figures = {
        "gyro_offset_ms": sync.offset_s * 1000,
        "sync_confidence": sync.confidence,
        "focal_px": sync.focal_px,
        "drift_ppm": sync.drift * 1e6,
        "sync_points": spans,
    }
    reason = in_camera_stabilization(imu, sync)
    if reason:
        measured = quick  # the whole clip's shifts: a sync that fails has measured them all
        return _from_records(
            imu, measure_visual, lambda _: measured, None, source, aspect, reason, figures
        )
    if not sync.trusted:
        if offset_ms is not None:
            why = (
                f"at --gyro-offset {offset_ms:g} ms the picture does not follow the gyro "
                f"(correlation {sync.confidence:.2f}); leave it out to find the offset"
            )
        elif imu.sidecar and shaken(imu):
            why = (
                f"the picture does not follow the gyro log (correlation {sync.confidence:.2f}): "
                "is it this clip's log, with its axes (orientation) right?"
            )
        else:
            why = f"too little shake to sync the gyro (correlation {sync.confidence:.2f})"
        return replace(_visual_instead(measure_visual, why), **figures)
    lens_widths = sync.focal_px / quick.frame_size[0]
    if not FOCAL_WIDTHS[0] <= lens_widths <= FOCAL_WIDTHS[1]:
        why = (
            f"the gyro turns the picture as a lens {lens_widths:.3g} frame widths long would, "
            "which no camera has: its rates are off by a factor (degrees/s read as rad/s?)"
        )
        return replace(_visual_instead(measure_visual, why), **figures)
    offsets = sync.offsets_at(seconds)
    try:
        check_coverage(imu, seconds[0] + offsets[0], seconds[-1] + offsets[-1])
    except TelemetryError as exc:
        return replace(_visual_instead(measure_visual, str(exc)), **figures)
    orientation = integrate_orientation(imu)
    path = gyro_camera_path(
        orientation,
        quick.times,
        quick.frame_size,
        focal_px=sync.focal_px,
        aspect=aspect,
        offset_s=offsets,
        readout_s=readout_s,
    )
    if source == "fused":
        path = fuse_paths(path, quick)
    roll = level_roll(imu)
    if roll is not None:
        roll = np.interp(seconds + offsets + readout_s / 2, imu.times, roll)
    rows = None
    if readout_s > 0:
        rows = readout_motion(orientation, seconds + offsets, readout_s, sync.focal_px, aspect)
    return MotionEstimate(path, path.source, level_roll=roll, rolling_shutter=rows, **figures)


def _from_records(
    imu: ImuSamples,
    measure_visual: Measure,
    measure_shifts: MeasureSpans,
    duration_s: float | None,
    source: str,
    aspect: float,
    reason: str,
    figures: dict | None = None,
) -> MotionEstimate:
    """Camera path of a clip stabilized in camera (``reason``), as its picture turns: from the
    camera's own orientation records where they are one per frame and match the picture's
    quick shifts (at sync points, as in :func:`_from_gyro`), else the picture's motion with one
    warning line (and the sync ``figures``)."""
    note = f"stabilized in camera: {reason}"

    def instead(why: str, figures: dict) -> MotionEstimate:
        estimate = _visual_instead(measure_visual, f"{note}; {why}", note)
        return replace(estimate, in_camera_stabilized=True, **figures)

    figures = figures or {}
    records = (imu.orientation_times, imu.camera_orientation, imu.image_orientation)
    if any(record is None for record in records):
        return instead("the file has no orientation records (CORI, IORI) to follow it", figures)
    spans = None
    if duration_s is not None:  # sync points where the picture turned fastest
        times = imu.orientation_times
        own = picture_orientation(imu.camera_orientation, imu.image_orientation, times)
        rates = frame_rotations(own, times)[:, :2] / np.median(np.diff(times))
        spans = sync_spans(times, rates, duration_s)

    def matched(quick: CameraPath) -> tuple[Orientation, SyncResult] | None:
        """The records at ``quick``'s frames and how they match it; None: not one per frame."""
        seconds = quick.times.seconds
        if not _one_per_frame(imu, seconds):
            return None
        frames = len(seconds)
        orientation = picture_orientation(
            imu.camera_orientation[:frames], imu.image_orientation[:frames], seconds
        )
        turned = np.cumsum(frame_rotations(orientation, seconds)[:, :2], axis=0)
        return orientation, match_frames(turned, quick, aspect)

    quick = measure_shifts(spans)
    result = matched(quick)
    if spans is not None and (result is None or not result[1].trusted):
        spans, quick = None, measure_shifts(None)  # the sync points missed: try the whole clip
        result = matched(quick)
    if result is None:
        why = f"its orientation records are not one per frame (of {len(quick)})"
        return instead(why, figures)
    orientation, match = result
    figures = {
        "sync_confidence": match.confidence,
        "focal_px": match.focal_px,
        "sync_points": spans,
    }
    if not match.trusted:
        why = (
            f"its orientation records do not match the picture (correlation "
            f"{match.confidence:.2f}, under {TRUSTED_CORRELATION})"
        )
        return instead(why, figures)
    path = gyro_camera_path(
        orientation, quick.times, quick.frame_size, focal_px=match.focal_px, aspect=aspect
    )
    path = replace(path, source=ORIENTATION_SOURCE)
    if source == "fused":
        path = fuse_paths(path, quick)
    notes = (note, "camera path from the camera's own orientation records (CORI, IORI)")
    return MotionEstimate(path, path.source, in_camera_stabilized=True, notes=notes, **figures)


def _one_per_frame(imu: ImuSamples, seconds: np.ndarray) -> bool:
    """Whether the orientation records come one per frame, the k-th the k-th frame's (on the MAX
    walk they match the picture with r 0.76 so paired, 0.45 one frame either way): at least as
    many of each as frames, at the frame rate (within 5 %)."""
    records = min(
        len(imu.orientation_times), len(imu.camera_orientation), len(imu.image_orientation)
    )
    if len(seconds) < 2 or records < len(seconds):
        return False
    interval = np.median(np.diff(seconds))
    return bool(abs(np.median(np.diff(imu.orientation_times)) - interval) <= 0.05 * interval)


def fuse_paths(
    gyro: CameraPath, shifts: CameraPath, window_s: float = FUSION_WINDOW_S
) -> CameraPath:
    """Complementary fusion of image shifts: the gyro's for fast motion (crisp, blind to nothing
    the lens sees turn), the picture's for slow motion (which includes travel and parallax a
    gyro cannot see). Roll and zoom stay the gyro's, and the picture's shifts are levelled by
    the gyro's roll, as the gyro's own are (``povkit.geometry.path_from_steps``)."""
    rate = (len(gyro) - 1) / max(float(gyro.times.seconds[-1]), 1e-9)
    window = max(1, int(round(window_s * rate)))
    params = gyro.params.copy()
    picture = path_from_steps(np.column_stack([shifts.steps[:, :2], gyro.steps[:, 2:]]))
    slow = running_mean(picture[:, :2] - params[:, :2], window)
    params[:, :2] += slow
    return replace(gyro, params=params, source="fused")
