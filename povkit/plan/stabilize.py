"""From a measured camera path to a warp plan: smooth, fit the crop, decide the zoom."""

from __future__ import annotations

import numpy as np

from povkit.geometry import frame_center, similarity_matrices, similarity_params
from povkit.plan.crop import correction_limits, required_zoom, shrink_to_fit, smooth_zoom_envelope
from povkit.plan.smoothing import Smoother, make_smoother
from povkit.types import CameraPath, WarpPlan

STILL_CAMERA_PX = 0.5
"""If no correction would move any pixel by more than this, the camera was still: leave it."""


def corrections_between(
    raw: np.ndarray, smooth: np.ndarray, size: tuple[float, float]
) -> np.ndarray:
    """Per-frame (dx, dy, angle) that move content from the raw path onto the smooth one.

    The warp is S_t T_t^-1 (frame t back to frame 0's view, then on to the smooth view),
    composed exactly; the filmed zoom is kept, so only shift and roll are corrected.
    """
    center = frame_center(size)
    target = np.column_stack([smooth[:, :3], raw[:, 3]])
    warps = similarity_matrices(target, center) @ np.linalg.inv(similarity_matrices(raw, center))
    return similarity_params(warps, center)[:, :3]


def check_plan_options(*, method: str, smoothness: float | None, max_zoom: float) -> Smoother:
    """Validate planning options early (before any decoding); return the smoother."""
    if not 1.0 <= max_zoom <= 4.0:
        raise ValueError(f"max_zoom must be between 1.0 and 4.0, got {max_zoom}")
    params = {} if smoothness is None else {"smoothness": smoothness}
    if params and method != "adaptive":
        raise ValueError(f"smoothness applies to the adaptive method, not {method!r}")
    return make_smoother(method, **params)


def plan_stabilization(
    path: CameraPath,
    *,
    method: str = "adaptive",
    smoothness: float | None = None,
    max_zoom: float = 1.25,
    dynamic_zoom: bool = False,
) -> WarpPlan:
    """Plan per-frame corrections and zoom that turn ``path`` into a smooth, border-free one.

    Roll and shifts are corrected; zoom (forward motion) is kept as it was filmed. Where
    ``max_zoom`` leaves too little room, the smooth path gives way towards the raw one.
    """
    smoother = check_plan_options(method=method, smoothness=smoothness, max_zoom=max_zoom)
    size = path.frame_size
    raw = path.params[:, :3]
    width = size[0]
    scale = np.array([1 / width, 1 / width, 0.5])
    limits = correction_limits(max_zoom, size)
    smooth = smoother.smooth(raw, path.times.seconds, limits, scale=scale)
    wanted = corrections_between(path.params, smooth, size)
    fitted = shrink_to_fit(wanted, size, max_zoom)
    notes = []
    reach = np.abs(fitted[:, :2]).max(axis=1) + np.abs(fitted[:, 2]) * np.hypot(*size) / 2
    n = len(path)
    if n == 0 or reach.max() < STILL_CAMERA_PX:
        notes.append("camera is still: frames are left as they are")
        return WarpPlan(np.zeros((n, 4)), np.ones(n), size, method, tuple(notes))
    needed = required_zoom(fitted, size)
    shrunk = np.abs(fitted - wanted).max(axis=1) > 1e-6
    gave_way = shrunk | np.any(np.abs(fitted) >= 0.9 * limits, axis=1)
    if gave_way.any():
        notes.append(f"max zoom {max_zoom:g} reached on {gave_way.sum()} frames: path gave way")
    fps = (n - 1) / max(path.times.seconds[-1], 1e-9) if n > 1 else 30.0
    if dynamic_zoom:
        zoom = smooth_zoom_envelope(needed, window=max(1, round(fps)))
    else:
        zoom = np.full(n, needed.max())
    corrections = np.zeros((n, 4))
    corrections[:, :3] = fitted
    return WarpPlan(corrections, np.minimum(zoom, max_zoom), size, method, tuple(notes))
