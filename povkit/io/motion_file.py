"""Measured camera motion saved beside a clip, so re-planning never decodes the video again.

A motion file (``.npz``) holds one ``CameraPath`` and the identity of the video it was measured
on (name, byte size, frame size): stabilizing with other settings loads it instead of tracking,
and a file measured on another video is refused rather than silently misapplied.
"""

from __future__ import annotations

import os
from fractions import Fraction
from pathlib import Path

import numpy as np

from povkit.errors import InputError
from povkit.types import CameraPath, FrameTimes

FORMAT_VERSION = 1


def _video_identity(video: str | os.PathLike) -> np.ndarray:
    return np.array([Path(video).name, str(os.path.getsize(video))])


def checked_motion_file(file: str | os.PathLike) -> Path:
    """``file`` as a place a motion file can be written (checked before any measuring)."""
    file = Path(file)
    if file.suffix != ".npz":
        raise InputError(f"{file}: a motion file must end in .npz")
    if not file.parent.is_dir():
        raise InputError(f"{file}: folder {file.parent} does not exist; create it first")
    return file


def save_camera_path(
    path: CameraPath, file: str | os.PathLike, *, video: str | os.PathLike
) -> Path:
    """Write ``path`` (measured on ``video``) to ``file``; complete or not at all."""
    file = checked_motion_file(file)
    partial = file.with_name(f".{file.stem}.partial.npz")
    still = path.still_share if path.still_share is not None else np.array([])
    try:
        with open(partial, "wb") as out:
            np.savez(
                out,
                version=FORMAT_VERSION,
                video=_video_identity(video),
                pts=path.times.pts,
                time_base=np.array(
                    [path.times.time_base.numerator, path.times.time_base.denominator]
                ),
                params=path.params,
                valid=path.valid,
                frame_size=np.array(path.frame_size),
                source=np.array(path.source),
                still_share=still,
            )
        os.replace(partial, file)
    finally:
        partial.unlink(missing_ok=True)
    return file


def load_camera_path(file: str | os.PathLike, *, video: str | os.PathLike) -> CameraPath:
    """The camera path saved in ``file``, checked to have been measured on ``video``."""
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
            still = data["still_share"]
            numerator, denominator = data["time_base"].tolist()
            return CameraPath(
                times=FrameTimes(data["pts"], Fraction(numerator, denominator)),
                params=data["params"],
                valid=data["valid"],
                frame_size=tuple(float(v) for v in data["frame_size"]),
                source=str(data["source"]),
                still_share=still if len(still) else None,
            )
    except (OSError, KeyError, ValueError) as exc:
        raise InputError(
            f"{file}: not a readable povkit motion file ({exc}); "
            "write one with: povkit motion VIDEO --save FILE.npz"
        ) from None
