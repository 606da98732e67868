"""The camera's lens: intrinsics with OpenCV's fisheye (Kannala-Brandt) distortion, from a lens
profile, the file's own metadata or a field-of-view estimate, and the undistorted view that
``stabilize --undistort`` renders.

The model (``cv2.fisheye``): a ray at angle theta from the optical axis lands at distance
``theta_d = theta (1 + k1 theta^2 + k2 theta^4 + k3 theta^6 + k4 theta^8)`` (normalized) from the
principal point, scaled by ``fx``, ``fy``. With all ``k`` zero it is the equidistant fisheye
(distance proportional to angle), which is what action cameras' wide modes are close to, so
field-of-view estimates use it: a rectilinear estimate of the GoPro MAX clip's 137 degree
diagonal view gives under half the central focal length (190 px against 406 px at 848x480).
Pixel centres are at integers, as OpenCV has them.
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass, replace
from pathlib import Path

import cv2
import numpy as np

from povkit.errors import UsageError
from povkit.geometry import frame_center
from povkit.io.telemetry import TelemetryError, read_lens_settings
from povkit.types import MotionEstimate, VideoInfo

PLAIN_KEYS = {"name", "width", "height", "fx", "fy", "cx", "cy", "k", "hfov_deg"}
"""Keys of povkit's own lens-profile layout: ``width``, ``height`` and ``fx`` or ``hfov_deg``
are required; ``fy`` (= ``fx``), ``cx``, ``cy`` (the frame centre), ``k`` (zeros), ``name``
are optional."""


@dataclass(frozen=True)
class Lens:
    """Camera matrix (``fx``, ``fy``, ``cx``, ``cy``, pixels) and Kannala-Brandt coefficients
    ``k`` of a lens as calibrated on ``width`` x ``height`` frames."""

    width: int
    height: int
    fx: float
    fy: float
    cx: float
    cy: float
    k: tuple[float, float, float, float] = (0.0, 0.0, 0.0, 0.0)
    name: str = ""

    @property
    def camera_matrix(self) -> np.ndarray:
        return np.array([[self.fx, 0, self.cx], [0, self.fy, self.cy], [0, 0, 1.0]])

    def scaled(self, width: int, height: int) -> Lens:
        """This lens on ``width`` x ``height`` frames of the same picture (another resolution);
        a frame of another shape is another crop of the sensor, which needs its own profile."""
        if abs(width * self.height - height * self.width) > 0.01 * width * self.height:
            raise UsageError(
                f"lens profile {self.name!r} was calibrated on {self.width}x{self.height} frames "
                f"and does not fit {width}x{height} video (another shape); use a profile for "
                "this mode"
            )
        sx, sy = width / self.width, height / self.height
        return replace(
            self,
            width=width,
            height=height,
            fx=self.fx * sx,
            fy=self.fy * sy,
            cx=(self.cx + 0.5) * sx - 0.5,
            cy=(self.cy + 0.5) * sy - 0.5,
        )

    def distort(self, normalized: np.ndarray) -> np.ndarray:
        """Pixels where rays with (N, 2) normalized pinhole coordinates (x/z, y/z) land."""
        points = np.ascontiguousarray(normalized, dtype=np.float64).reshape(-1, 1, 2)
        pixels = cv2.fisheye.distortPoints(points, self.camera_matrix, np.array(self.k))
        return pixels.reshape(-1, 2)

    def to_dict(self) -> dict:
        return {
            "name": self.name,
            "width": self.width,
            "height": self.height,
            **{key: round(getattr(self, key), 3) for key in ("fx", "fy", "cx", "cy")},
            "k": [round(v, 6) for v in self.k],
        }


def lens_from_fov(width: int, height: int, hfov_deg: float) -> Lens:
    """Equidistant fisheye (all ``k`` zero) centred on the frame whose width spans
    ``hfov_deg`` degrees: the estimate when no calibration is known."""
    if not 10 <= hfov_deg <= 250:
        raise UsageError(f"a horizontal field of view must be 10-250 degrees, got {hfov_deg:g}")
    focal = width / 2 / math.radians(hfov_deg / 2)
    cx, cy = frame_center((width, height))
    name = f"equidistant estimate, {hfov_deg:.1f} deg horizontal field of view"
    return Lens(width, height, focal, focal, cx, cy, name=name)


def load_lens(path: str | os.PathLike) -> Lens:
    """A lens profile: Gyroflow's JSON layout (``calib_dimension``, ``fisheye_params``) or
    povkit's (``PLAIN_KEYS``); any mistake is a ``UsageError`` naming the file and the key."""
    path = Path(path)
    if not path.is_file():
        raise UsageError(f"--lens {path}: no such lens profile")
    try:
        data = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise UsageError(f"--lens {path}: not a JSON lens profile ({exc})") from None
    if not isinstance(data, dict):
        raise UsageError(f"--lens {path}: a lens profile is a JSON object")
    try:
        lens = _gyroflow_lens(data) if "calib_dimension" in data else _plain_lens(data)
    except (KeyError, TypeError, ValueError) as exc:
        raise UsageError(f"--lens {path}: {_reason(exc)}") from None
    except UsageError as exc:
        raise UsageError(f"--lens {path}: {exc}") from None
    return lens


def _reason(exc: Exception) -> str:
    if isinstance(exc, KeyError):
        return f"missing key {exc}"
    return str(exc)


def _gyroflow_lens(data: dict) -> Lens:
    """Gyroflow's layout: only its OpenCV fisheye model without anamorphic stretch."""
    model = data.get("distortion_model")
    if model not in (None, "", "opencv_fisheye"):
        raise ValueError(f"distortion_model {model!r} is not supported (only opencv_fisheye)")
    if data.get("use_opencv_standard") or data.get("use_opencv_fisheye") is False:
        raise ValueError("its OpenCV standard (non-fisheye) model is not supported")
    for key in ("input_horizontal_stretch", "input_vertical_stretch"):
        if float(data.get(key) or 1.0) != 1.0:
            raise ValueError(f"{key} {data[key]} (anamorphic) is not supported")
    size = data["calib_dimension"]
    fisheye = data["fisheye_params"]
    matrix = np.asarray(fisheye["camera_matrix"], dtype=np.float64)
    if matrix.shape != (3, 3):
        raise ValueError(f"fisheye_params.camera_matrix must be 3x3, got shape {matrix.shape}")
    parts = (data.get(key) for key in ("camera_brand", "camera_model", "lens_model"))
    name = data.get("name") or " ".join(str(p) for p in parts if p)
    return _checked(
        size["w"],
        size["h"],
        matrix[0, 0],
        matrix[1, 1],
        matrix[0, 2],
        matrix[1, 2],
        fisheye["distortion_coeffs"],
        str(name),
    )


def _plain_lens(data: dict) -> Lens:
    """povkit's layout: the camera matrix's numbers by name, or a field of view."""
    unknown = set(data) - PLAIN_KEYS
    if unknown:
        keys = ", ".join(sorted(PLAIN_KEYS))
        raise ValueError(
            f"unknown key {sorted(unknown)[0]!r} (a povkit profile has {keys}; "
            "a Gyroflow profile has calib_dimension and fisheye_params)"
        )
    width, height = data["width"], data["height"]
    if "fx" not in data:
        if "hfov_deg" not in data:
            raise ValueError("needs fx (focal length in pixels) or hfov_deg")
        _positive_size(width, height)
        estimate = lens_from_fov(width, height, float(data["hfov_deg"]))
        return replace(estimate, name=str(data.get("name", estimate.name)))
    center = frame_center((float(width), float(height)))
    return _checked(
        width,
        height,
        data["fx"],
        data.get("fy", data["fx"]),
        data.get("cx", center[0]),
        data.get("cy", center[1]),
        data.get("k", [0.0] * 4),
        str(data.get("name", "")),
    )


def _positive_size(width: object, height: object) -> None:
    if not all(isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in (width, height)):
        raise ValueError(f"width and height must be positive whole pixels, got {width}, {height}")


def _checked(width, height, fx, fy, cx, cy, k, name: str) -> Lens:
    """A ``Lens`` from raw profile values, refused with the reason if any is unusable."""
    _positive_size(width, height)
    fx, fy, cx, cy = (float(v) for v in (fx, fy, cx, cy))
    if not (fx > 0 and fy > 0 and math.isfinite(fx) and math.isfinite(fy)):
        raise ValueError(f"focal lengths must be positive pixels, got fx {fx:g}, fy {fy:g}")
    if not (0 <= cx <= width and 0 <= cy <= height):
        raise ValueError(f"principal point ({cx:g}, {cy:g}) is outside the {width}x{height} frame")
    coefficients = tuple(float(v) for v in k)
    if len(coefficients) != 4 or not all(map(math.isfinite, coefficients)):
        raise ValueError(f"distortion coefficients must be 4 numbers k1..k4, got {list(k)}")
    return Lens(width, height, fx, fy, cx, cy, coefficients, name)


def find_lens(
    video: str | os.PathLike, info: VideoInfo, lens_file: str | os.PathLike | None
) -> tuple[Lens | None, str]:
    """The lens of ``video`` scaled to its frames: from ``lens_file`` if given, else an estimate
    from the field of view its own metadata states (GoPro ZFOV); and where it came from
    ("profile", "metadata"), or why there is none."""
    if lens_file is not None:
        return load_lens(lens_file).scaled(info.width, info.height), "profile"
    try:
        settings = read_lens_settings(video, info)
    except TelemetryError as exc:
        return None, str(exc)
    if settings is None:
        return None, f"{video} has no lens metadata"
    if settings.diagonal_fov_deg is None:
        mode = f" names its lens mode ({settings.mode})" if settings.mode else ""
        return None, f"{video}'s metadata{mode} but gives no field of view (ZFOV)"
    # equidistant: angles are proportional to distances from the centre, the diagonal's too
    hfov = settings.diagonal_fov_deg * info.width / math.hypot(info.width, info.height)
    lens = lens_from_fov(info.width, info.height, hfov)
    return replace(lens, name=f"{lens.name} (ZFOV {settings.diagonal_fov_deg:.1f} deg)"), "metadata"


@dataclass(frozen=True)
class UndistortedView:
    """The undistorted output: a pinhole camera centred on the frame with ``scale`` times the
    lens's focal lengths, the widest whose whole frame the lens saw (so no border opens)."""

    lens: Lens
    scale: float

    def source(self, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Where the view's pixels (x, y) lie in the lens's (distorted) frame."""
        cx, cy = frame_center((self.lens.width, self.lens.height))
        normalized = np.column_stack(
            [
                (np.ravel(x) - cx) / (self.scale * self.lens.fx),
                (np.ravel(y) - cy) / (self.scale * self.lens.fy),
            ]
        )
        pixels = self.lens.distort(normalized)
        return pixels[:, 0].reshape(np.shape(x)), pixels[:, 1].reshape(np.shape(y))

    def in_view(self, motion: MotionEstimate) -> MotionEstimate:
        """``motion`` (measured on the lens's frames) as the view sees it: image shifts near the
        centre scale by ``scale``; roll and zoom stay."""
        factor = np.array([self.scale, self.scale, 1.0, 1.0])
        path = replace(motion.path, params=motion.path.params * factor)
        rows = motion.rolling_shutter
        if rows is not None:
            rows = rows * factor[:3]
        return replace(motion, path=path, rolling_shutter=rows)


def undistorted_view(lens: Lens) -> UndistortedView:
    """The widest undistorted view of ``lens``'s frame that shows nothing from outside it.

    A ray's pixel moves out from the principal point as the view's scale falls (the model is
    monotonic, which is checked), so the frame's outline (the outer edges of its edge pixels,
    sampled every pixel, as the crop's zoom counts it) is inside the lens's frame exactly for
    scales above one value, found by bisection.
    """
    width, height = lens.width, lens.height
    xs = np.linspace(-0.5, width - 0.5, width + 1)
    ys = np.linspace(-0.5, height - 0.5, height + 1)
    border_x = np.concatenate([xs, xs, np.full_like(ys, -0.5), np.full_like(ys, width - 0.5)])
    border_y = np.concatenate([np.full_like(xs, -0.5), np.full_like(xs, height - 0.5), ys, ys])

    def fits(scale: float) -> bool:
        x, y = UndistortedView(lens, scale).source(border_x, border_y)
        inside = (x >= -0.5) & (x <= width - 0.5) & (y >= -0.5) & (y <= height - 0.5)
        return bool(inside.all())

    low, high = 1 / 64, 64.0
    if not fits(high):
        raise UsageError(f"lens {lens.name!r}: no undistorted view fits inside its frame")
    for _ in range(50):
        middle = math.sqrt(low * high)
        low, high = (low, middle) if fits(middle) else (middle, high)
    view = UndistortedView(lens, high)
    _check_monotonic(view)
    return view


def _check_monotonic(view: UndistortedView) -> None:
    """Refuse a lens whose distortion folds back inside the view (then rays do not map one to
    one and the bisection above means nothing): a profile used far outside its calibration."""
    lens = view.lens
    corner = np.hypot(lens.width / (view.scale * lens.fx), lens.height / (view.scale * lens.fy))
    theta = np.linspace(0.0, math.atan(corner / 2), 512)
    k1, k2, k3, k4 = lens.k
    slope = 1 + 3 * k1 * theta**2 + 5 * k2 * theta**4 + 7 * k3 * theta**6 + 9 * k4 * theta**8
    if np.any(slope <= 0):
        raise UsageError(
            f"lens {lens.name!r}: its distortion folds back within the frame (coefficients "
            f"{list(lens.k)}); is the profile for this camera mode?"
        )
