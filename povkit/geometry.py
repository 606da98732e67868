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


def path_from_steps(steps: np.ndarray) -> np.ndarray:
    """Camera path (frame 0 -> frame t) from frame-to-frame steps (:func:`steps_of` inverts it).

    Roll and log zoom are summed. A step's shift is measured in its own, rolled frame: a turn
    of the head moves the content along the tilted image axes, and a roll turns the picture
    about its centre without changing what the centre looks at. So each shift is turned back
    by the roll so far and summed: the path's shift is the camera's turn in level image axes
    (-focal * yaw, focal * pitch), and its columns are the camera's three rotations, each free
    of the others. Composing the similarities instead would swing everything turned so far by
    every roll step (a 0.3 degree roll jitter 500 px into a pan moves the shift 2.6 px), and
    composing the zoom would multiply every later shift (walking forward, ~0.5 % a frame).
    """
    steps = np.asarray(steps, dtype=float)
    path = np.empty_like(steps)
    path[:, 2:] = np.cumsum(steps[:, 2:], axis=0) - steps[0, 2:]
    level = turned(steps[:, :2], -path[:, 2])
    path[:, :2] = np.cumsum(level, axis=0) - level[0]
    return path


def steps_of(path: np.ndarray) -> np.ndarray:
    """Frame-to-frame steps (row 0 zero) of a camera path made by :func:`path_from_steps`."""
    steps = np.zeros_like(np.asarray(path, dtype=float))
    if len(path) > 1:
        steps[1:, 2:] = np.diff(path[:, 2:], axis=0)
        steps[1:, :2] = turned(np.diff(path[:, :2], axis=0), path[1:, 2])
    return steps


def picture_motion(path: np.ndarray) -> np.ndarray:
    """(N, 4) frame-0 -> frame-t similarities of camera path rows (x, y, angle[, log zoom]): the
    level turn rolled with the picture, the roll, and no zoom (the filmed zoom is not a turn)."""
    path = np.asarray(path, dtype=float)
    return np.column_stack([turned(path[:, :2], path[:, 2]), path[:, 2], np.zeros(len(path))])


def turned(shifts: np.ndarray, angles: np.ndarray) -> np.ndarray:
    """(N, 2) ``shifts`` each turned by its angle (radians, image axes: x right, y down)."""
    cos, sin = np.cos(angles), np.sin(angles)
    x, y = shifts[:, 0], shifts[:, 1]
    return np.column_stack([cos * x - sin * y, sin * x + cos * y])


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
