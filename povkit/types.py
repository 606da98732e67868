"""Small frozen value types that pass between the layers: read -> measure -> plan -> render."""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction

import numpy as np

from povkit.geometry import steps_of

PATH_COLUMNS = ("x", "y", "angle", "log_scale")
"""Columns of a camera path: the camera's turn as a content shift in level axes (display
pixels), roll in radians, log zoom."""


@dataclass(frozen=True)
class VideoInfo:
    """What a probe learns about a video file before decoding it whole."""

    path: str
    width: int
    height: int
    sample_aspect: Fraction
    rotation: int
    """Display rotation in degrees (counter-clockwise, as FFmpeg's display matrix reports it)."""
    nominal_fps: Fraction
    average_fps: Fraction
    variable_frame_rate: bool
    frame_count: int
    """Frames the container announces (or estimates from duration); decoding may find fewer."""
    duration_s: float
    first_pts_s: float
    time_base: Fraction
    codec: str
    pixel_format: str
    audio_codec: str | None = None
    data_streams: tuple[str, ...] = ()
    """Codec tags of data tracks, e.g. ``("gpmd", "tmcd")`` on a GoPro file."""
    colour: tuple[int, int, int, int] = (0, 2, 2, 2)
    """Range, matrix, primaries and transfer of the first frame, as FFmpeg numbers them
    (range 1: limited, 2: full, as phones record; 2 elsewhere: unspecified); outputs keep them."""

    @property
    def display_width(self) -> float:
        """Width in square pixels, so that geometry is isotropic."""
        return self.width * float(self.sample_aspect)


@dataclass(frozen=True)
class FrameTimes:
    """Exact presentation timestamps of the decoded frames, in stream time-base units."""

    pts: np.ndarray
    time_base: Fraction

    def __len__(self) -> int:
        return len(self.pts)

    @property
    def seconds(self) -> np.ndarray:
        """Seconds since the first frame (the first frame is 0.0, whatever its PTS)."""
        return (self.pts - self.pts[0]).astype(np.float64) * float(self.time_base)

    def rows_of(self, pts: np.ndarray | list[int]) -> np.ndarray:
        """The frame index of each of ``pts`` (these times are sorted); -1 where it is none of
        these frames'."""
        pts = np.asarray(pts, dtype=np.int64)
        if not len(self.pts):
            return np.full(pts.shape, -1)
        rows = np.minimum(np.searchsorted(self.pts, pts), len(self.pts) - 1)
        return np.where(self.pts[rows] == pts, rows, -1)


@dataclass(frozen=True)
class CameraPath:
    """How the camera moved over time, built from the picture's frame-to-frame similarity
    steps (``povkit.geometry.path_from_steps``; :attr:`steps` gives them back).

    ``params[:, 0:2]`` is the camera's turn since the first frame as a content shift in level
    display (square) pixels, (-focal * yaw, focal * pitch): each step's shift turned back by the
    roll so far and summed; the picture's own shift is that turned by the roll. ``params[:, 2]``
    is the roll in radians and ``params[:, 3]`` the log zoom, both summed.
    ``valid[i]`` is False where the step into frame ``i`` could not be measured and was bridged.
    Visual and gyro estimators both produce this type.
    """

    times: FrameTimes
    params: np.ndarray
    valid: np.ndarray
    frame_size: tuple[float, float]
    """(width, height) of the frame in display pixels."""
    source: str = "visual"
    still_share: np.ndarray | None = None
    """Per frame, the share of tracked points that did not move at all: high all along for a
    camera on a tripod, whatever moves in front of it."""

    def __post_init__(self) -> None:
        n = len(self.times)
        if self.params.shape != (n, len(PATH_COLUMNS)) or self.valid.shape != (n,):
            raise ValueError(
                f"camera path needs {n} rows of {len(PATH_COLUMNS)} params and {n} valid flags, "
                f"got {self.params.shape} and {self.valid.shape}"
            )

    def __len__(self) -> int:
        return len(self.times)

    @property
    def steps(self) -> np.ndarray:
        """Frame-to-frame motion (row ``i`` is the step from frame ``i-1`` to ``i``; row 0 is 0)."""
        return steps_of(self.params)


@dataclass(frozen=True)
class WarpPlan:
    """Per-frame corrections that turn the input into the stabilized output.

    ``corrections`` has the same columns as a camera path (shift, roll, log zoom) and is applied
    about the frame centre in display pixels; ``zoom`` is the extra per-frame magnification that
    keeps black borders out of the picture.
    """

    corrections: np.ndarray
    zoom: np.ndarray
    frame_size: tuple[float, float]
    method: str
    notes: tuple[str, ...] = field(default_factory=tuple)
    rolling_shutter: np.ndarray | None = None
    """(N, K, 3): per frame, the content's (dx, dy, angle) (display pixels, radians, as a
    camera path step) at K evenly spaced rows from the first to the last, relative to the
    middle row; rows are moved back to the middle row's time. None: global warps only."""
    frame_times: FrameTimes | None = None
    """The times of the frames the rows were planned for (the camera path's): the render gives
    a frame the row of its own time, so frames a damaged file fails to decode do not shift the
    rows after them. None: rows in decoding order."""

    def __len__(self) -> int:
        return len(self.zoom)

    @property
    def is_identity(self) -> bool:
        return bool(np.all(self.corrections == 0) and np.all(self.zoom == 1))


@dataclass(frozen=True)
class ImuSamples:
    """Inertial samples on the video clock (seconds), in camera axes.

    ``gyro`` is (N, 3) angular velocity in rad/s as (yaw, pitch, roll) rates: yaw turns the view
    right, pitch tilts it up, roll turns it clockwise as the wearer sees it (``povkit.synth``'s
    convention). ``accel`` is (N, 3) in m/s^2 along x right, y down, z forward, pointing down:
    a level camera at rest reads (0, +9.81, 0). Cameras that record their own orientation add
    quaternions (w, x, y, z) at ``orientation_times``: ``camera_orientation`` (GoPro CORI) and
    ``image_orientation`` (IORI, what in-camera stabilization kept), and ``gravity`` (GRAV).
    """

    times: np.ndarray
    gyro: np.ndarray
    accel: np.ndarray | None = None
    orientation_times: np.ndarray | None = None
    camera_orientation: np.ndarray | None = None
    image_orientation: np.ndarray | None = None
    gravity: np.ndarray | None = None
    axes: str = ""
    """How the sensor's axes map onto the camera's, as the file states it (GoPro ORIN, gcsv
    ``orientation``); empty where the reader's own convention applies."""
    model: str = ""
    """The camera or logger that wrote the samples."""
    stabilized_in_camera: bool | None = None
    """What the file says about in-camera (electronic) stabilization; None where it says nothing."""
    sidecar: bool = False
    """Read from a log beside the video (.gcsv, .csv), not from the video file itself."""


@dataclass(frozen=True)
class MotionEstimate:
    """A camera path and where it came from, with the gyro sync figures when there was one."""

    path: CameraPath
    source: str
    gyro_offset_ms: float | None = None
    sync_confidence: float | None = None
    in_camera_stabilized: bool = False
    focal_px: float | None = None
    drift_ppm: float | None = None
    notes: tuple[str, ...] = field(default_factory=tuple)
    level_roll: np.ndarray | None = None
    """Per frame, the camera's roll from level (radians, clockwise), where an accelerometer
    told it: what ``--horizon-lock`` turns back."""
    rolling_shutter: np.ndarray | None = None
    """(N, K, 3) content motion across each frame's sensor readout, from the gyro, where a
    readout time was given: what ``WarpPlan.rolling_shutter`` corrects."""
    lens: dict | None = None
    """The lens the motion was measured with (``povkit.lens.Lens.to_dict()``), where one was
    known."""
    sync_points: tuple[tuple[float, float], ...] | None = None
    """(start, end) seconds of video the gyro sync measured the picture on; None: the whole
    clip, or no sync."""

    def to_dict(self) -> dict:
        def rounded(value: float | None, digits: int) -> float | None:
            return None if value is None else round(value, digits)

        return {
            "source": self.source,
            "gyro_offset_ms": rounded(self.gyro_offset_ms, 3),
            "sync_confidence": rounded(self.sync_confidence, 4),
            "in_camera_stabilized": self.in_camera_stabilized,
            "focal_px": rounded(self.focal_px, 2),
            "drift_ppm": rounded(self.drift_ppm, 1),
            "lens": self.lens,
            "sync_points": None
            if self.sync_points is None
            else [[round(start, 3), round(end, 3)] for start, end in self.sync_points],
            "notes": list(self.notes),
        }
