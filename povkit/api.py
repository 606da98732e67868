"""povkit's Python API: whole jobs on files, each one read -> measure -> plan -> render."""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from povkit.errors import UsageError, log
from povkit.io.motion_file import load_motion
from povkit.io.video import probe
from povkit.io.writer import check_encoding_options, check_output_path, output_format_notes
from povkit.lens import Lens, UndistortedView, find_lens, undistorted_view
from povkit.motion.shift import measure_shifts
from povkit.motion.source import check_motion_options, estimate_motion
from povkit.motion.visual import TrackingOptions, measure_visual_motion
from povkit.plan.horizon import lock_horizon
from povkit.plan.rolling_shutter import add_rolling_shutter
from povkit.plan.stabilize import check_plan_options, plan_stabilization
from povkit.progress import progress
from povkit.render.pipeline import render_plan
from povkit.types import CameraPath, MotionEstimate, VideoInfo, WarpPlan


@dataclass(frozen=True)
class StabilizeResult:
    """What ``stabilize`` did, in figures a script can read."""

    output: str
    frames: int
    method: str
    zoom: float
    seconds: float
    analysis_seconds: float
    render_seconds: float
    invalid_steps: int
    notes: tuple[str, ...] = field(default_factory=tuple)
    motion: dict = field(default_factory=dict)
    """Where the camera motion came from: ``MotionEstimate.to_dict()`` less its notes."""
    undistorted_scale: float | None = None
    """With ``undistort``: the undistorted view's focal length over the lens's."""

    def to_dict(self) -> dict:
        return {
            **self.motion,
            "output": self.output,
            "frames": self.frames,
            "method": self.method,
            "zoom": round(self.zoom, 4),
            "seconds": round(self.seconds, 3),
            "analysis_seconds": round(self.analysis_seconds, 3),
            "render_seconds": round(self.render_seconds, 3),
            "invalid_steps": self.invalid_steps,
            "undistorted_scale": None
            if self.undistorted_scale is None
            else round(self.undistorted_scale, 4),
            "notes": list(self.notes),
        }


def measure_motion(
    path: str | os.PathLike,
    *,
    options: TrackingOptions | None = None,
    info: VideoInfo | None = None,
) -> CameraPath:
    """How the camera moved in ``path``, frame by frame (one decode pass)."""
    info = info or probe(path)
    with progress("measuring motion", info.frame_count) as tick:
        camera_path, report = measure_visual_motion(path, info=info, options=options, on_frame=tick)
    report.warn_if_damaged(info)
    bridged = int((~camera_path.valid).sum())
    if bridged:
        log.warning(
            "motion not measurable on %d of %d frames (dark, blurred, covered or corrupt); "
            "bridged from their neighbours",
            bridged,
            len(camera_path),
        )
    return camera_path


def estimate_camera_motion(
    path: str | os.PathLike,
    *,
    gyro: str = "auto",
    source: str = "auto",
    gyro_offset_ms: float | None = None,
    rolling_shutter_ms: float = 0.0,
    info: VideoInfo | None = None,
    warn_without_telemetry: bool = False,
    lens: Lens | None = None,
) -> MotionEstimate:
    """How the camera moved in ``path``, from its gyro (synced to the picture) or the picture;
    ``lens`` (``povkit.lens.find_lens``), where known, sets the gyro's vertical focal length
    relative to the horizontal one that the sync fits."""
    info = info or probe(path)

    def measure_visual() -> CameraPath:
        return measure_motion(path, info=info)

    def quick_shifts(spans: Sequence[tuple[float, float]] | None) -> CameraPath:
        frames = info.frame_count
        if spans is not None:
            frames = round(sum(end - start for start, end in spans) * float(info.average_fps))
        with progress("syncing the gyro", frames) as tick:
            shifts, report = measure_shifts(path, info=info, on_frame=tick, spans=spans)
        if spans is None:  # a pass over some stretches says nothing about the rest
            report.warn_if_damaged(info)
        return shifts

    estimate = estimate_motion(
        path,
        measure_visual,
        quick_shifts,
        gyro=gyro,
        source=source,
        gyro_offset_ms=gyro_offset_ms,
        readout_ms=rolling_shutter_ms,
        warn_without_telemetry=warn_without_telemetry,
        info=info,
        aspect=1.0 if lens is None else lens.fy / (lens.fx * float(info.sample_aspect)),
    )
    return estimate if lens is None else replace(estimate, lens=lens.to_dict())


def stabilize(
    input_path: str | os.PathLike,
    output_path: str | os.PathLike,
    *,
    gyro: str = "auto",
    source: str = "auto",
    gyro_offset_ms: float | None = None,
    rolling_shutter_ms: float = 0.0,
    horizon_lock: float = 0.0,
    method: str = "adaptive",
    smoothness: float | None = None,
    max_zoom: float = 1.25,
    dynamic_zoom: bool = False,
    crf: float = 18,
    preset: str = "veryfast",
    motion_file: str | os.PathLike | None = None,
    lens_file: str | os.PathLike | None = None,
    undistort: bool = False,
) -> StabilizeResult:
    """Stabilize ``input_path`` into ``output_path``, keeping frame times and audio.

    ``gyro`` is "auto" (the file's own telemetry or a sidecar log), "off", or a log file; the
    gyro path is used when it is there and trustworthy, the picture's motion otherwise
    (``source`` "auto"; see ``povkit.motion.source.SOURCES`` for the others).
    ``motion_file`` is a motion file saved by ``povkit motion --save`` for this clip: planning
    then starts from it instead of measuring the motion again. ``lens_file`` is a lens profile
    (else the file's own lens metadata is used, if any); ``undistort`` takes the lens's
    distortion out of the output, which is then planned and cropped in the undistorted view.
    """
    try:
        check_plan_options(method=method, smoothness=smoothness, max_zoom=max_zoom)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    check_motion_options(
        gyro=gyro, source=source, readout_ms=rolling_shutter_ms, gyro_offset_ms=gyro_offset_ms
    )
    if motion_file is not None and (
        gyro != "auto" or source != "auto" or gyro_offset_ms is not None or rolling_shutter_ms
    ):
        raise UsageError(
            "--gyro, --source, --gyro-offset and --rolling-shutter say how to measure the "
            "motion, and "
            f"{motion_file} is measured already: drop them, or measure again with "
            "povkit motion IN [those options] --save FILE"
        )
    if not 0 <= horizon_lock <= 100:
        raise UsageError(f"--horizon-lock is a percentage within 0 and 100, got {horizon_lock:g}")
    check_encoding_options(crf=crf, preset=preset)
    started = time.perf_counter()
    info = probe(input_path)
    output = check_output_path(input_path, output_path)
    lens, origin = find_lens(input_path, info, lens_file)
    view = _view(lens, origin) if undistort else None
    if motion_file is not None:
        motion = load_motion(motion_file, video=input_path)
    else:
        motion = estimate_camera_motion(
            input_path,
            gyro=gyro,
            source=source,
            gyro_offset_ms=gyro_offset_ms,
            rolling_shutter_ms=rolling_shutter_ms,
            info=info,
            warn_without_telemetry=gyro == "auto",
            lens=lens,
        )
    if view is not None:
        motion = view.in_view(motion)
    camera_path = motion.path
    with progress("planning the path", None):  # seconds on a long clip (a minute for 30 min)
        plan = plan_stabilization(
            camera_path,
            method=method,
            smoothness=smoothness,
            max_zoom=max_zoom,
            dynamic_zoom=dynamic_zoom,
        )
    why_not = _why_no_gyro_corrections(motion)
    if horizon_lock and motion.level_roll is None:
        log.warning("horizon lock needs the camera's gyro and accelerometer%s; left off", why_not)
    elif horizon_lock:
        plan = lock_horizon(
            plan,
            motion.level_roll,
            camera_path.times.seconds,
            amount=horizon_lock / 100,
            max_zoom=max_zoom,
        )
    if rolling_shutter_ms and motion.rolling_shutter is None:
        log.warning("rolling-shutter correction needs the camera's gyro%s; left off", why_not)
    elif motion.rolling_shutter is not None:
        plan = add_rolling_shutter(
            plan, motion.rolling_shutter, camera_path.times.seconds, max_zoom=max_zoom
        )
    analysed = time.perf_counter()
    frames = render(
        input_path,
        output,
        plan,
        crf=crf,
        preset=preset,
        info=info,
        view=view,
        # only sync points were decoded (the picture's own pass has warned already)
        report_damage=motion.sync_points is not None and motion.source != "visual",
    )
    finished = time.perf_counter()
    return StabilizeResult(
        output=str(output),
        frames=frames,
        method=method,
        zoom=float(np.max(plan.zoom)) if len(plan) else 1.0,
        seconds=finished - started,
        analysis_seconds=analysed - started,
        render_seconds=finished - analysed,
        invalid_steps=int((~camera_path.valid).sum()),
        notes=motion.notes + plan.notes + output_format_notes(info),
        motion={k: v for k, v in motion.to_dict().items() if k != "notes"},
        undistorted_scale=None if view is None else view.scale,
    )


def _why_no_gyro_corrections(motion: MotionEstimate) -> str:
    """Why gyro-based corrections are unavailable, where the motion source says more than
    "no gyro": a clip stabilized in camera follows its orientation records, not its gyro."""
    if motion.in_camera_stabilized:
        return f", and this clip was stabilized in camera, so its motion came from {motion.source}"
    return ""


def _view(lens: Lens | None, why_none: str) -> UndistortedView:
    """The undistorted view of ``lens``, or a ``UsageError`` saying why there is no lens."""
    if lens is None:
        raise UsageError(
            f"--undistort needs the lens: {why_none}; give --lens FILE (a Gyroflow lens profile, "
            'or povkit\'s, e.g. {"width": 1920, "height": 1080, "hfov_deg": 118})'
        )
    return undistorted_view(lens)


def render(
    input_path: str | os.PathLike,
    output_path: str | os.PathLike,
    plan: WarpPlan,
    *,
    crf: float = 18,
    preset: str = "veryfast",
    info: VideoInfo | None = None,
    view: UndistortedView | None = None,
    report_damage: bool = False,
) -> int:
    """Apply a warp plan to a file (with a progress bar; undistorted into ``view`` if given);
    returns frames written. The plan must have been made from this file's motion;
    ``report_damage`` warns of what the file lost (see ``render_plan``)."""
    info = info or probe(input_path)
    size = (info.display_width, float(info.height))
    too_long = info.frame_count and len(plan) > 2 * info.frame_count  # damaged files run short
    if too_long or not np.allclose(plan.frame_size, size, rtol=1e-3):
        raise UsageError(
            f"the plan is for {len(plan)} frames of {plan.frame_size[0]:g}x"
            f"{plan.frame_size[1]:g} but {input_path} has {info.frame_count} of "
            f"{size[0]:g}x{size[1]:g}; plan from this video's motion"
        )
    with progress("rendering", len(plan)) as tick:
        return render_plan(
            input_path,
            Path(output_path),
            plan,
            crf=crf,
            preset=preset,
            info=info,
            on_frame=tick,
            view=view,
            report_damage=report_damage,
        )
