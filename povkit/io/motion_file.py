"""Measured camera motion saved beside a clip, so re-planning never decodes the video again.

A motion file (``.npz``) holds one ``MotionEstimate`` (the camera path, where it came from, the
gyro sync figures and the level) and the identity of the video it was measured on (name, byte
size): stabilizing with other settings loads it instead of measuring, and a file measured on
another video is refused rather than silently misapplied.
"""

from __future__ import annotations

import json
import os
import zipfile
from fractions import Fraction
from pathlib import Path

import numpy as np

from povkit.errors import InputError
from povkit.io.outputs import check_output_folder, written_whole
from povkit.types import CameraPath, FrameTimes, MotionEstimate

FORMAT_VERSION = 3
"""3: paths sum level turns (``povkit.geometry.path_from_steps``); 2 composed similarities."""
_FIGURES = (
    "source",
    "gyro_offset_ms",
    "sync_confidence",
    "in_camera_stabilized",
    "focal_px",
    "drift_ppm",
    "sync_points",
)


def _video_identity(video: str | os.PathLike) -> np.ndarray:
    return np.array([Path(video).name, str(os.path.getsize(video))])


def checked_motion_file(file: str | os.PathLike) -> Path:
    """``file`` as a place a motion file can be written (checked before any measuring)."""
    file = Path(file)
    if file.suffix != ".npz":
        raise InputError(f"{file}: a motion file must end in .npz")
    return check_output_folder(file)


def save_motion(
    estimate: MotionEstimate, file: str | os.PathLike, *, video: str | os.PathLike
) -> Path:
    """Write ``estimate`` (measured on ``video``) to ``file``; complete or not at all."""
    file = checked_motion_file(file)
    path = estimate.path
    figures = {name: getattr(estimate, name) for name in _FIGURES}
    figures["notes"] = list(estimate.notes)
    empty = np.array([])
    with written_whole(file) as partial, open(partial, "wb") as out:
        np.savez(
            out,
            version=FORMAT_VERSION,
            video=_video_identity(video),
            pts=path.times.pts,
            time_base=np.array([path.times.time_base.numerator, path.times.time_base.denominator]),
            params=path.params,
            valid=path.valid,
            frame_size=np.array(path.frame_size),
            path_source=np.array(path.source),
            still_share=empty if path.still_share is None else path.still_share,
            level_roll=empty if estimate.level_roll is None else estimate.level_roll,
            rolling_shutter=empty if estimate.rolling_shutter is None else estimate.rolling_shutter,
            figures=np.array(json.dumps(figures)),
        )
    return file


def load_motion(file: str | os.PathLike, *, video: str | os.PathLike) -> MotionEstimate:
    """The motion estimate saved in ``file``, checked to have been measured on ``video``."""
    try:
        with np.load(file, allow_pickle=False) as data:
            if int(data["version"]) != FORMAT_VERSION:
                raise InputError(
                    f"{file}: motion file format {int(data['version'])} is not {FORMAT_VERSION}; "
                    "measure again with: povkit motion VIDEO --save FILE"
                )
            if data["video"].tolist() != _video_identity(video).tolist():
                name, size = data["video"].tolist()
                raise InputError(
                    f"{file}: measured on {name} ({size} bytes), not on {video}; "
                    f"measure this video with: povkit motion {video} --save FILE"
                )
            still, level = data["still_share"], data["level_roll"]
            numerator, denominator = data["time_base"].tolist()
            path = CameraPath(
                times=FrameTimes(data["pts"], Fraction(numerator, denominator)),
                params=data["params"],
                valid=data["valid"],
                frame_size=tuple(float(v) for v in data["frame_size"]),
                source=str(data["path_source"]),
                still_share=still if len(still) else None,
            )
            figures = json.loads(str(data["figures"]))
            notes = tuple(figures.pop("notes"))
            points = figures.pop("sync_points", None)  # not in files saved before sync points
            figures["sync_points"] = None if points is None else tuple(map(tuple, points))
            level_roll = level if len(level) else None
            # files saved before per-row correction have no rolling_shutter array
            rows = data["rolling_shutter"] if "rolling_shutter" in data.files else np.array([])
            return MotionEstimate(
                path,
                notes=notes,
                level_roll=level_roll,
                rolling_shutter=rows if rows.size else None,
                **figures,
            )
    except (OSError, EOFError, KeyError, ValueError, TypeError, zipfile.BadZipFile) as exc:
        raise InputError(
            f"{file}: not a readable povkit motion file ({exc}); "
            "write one with: povkit motion VIDEO --save FILE.npz"
        ) from None
