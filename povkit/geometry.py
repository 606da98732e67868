"""2-D similarities about the frame centre: (dx, dy, angle, log_scale) <-> 3x3 matrices.

The one place that fixes the convention shared by camera paths and warp plans: a point p maps
to ``exp(log_scale) * R(angle) (p - c) + c + (dx, dy)``.
"""

from __future__ import annotations

import numpy as np


def frame_center(size: tuple[float, float]) -> tuple[float, float]:
    """Centre of a frame of ``size`` (width, height) with pixel centres at integers."""
    return ((size[0] - 1) / 2, (size[1] - 1) / 2)


def similarity_matrices(params: np.ndarray, center: tuple[float, float]) -> np.ndarray:
    """(N, 3, 3) matrices for (N, 4) parameter rows about ``center``."""
    params = np.atleast_2d(params)
    scale = np.exp(params[:, 3])
    cos, sin = scale * np.cos(params[:, 2]), scale * np.sin(params[:, 2])
    cx, cy = center
    m = np.zeros((len(params), 3, 3))
    m[:, 0, 0], m[:, 0, 1], m[:, 1, 0], m[:, 1, 1] = cos, -sin, sin, cos
    m[:, 0, 2] = cx - (cos * cx - sin * cy) + params[:, 0]
    m[:, 1, 2] = cy - (sin * cx + cos * cy) + params[:, 1]
    m[:, 2, 2] = 1
    return m


def similarity_params(matrices: np.ndarray, center: tuple[float, float]) -> np.ndarray:
    """(N, 4) parameter rows of (N, 3, 3) (or 2x3) similarity matrices about ``center``."""
    m = np.asarray(matrices)
    if m.ndim == 2:
        m = m[None]
    c = np.array(center)
    moved = np.einsum("nij,j->ni", m[:, :2, :2], c) + m[:, :2, 2]
    out = np.empty((len(m), 4))
    out[:, :2] = moved - c
    out[:, 2] = np.arctan2(m[:, 1, 0], m[:, 0, 0])
    out[:, 3] = np.log(np.hypot(m[:, 0, 0], m[:, 1, 0]))
    return out


def compose_steps(steps: np.ndarray, center: tuple[float, float]) -> np.ndarray:
    """Cumulative path (frame 0 -> frame t) from frame-to-frame steps.

    Shift and roll are composed exactly; log zoom is summed on its own. Composing the zoom
    too would multiply every later shift by the zoom accumulated so far: walking forward
    (~0.5% a frame) would inflate the path a hundredfold over a 30 s clip.
    """
    rigid = steps.astype(float).copy()
    rigid[:, 3] = 0
    matrices = similarity_matrices(rigid, center)
    total = np.eye(3)
    path = np.empty_like(rigid)
    for i, step in enumerate(matrices):
        total = step @ total if i else np.eye(3)
        path[i] = similarity_params(total, center)[0]
    path[:, 3] = np.cumsum(steps[:, 3]) - steps[0, 3]
    return path


def fill_crop(
    size: tuple[int, int], sample_aspect: float, display_aspect: float
) -> tuple[slice, slice]:
    """Rows and columns of the centred part of a ``size`` (storage pixels, of ``sample_aspect``)
    picture whose shown shape is ``display_aspect`` (width over height): scaled to an output of
    that shape, it fills it without stretching, as an editor's "scale to fill" does."""
    width, height = size
    aspect = width * sample_aspect / height
    if aspect > display_aspect * 1.001:  # wider than the output: lose the sides
        keep = round(width * display_aspect / aspect)
        left = (width - keep) // 2
        return slice(None), slice(left, left + keep)
    if aspect < display_aspect / 1.001:  # taller: lose the top and bottom
        keep = round(height * aspect / display_aspect)
        top = (height - keep) // 2
        return slice(top, top + keep), slice(None)
    return slice(None), slice(None)
